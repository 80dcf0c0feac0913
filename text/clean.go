package text

import (
	"errors"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"commentbot/tokens"
)

// ErrCleanRules reports invalid cleaning rules (see CleanRules.Validate).
var ErrCleanRules = errors.New("text: invalid clean rules")

// A SkipReason says why Clean dropped a comment; "" means the comment is kept.
type SkipReason string

// The reasons Clean drops a comment. Each is an identifier, so that
// "skipped_" + reason names a run-record figure.
const (
	SkipDeleted   SkipReason = "deleted"    // body or author "[deleted]"
	SkipRemoved   SkipReason = "removed"    // body "[removed]" (removed by moderators)
	SkipBot       SkipReason = "bot"        // AutoModerator or one of CleanRules.BotAccounts
	SkipBotName   SkipReason = "bot_name"   // an author name that marks a bot (CleanRules.BotNames)
	SkipBotFooter SkipReason = "bot_footer" // a body that carries a bot's footer (CleanRules.BotFooters)
	SkipEmpty     SkipReason = "empty"      // nothing left after cleaning
	SkipTooShort  SkipReason = "too_short"  // fewer than MinChars runes after cleaning
	SkipTooLong   SkipReason = "too_long"   // more than MaxChars runes after cleaning
)

// URLMode says what Clean does with a bare URL.
type URLMode string

// The URL modes.
const (
	URLsDrop        URLMode = "drop"        // remove the URL
	URLsPlaceholder URLMode = "placeholder" // replace it by CleanRules.URLPlaceholder
)

// AutoModerator is Reddit's moderation bot; Clean always drops its comments.
const AutoModerator = "AutoModerator"

// CleanRules say which comments to keep and how to clean their bodies.
// The zero value is usable: it keeps URLs as tokens.URLToken and has no length
// limits beyond dropping empty bodies.
type CleanRules struct {
	// BotAccounts are author names whose comments are dropped, compared
	// case-insensitively. AutoModerator is always dropped.
	BotAccounts []string
	// BotNames match author names that mark an account as a bot
	// (HollywoodBot, DRM_Removal_Bot), unless one of BotNameExceptions
	// matches too (Talbot, FriendlyRobot). See DefaultBotNames.
	BotNames, BotNameExceptions []*regexp.Regexp
	// BotFooters match the cleaned body of a bot's comment ("I am a bot",
	// "this action was performed automatically"). See DefaultBotFooters.
	BotFooters []*regexp.Regexp
	// URLs is what happens to bare URLs; "" means URLsPlaceholder.
	URLs URLMode
	// URLPlaceholder replaces a bare URL in URLsPlaceholder mode; "" means
	// tokens.URLToken ("<url>"), which WordTokens keeps as one token. A custom
	// placeholder should be a single plain word so that it stays one token.
	URLPlaceholder string
	// MinChars and MaxChars bound the cleaned body's length in runes;
	// 0 means no bound.
	MinChars, MaxChars int
}

// DefaultCleanRules returns the rules the corpus uses unless configured:
// bots are known by DefaultBotNames (with DefaultBotNameExceptions) and
// DefaultBotFooters, URLs become tokens.URLToken, and cleaned bodies of 2 to 2000
// runes are kept (2000 is also Discord's message limit, so the models learn
// comments that fit).
func DefaultCleanRules() CleanRules {
	return CleanRules{
		BotNames:          mustCompile(DefaultBotNames()),
		BotNameExceptions: mustCompile(DefaultBotNameExceptions()),
		BotFooters:        mustCompile(DefaultBotFooters()),
		URLs:              URLsPlaceholder,
		URLPlaceholder:    tokens.URLToken,
		MinChars:          2,
		MaxChars:          2000,
	}
}

// DefaultBotNames returns the default patterns (Go regexp syntax) of author
// names that mark a bot: a name ending in "bot" (PoliticsModeratorBot,
// HollywoodBot, DRM_Removal_Bot, autowikibot, a digit suffix allowed), "bot"
// as an underscore- or hyphen-separated part of the name (bot_of_news), and a
// capitalised "Bot" prefix (BotDefense).
func DefaultBotNames() []string {
	return []string{`(?i)bot\d*$`, `(?i)(^|[_-])bot([_-]|$)`, `^Bot[A-Z]`}
}

// DefaultBotNameExceptions returns the default patterns of names that end in
// "bot" but are words or names: robot, abbot, Talbot, Cabot, sabot.
func DefaultBotNameExceptions() []string {
	return []string{`(?i)(ro|ab|tal|ca|sa)bot\d*$`}
}

// DefaultBotFooters returns the default patterns of bot footers, matched
// against the cleaned body (so "^(I ^am ^a ^bot)" reads "I am a bot"):
// "I am a bot" / "I'm a bot", "this action was performed automatically"
// (AutoModerator's footer, which other moderation bots copy) and "this
// message was created by a bot" with its variants.
func DefaultBotFooters() []string {
	return []string{
		`(?i)\bI(?: am|'m) a bot\b`,
		`(?i)\bthis action was performed automatically\b`,
		`(?i)\bthis (?:message|comment|reply|post) was (?:created|generated|posted|made) (?:by a bot|automatically)\b`,
	}
}

// CompilePatterns compiles regexp patterns (Go's RE2 syntax), naming the
// field and index of each one that does not compile. All problems are
// reported at once, each wrapping ErrCleanRules.
func CompilePatterns(field string, patterns []string) ([]*regexp.Regexp, error) {
	out := make([]*regexp.Regexp, 0, len(patterns))
	var errs []error
	for i, p := range patterns {
		re, err := regexp.Compile(p)
		switch {
		case strings.TrimSpace(p) == "":
			errs = append(errs, fmt.Errorf("%w: %s[%d]: empty pattern (it would match everything)", ErrCleanRules, field, i))
		case err != nil:
			errs = append(errs, fmt.Errorf("%w: %s[%d]: %w", ErrCleanRules, field, i, err))
		default:
			out = append(out, re)
		}
	}
	return out, errors.Join(errs...)
}

func mustCompile(patterns []string) []*regexp.Regexp {
	res, err := CompilePatterns("default", patterns)
	if err != nil {
		panic(err) // the defaults are constants, tested
	}
	return res
}

// Validate reports every problem with r at once, each wrapping ErrCleanRules.
func (r CleanRules) Validate() error {
	var errs []error
	switch r.URLs {
	case "", URLsDrop, URLsPlaceholder:
	default:
		errs = append(errs, fmt.Errorf("%w: urls: %q is not %q or %q", ErrCleanRules, r.URLs, URLsDrop, URLsPlaceholder))
	}
	if strings.IndexFunc(r.URLPlaceholder, unicode.IsSpace) >= 0 {
		errs = append(errs, fmt.Errorf("%w: url placeholder %q: must not contain whitespace", ErrCleanRules, r.URLPlaceholder))
	}
	if r.MinChars < 0 {
		errs = append(errs, fmt.Errorf("%w: min chars %d: must not be negative", ErrCleanRules, r.MinChars))
	}
	if r.MaxChars < 0 {
		errs = append(errs, fmt.Errorf("%w: max chars %d: must not be negative", ErrCleanRules, r.MaxChars))
	}
	if r.MinChars > 0 && r.MaxChars > 0 && r.MinChars > r.MaxChars {
		errs = append(errs, fmt.Errorf("%w: min chars %d is above max chars %d", ErrCleanRules, r.MinChars, r.MaxChars))
	}
	for i, b := range r.BotAccounts {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, fmt.Errorf("%w: bot accounts[%d]: empty name", ErrCleanRules, i))
		}
	}
	for _, f := range []struct {
		name string
		res  []*regexp.Regexp
	}{{"bot names", r.BotNames}, {"bot name exceptions", r.BotNameExceptions}, {"bot footers", r.BotFooters}} {
		for i, re := range f.res {
			if re == nil || re.String() == "" {
				errs = append(errs, fmt.Errorf("%w: %s[%d]: empty pattern (it would match everything)", ErrCleanRules, f.name, i))
			}
		}
	}
	return errors.Join(errs...)
}

// Clean decides whether a comment by author with body belongs in the corpus
// and returns its cleaned body ("" with the reason when it is dropped). A
// comment is dropped, in this order, when its body is "[deleted]" or
// "[removed]", its author is "[deleted]", its author is AutoModerator or one
// of BotAccounts (case-insensitively), its author's name matches BotNames and
// no BotNameExceptions, its cleaned body matches BotFooters, or its cleaned
// body is empty, shorter than MinChars or longer than MaxChars runes.
// CleanBody describes the cleaning itself.
func (r CleanRules) Clean(author, body string) (string, SkipReason) {
	switch strings.TrimSpace(body) {
	case "[deleted]":
		return "", SkipDeleted
	case "[removed]":
		return "", SkipRemoved
	}
	author = strings.TrimSpace(author)
	if author == "[deleted]" {
		return "", SkipDeleted
	}
	if r.isBot(author) {
		return "", SkipBot
	}
	if matchesAny(r.BotNames, author) && !matchesAny(r.BotNameExceptions, author) {
		return "", SkipBotName
	}
	body = r.CleanBody(body)
	n := utf8.RuneCountInString(body)
	switch {
	case matchesAny(r.BotFooters, body):
		return "", SkipBotFooter
	case n == 0:
		return "", SkipEmpty
	case r.MinChars > 0 && n < r.MinChars:
		return "", SkipTooShort
	case r.MaxChars > 0 && n > r.MaxChars:
		return "", SkipTooLong
	}
	return body, ""
}

func matchesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func (r CleanRules) isBot(author string) bool {
	if strings.EqualFold(author, AutoModerator) {
		return true
	}
	for _, b := range r.BotAccounts {
		if strings.EqualFold(author, strings.TrimSpace(b)) {
			return true
		}
	}
	return false
}

// CleanBody turns a Reddit comment body (markdown, possibly HTML-escaped)
// into plain text, in this order:
//
//  1. invalid UTF-8 becomes U+FFFD, line ends become "\n";
//  2. HTML entities are unescaped until nothing changes (Reddit sometimes
//     escapes twice: "&amp;gt;" → "&gt;" → ">");
//  3. typographic quotes become straight ones (’ ‘ → ', “ ” „ → "), so that
//     "don’t" tokenizes as "don't"; zero-width and control characters
//     (other than newline and tab) are removed, and the private-use runes
//     U+E000–U+E17F (internal markers) become U+FFFD;
//  4. blocks: fenced code (``` or ~~~, to the closing fence or the end),
//     indented code (4 spaces or a tab after a blank line), quoted lines
//     (starting with ">", with their lazy continuation lines up to the next
//     blank line, but not ">!spoilers!<") and horizontal rules are removed;
//     header marks ("# ") and list markers ("- ", "* ", "+ ", "1. ", "1) ")
//     are removed from the start of lines;
//  5. inline: markdown links [text](url) keep their text; bare URLs
//     (http://, https://, www.) are dropped or replaced by the placeholder;
//     emphasis (*, **, ***, _, __ at word edges, ~~), superscript (^word,
//     ^(words)), inline code and spoilers keep their text without the marks;
//     backslash escapes keep the escaped character;
//  6. whitespace: paragraphs (separated by blank lines) are kept as "\n\n";
//     every other run of whitespace becomes one space; the ends are trimmed.
func (r CleanRules) CleanBody(body string) string {
	s := strings.ToValidUTF8(body, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for range 8 {
		u := html.UnescapeString(s)
		if u == s {
			break
		}
		s = u
	}
	s = strings.Map(normalizeRune, s)
	paras := cleanBlocks(s)
	for i, p := range paras {
		paras[i] = CollapseSpace(r.cleanInline(p))
	}
	out := paras[:0]
	for _, p := range paras {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "\n\n")
}

// normalizeRune maps typographic quotes to straight ones and drops
// zero-width and control characters (strings.Map drops runes mapped to -1).
func normalizeRune(r rune) rune {
	switch r {
	case '‘', '’', '‛', '′':
		return '\''
	case '“', '”', '„', '‟', '″':
		return '"'
	case '\n', '\t':
		return r
	case '\u200b', '\u200c', '\u2060', '\ufeff', '\u00ad':
		return -1
	case utf8.RuneError:
		return r
	}
	if r >= 0xE000 && r < 0xE180 {
		// The private-use runes this package uses as internal markers.
		return utf8.RuneError
	}
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

var (
	reRule       = regexp.MustCompile(`^ {0,3}(?:(?:\* *){3,}|(?:- *){3,}|(?:_ *){3,})$`)
	reHeader     = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]+|$)`)
	reHeaderTail = regexp.MustCompile(`[ \t]+#+[ \t]*$`)
	reListMarker = regexp.MustCompile(`^ {0,3}(?:[-*+]|\d{1,9}[.)]) +`)
	reBold3      = regexp.MustCompile(`\*\*\*(\S|\S[^*\n]*?\S)\*\*\*`)
	reBold2      = regexp.MustCompile(`\*\*(\S|\S[^*\n]*?\S)\*\*`)
	reItalic     = regexp.MustCompile(`(^|[^\p{L}\p{N}*])\*(\S|\S[^*\n]*?\S)\*`)
	reUnder2     = regexp.MustCompile(`(^|[^\p{L}\p{N}_])__(\S|\S[^_\n]*?\S)__($|[^\p{L}\p{N}_])`)
	reUnder1     = regexp.MustCompile(`(^|[^\p{L}\p{N}_])_(\S|\S[^_\n]*?\S)_($|[^\p{L}\p{N}_])`)
	reStrike     = regexp.MustCompile(`~~(\S|\S[^~\n]*?\S)~~`)
	reSupParen   = regexp.MustCompile(`\^+\(([^()\n]*)\)`)
	reSupCaret   = regexp.MustCompile(`\^+(\S)`)
	reInlineCode = regexp.MustCompile("`+([^`\n]+)`+")
	reSpoiler    = regexp.MustCompile(`(?s)>!(.*?)!<`)
)

// cleanBlocks removes block-level markdown and returns the paragraphs.
func cleanBlocks(s string) []string {
	var paras []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			paras = append(paras, strings.Join(cur, "\n"))
			cur = cur[:0]
		}
	}
	inFence, inQuote, inCode := false, false, false
	fence := ""
	prevBlank := true
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimLeft(line, " \t")
		blank := strings.TrimSpace(line) == ""
		switch {
		case inFence:
			if strings.HasPrefix(trimmed, fence) {
				inFence = false
			}
			prevBlank = false
			continue
		case strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~"):
			inFence, fence = true, trimmed[:3]
			flush()
			continue
		case blank:
			inQuote, inCode = false, false
			flush()
			prevBlank = true
			continue
		case inQuote:
			continue
		case strings.HasPrefix(trimmed, ">") && !strings.HasPrefix(trimmed, ">!"):
			inQuote = true
			flush()
			continue
		case (prevBlank || inCode) && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")):
			inCode = true
			continue
		case reRule.MatchString(line):
			flush()
			prevBlank = true
			continue
		}
		inCode = false
		prevBlank = false
		if loc := reHeader.FindStringIndex(line); loc != nil {
			line = reHeaderTail.ReplaceAllString(line[loc[1]:], "")
			cur = append(cur, line)
			flush() // a header is a paragraph of its own
			continue
		}
		line = reListMarker.ReplaceAllString(line, "")
		cur = append(cur, line)
	}
	flush()
	return paras
}

// escapable are the characters a markdown backslash escape protects.
const escapable = "\\`*_{}[]()#+-.!>~^|"

// cleanInline removes inline markdown and URLs from one paragraph.
func (r CleanRules) cleanInline(p string) string {
	// Protect backslash escapes from the emphasis rules: \* becomes a
	// private-use rune and comes back as * at the end.
	if strings.ContainsRune(p, '\\') {
		var b strings.Builder
		for i := 0; i < len(p); i++ {
			if p[i] == '\\' && i+1 < len(p) && strings.IndexByte(escapable, p[i+1]) >= 0 {
				b.WriteRune(0xE100 + rune(p[i+1]))
				i++
				continue
			}
			b.WriteByte(p[i])
		}
		p = b.String()
	}
	p = replaceLinks(p)
	p = r.replaceURLs(p)
	p = reSpoiler.ReplaceAllString(p, "${1}")
	p = reInlineCode.ReplaceAllString(p, "${1}")
	p = reBold3.ReplaceAllString(p, "${1}")
	p = reBold2.ReplaceAllString(p, "${1}")
	for range 2 { // twice: a match consumes the boundary rune before the next
		p = reItalic.ReplaceAllString(p, "${1}${2}")
		p = reUnder2.ReplaceAllString(p, "${1}${2}${3}")
		p = reUnder1.ReplaceAllString(p, "${1}${2}${3}")
	}
	p = reStrike.ReplaceAllString(p, "${1}")
	p = reSupParen.ReplaceAllString(p, "${1}")
	p = reSupCaret.ReplaceAllString(p, "${1}")
	return strings.Map(func(r rune) rune {
		if r >= 0xE100 && r < 0xE180 {
			return r - 0xE100
		}
		return r
	}, p)
}

// replaceURLs drops bare URLs or replaces them by the placeholder. An
// autolink's angle brackets (<http://…>) go with it.
func (r CleanRules) replaceURLs(p string) string {
	spans := findURLs(p)
	if len(spans) == 0 {
		return p
	}
	repl := ""
	if r.URLs != URLsDrop {
		repl = r.URLPlaceholder
		if repl == "" {
			repl = tokens.URLToken
		}
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		i, j := sp[0], sp[1]
		if i > 0 && p[i-1] == '<' && j < len(p) && p[j] == '>' {
			i, j = i-1, j+1
		}
		if i < last {
			continue
		}
		b.WriteString(p[last:i])
		b.WriteString(repl)
		last = j
	}
	b.WriteString(p[last:])
	return b.String()
}

// CollapseSpace turns every run of whitespace (the characters Python's
// str.split splits on, as NLTK sees them) into one space and trims the
// ends.
func CollapseSpace(s string) string {
	return strings.Join(strings.FieldsFunc(s, isPySpace), " ")
}
