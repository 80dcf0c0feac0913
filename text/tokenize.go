package text

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"commentbot/tokens"
)

// WordTokens reproduces the seed's preprocessing with NLTK 3.8: the text is
// lower-cased, split into sentences as sent_tokenize does for English (see
// Sentences), and each sentence goes through word_tokenize (Punkt once more,
// then the improved Treebank rules of NLTKWordTokenizer), wrapped in
// tokens.SentenceStart … tokens.SentenceEnd. Sentences without any word are left out.
// Whitespace is kept as it is: NLTK's clitic and quote rules want a literal
// space, so "don't" before a line break stays one token, as in NLTK.
//
// The golden files in testdata/nltk (tools/nltk-golden.py) hold NLTK's own
// answers for the embedded and the seed sample, and TestNLTKDifferential
// compares random texts with NLTK. The differences, each on purpose:
// tokens.URLToken is one token (NLTK: "<", "url", ">"), and so are bare URLs
// ("http://…", "https://…", "www.…"; NLTK cuts "http://x.org/a?b" at ":" and
// "?"), which cleaned text no longer holds. Differences in corners: invalid
// UTF-8 becomes U+FFFD; lower-casing is Unicode's simple mapping (Python's
// str.lower writes "İ" as "i̇" and a word-final "Σ" as "ς"); the
// case-insensitive contraction rules fold ASCII letters only (Python's also
// folds "ı" and "ſ"); the private-use rune U+E000 becomes U+FFFD.
//
// Invariants (fuzzed): every token is non-empty and holds no whitespace, and
// the result is a sequence of tokens.SentenceStart w₁ … wₙ tokens.SentenceEnd groups with
// n ≥ 1.
//
//	WordTokens("I joined a new league this year and they have different scoring rules than I'm used to.")
//	→ SENTENCE_START i joined … than i 'm used to . SENTENCE_END
func WordTokens(text string) []string {
	var out []string
	for _, s := range WordSentences(text) {
		out = append(out, tokens.SentenceStart)
		out = append(out, s.Words...)
		out = append(out, tokens.SentenceEnd)
	}
	return out
}

// Words is WordTokens without the sentence markers: the word tokens of text in
// order. The n-gram index and statistics use it.
func Words(text string) []string {
	var out []string
	for _, s := range WordSentences(text) {
		out = append(out, s.Words...)
	}
	return out
}

// A Sentence is one sentence as the word level reads it: its text, lower-cased
// and split as WordTokens splits it, and its word tokens without the
// sentence markers.
type Sentence struct {
	Text  string
	Words []string
}

// WordSentences returns the sentences of text that hold at least one word,
// each with its word tokens: WordTokens is their concatenation, each wrapped
// in tokens.SentenceStart … tokens.SentenceEnd.
func WordSentences(text string) []Sentence {
	text = strings.ToLower(strings.ToValidUTF8(text, "\uFFFD"))
	var out []Sentence
	for _, s := range Sentences(text) {
		// The seed calls word_tokenize on each sentence, which splits it
		// with Punkt once more and tokenizes each part; once in a while a
		// sentence splits again ("wow?" "!" realigned, say).
		var words []string
		for _, part := range Sentences(s) {
			words = append(words, treebankWords(part)...)
		}
		if len(words) > 0 {
			out = append(out, Sentence{Text: s, Words: words})
		}
	}
	return out
}

// pySpaceClass is Python's \s on str (the runes isPySpace accepts) as a Go
// regexp class; Go's own \s is ASCII only.
const pySpaceClass = `[\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]`

// isPySpace reports whether Python's str.isspace (and so the regexp class \s
// on str) accepts r.
func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// isPyWord reports whether Python's \w on str accepts r: letters, numbers and
// the underscore.
func isPyWord(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// ---------------------------------------------------------------------------
// Treebank word tokenizer (NLTK's NLTKWordTokenizer, reimplemented).
//
// The compiled expressions below are immutable and safe for concurrent use;
// rules that need look-around in Python are small scanners instead.

var (
	reStartQuote = regexp.MustCompile("([«“‘„]|`+)")
	reOpenDouble = regexp.MustCompile(`([ (\[{<])("|'')`)
	reColonComma = regexp.MustCompile(`([:,])([^\p{Nd}])`)
	reColonEnd   = regexp.MustCompile(`([:,])$`)
	reDots       = regexp.MustCompile(`\.{2,}`)
	reSymbols    = regexp.MustCompile(`[;@#$%&]`)
	reQE         = regexp.MustCompile(`[?!]`)
	reQuoteSpace = regexp.MustCompile(`([^'])' `)
	reBrackets   = regexp.MustCompile(`[\][(){}<>]`)
	reEndQuote   = regexp.MustCompile(`([»”’])`)
	reSpaces     = regexp.MustCompile(` +`)
	reClitic1    = regexp.MustCompile(`([^' ])('[sS]|'[mM]|'[dD]|') `)
	reClitic2    = regexp.MustCompile(`([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) `)
)

// protected is the private-use rune that stands for a URL while the Treebank
// rules run; no rule touches it.
const protected = '\uE000'

// treebankWords splits one sentence into Treebank word tokens. Like NLTK's
// rules it tells the space, which some rules write literally, from other
// whitespace, which only \s matches.
func treebankWords(s string) []string {
	s, urls := protectURLs(s)

	// Starting quotes. Each rule runs only when the text holds a rune it
	// can match: most sentences skip most rules.
	if strings.ContainsAny(s, "«“‘„`") {
		s = reStartQuote.ReplaceAllString(s, " ${1} ")
	}
	if strings.HasPrefix(s, `"`) {
		s = "``" + s[1:]
	}
	s = strings.ReplaceAll(s, "``", " `` ")
	if strings.ContainsAny(s, `"'`) {
		s = reOpenDouble.ReplaceAllString(s, "${1} `` ")
	}
	s = splitOpeningQuote(s)

	// Punctuation.
	hasPeriod := strings.Contains(s, ".")
	if hasPeriod {
		s = splitFinalPeriod(s, `])}>"'»”’ `, " . ")
	}
	if strings.ContainsAny(s, ":,") {
		s = reColonComma.ReplaceAllString(s, " ${1} ${2}")
		s = reColonEnd.ReplaceAllString(s, " ${1} ")
	}
	if strings.Contains(s, "..") {
		s = reDots.ReplaceAllString(s, " ${0} ")
	}
	if strings.ContainsAny(s, ";@#$%&") {
		s = reSymbols.ReplaceAllString(s, " ${0} ")
	}
	if hasPeriod {
		s = splitFinalPeriod(s, `])}>"'`, " .")
	}
	if strings.ContainsAny(s, "?!") {
		s = reQE.ReplaceAllString(s, " ${0} ")
	}
	hasApostrophe := strings.Contains(s, "'")
	if hasApostrophe {
		s = reQuoteSpace.ReplaceAllString(s, "${1} ' ")
	}
	s = strings.ReplaceAll(s, "*", " * ")

	// Brackets and double dashes.
	if strings.ContainsAny(s, "[](){}<>") {
		s = reBrackets.ReplaceAllString(s, " ${0} ")
	}
	s = strings.ReplaceAll(s, "--", " -- ")
	s = " " + s + " "

	// Ending quotes and clitics.
	if strings.ContainsAny(s, "»”’") {
		s = reEndQuote.ReplaceAllString(s, " ${1} ")
	}
	s = strings.ReplaceAll(s, "''", " '' ")
	s = strings.ReplaceAll(s, `"`, " '' ")
	if strings.Contains(s, "  ") {
		s = reSpaces.ReplaceAllString(s, " ")
	}
	if hasApostrophe {
		s = reClitic1.ReplaceAllString(s, "${1} ${2} ")
		s = reClitic2.ReplaceAllString(s, "${1} ${2} ")
	}

	// MacIntyre contractions: cannot → can not, gonna → gon na, …
	s = splitContractions(s)

	toks := strings.FieldsFunc(s, isPySpace)
	if len(urls) > 0 {
		k := 0
		for i, t := range toks {
			if t == string(protected) && k < len(urls) {
				toks[i] = urls[k]
				k++
			}
		}
	}
	return joinURLToken(toks)
}

// joinURLToken joins NLTK's "<" "url" ">" into tokens.URLToken, the cleaner's URL
// placeholder: the one place where the tokens differ from NLTK's on purpose.
func joinURLToken(toks []string) []string {
	out := toks[:0]
	for i := 0; i < len(toks); i++ {
		if toks[i] == "<" && i+2 < len(toks) && toks[i+1] == "url" && toks[i+2] == ">" {
			out = append(out, tokens.URLToken)
			i += 2
			continue
		}
		out = append(out, toks[i])
	}
	return out
}

// splitFinalPeriod is NLTK's final-period rule ([^.])(\.)([closers]*)\s*$ →
// "\1" + dot + "\3 ": the last period of s, unless another period precedes
// it, when only closers follow it and then only whitespace. dot is " . " for
// the first rule (closers with the space and curly quotes) and " ." for the
// second. A scanner: the regexp backtracks from every rune of a sentence.
func splitFinalPeriod(s, closers, dot string) string {
	i := strings.LastIndexByte(s, '.')
	if i < 1 || s[i-1] == '.' {
		return s
	}
	j := i + 1
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !strings.ContainsRune(closers, r) {
			break
		}
		j += size
	}
	if strings.TrimLeftFunc(s[j:], isPySpace) != "" {
		return s
	}
	return s[:i] + dot + s[i+1:j] + " "
}

// splitOpeningQuote inserts a space after an apostrophe that is followed by
// one word rune and a word boundary, unless that rune is one of the clitic
// letters m, t, s, d, n in either case: NLTK 3.8's
// (?i)(\')(?!re|ve|ll|m|t|s|d|n)(\w)\b → "' x". So "'a" and "'b'" split,
// while "'looking", "'90s", "'tis" and "'s" stay whole. Python's
// case-insensitive "s" also matches "ſ" (U+017F).
func splitOpeningQuote(s string) string {
	if !strings.Contains(s, "'") {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '\'' {
			continue
		}
		x, size := utf8.DecodeRuneInString(s[i+1:])
		if size == 0 || !isPyWord(x) || strings.ContainsRune("mMtTsSdDnN\u017f", x) {
			continue
		}
		if after, _ := utf8.DecodeRuneInString(s[i+1+size:]); i+1+size < len(s) && isPyWord(after) {
			continue
		}
		b.WriteString(s[last : i+1])
		b.WriteByte(' ')
		last = i + 1
		i += size
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// contraction is one MacIntyre contraction: first+second written together
// become two tokens. spaceAfter asks for whitespace after the word instead of
// a word boundary (Python's (?=\s) for "wanna"); leadingSpace asks for a
// literal space before it instead of a word boundary (" 'tis").
type contraction struct {
	first, second            string
	spaceAfter, leadingSpace bool
}

// splitContractions applies NLTK's CONTRACTIONS2 and CONTRACTIONS3 rules in
// order, each one to the whole text, case-insensitively.
func splitContractions(s string) string {
	lower := asciiLower(s)
	for _, c := range [...]contraction{
		{first: "can", second: "not"},
		{first: "d", second: "'ye"},
		{first: "gim", second: "me"},
		{first: "gon", second: "na"},
		{first: "got", second: "ta"},
		{first: "lem", second: "me"},
		{first: "more", second: "'n"},
		{first: "wan", second: "na", spaceAfter: true},
		{first: "'t", second: "is", leadingSpace: true},
		{first: "'t", second: "was", leadingSpace: true},
	} {
		// Most text holds no contraction: test on one lower-cased copy and
		// only apply (and lower-case again) when the word is there.
		if !strings.Contains(lower, c.first+c.second) {
			continue
		}
		s = c.apply(s)
		lower = asciiLower(s)
	}
	return s
}

func (c contraction) apply(s string) string {
	word := c.first + c.second
	// The patterns are ASCII, so an ASCII fold keeps byte offsets aligned.
	lower := asciiLower(s)
	if !strings.Contains(lower, word) {
		return s
	}
	var b strings.Builder
	last := 0
	for from := 0; from < len(s); {
		k := strings.Index(lower[from:], word)
		if k < 0 {
			break
		}
		i := from + k
		j := i + len(word)
		ok := true
		if c.leadingSpace {
			ok = i > 0 && s[i-1] == ' '
		} else if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(s[:i])
			ok = !isPyWord(prev)
		}
		if ok {
			next, _ := utf8.DecodeRuneInString(s[j:])
			if c.spaceAfter {
				ok = j < len(s) && isPySpace(next)
			} else {
				ok = j == len(s) || !isPyWord(next)
			}
		}
		if !ok {
			from = i + 1
			continue
		}
		if c.leadingSpace {
			// The pattern " ('t)(is)" consumes the space and puts it back.
			b.WriteString(s[last : i-1])
		} else {
			b.WriteString(s[last:i])
		}
		b.WriteByte(' ')
		b.WriteString(s[i : i+len(c.first)])
		b.WriteByte(' ')
		b.WriteString(s[i+len(c.first) : j])
		b.WriteByte(' ')
		last = j
		from = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// URLs stay whole.

// findURLs returns the byte spans of bare URLs in s: "http://", "https://" or
// "www." up to the next whitespace or one of <>"`, without trailing sentence
// punctuation and without a closing parenthesis that has no opening one inside
// the URL.
func findURLs(s string) [][2]int {
	var spans [][2]int
	lower := asciiLower(s)
	for from := 0; from < len(s); {
		i := indexURLStart(lower, from)
		if i < 0 {
			break
		}
		j := i
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if isPySpace(r) || r == '<' || r == '>' || r == '"' || r == '`' {
				break
			}
			j += size
		}
		j = trimURLEnd(s, i, j)
		if j-i > len("www.") {
			spans = append(spans, [2]int{i, j})
		}
		from = max(j, i+1)
	}
	return spans
}

// indexURLStart finds the next "http://", "https://" or "www." at or after
// from that does not continue a word.
func indexURLStart(lower string, from int) int {
	for from < len(lower) {
		best := -1
		for _, p := range [...]string{"http://", "https://", "www."} {
			if k := strings.Index(lower[from:], p); k >= 0 && (best < 0 || from+k < best) {
				best = from + k
			}
		}
		if best < 0 {
			return -1
		}
		prev, _ := utf8.DecodeLastRuneInString(lower[:best])
		if best == 0 || !isPyWord(prev) {
			return best
		}
		from = best + 1
	}
	return -1
}

func trimURLEnd(s string, i, j int) int {
	for j > i {
		c := s[j-1]
		switch c {
		case '.', ',', ';', ':', '!', '?', '\'', '*', ']', '}':
			j--
			continue
		case ')':
			if strings.Count(s[i:j], "(") < strings.Count(s[i:j], ")") {
				j--
				continue
			}
		}
		break
	}
	return j
}

// protectURLs replaces every URL in s by the protected rune,
// padded with spaces, and returns the originals in order.
func protectURLs(s string) (string, []string) {
	if strings.ContainsRune(s, protected) {
		s = strings.ReplaceAll(s, string(protected), "\uFFFD")
	}
	spans := findURLs(s)
	if len(spans) == 0 {
		return s, nil
	}
	var b strings.Builder
	urls := make([]string, 0, len(spans))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		b.WriteString(" \uE000 ")
		urls = append(urls, s[sp[0]:sp[1]])
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String(), urls
}

// ---------------------------------------------------------------------------
// Punkt sentence splitting (NLTK's PunktSentenceTokenizer, reimplemented).

// Sentences splits text into sentences the way NLTK's sent_tokenize does for
// English: Kiss & Strunk's Punkt algorithm, with the decision procedure of
// PunktSentenceTokenizer (candidate contexts "word[.?!]" followed by
// punctuation or whitespace and a token; first pass: "." "?" "!" tokens and
// non-abbreviation words ending in "." are breaks, runs of dots are
// ellipses; second pass: abbreviations and ellipses break only before a word
// the orthographic heuristic calls a sentence starter, initials and numbers
// ending in "." do not break before a lower-case word; closing quotes and
// brackets after a break are realigned into the sentence before).
//
// NLTK's trained English parameters (english.pickle, not packaged with
// NLTK) are replaced by a fixed list of common English abbreviations
// (punktAbbreviations: mr, dr, e.g, i.e, u.s, jan, …) and sentence starters
// (punktSentenceStarters: capitalised "The", "It", … start a sentence after
// an abbreviation); a lower-case word never starts a sentence after an
// abbreviation, initial, number or ellipsis. On lower-cased text — the seed
// lower-cases first — NLTK's model decides the same but for abbreviations
// outside the list. Like NLTK, a "?!" or "!!" run that ends the text splits
// before its last rune ("Wow?!" → "Wow?", "!"). The sentences are returned
// with surrounding whitespace trimmed; empty ones are dropped.
func Sentences(text string) []string {
	var out []string
	for _, sp := range sentenceSpans(text) {
		if s := strings.TrimFunc(text[sp[0]:sp[1]], isPySpace); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// punktNonWord reports the runes Punkt's _re_non_word_chars accepts: they
// cannot appear within words.
func punktNonWord(r rune) bool {
	return strings.ContainsRune(`?!)";}]*:@'({[`, r)
}

// punktWordStartExcluded reports the runes that cannot start a Punkt word
// token (the complement of _re_word_start).
func punktWordStartExcluded(r rune) bool {
	return strings.ContainsRune("(\"`{[:;&#*@)}]-,", r)
}

// periodContext is one candidate sentence end of Punkt's
// _match_potential_end_contexts: text[end-1] is a "." "?" or "!";
// text[start:afterEnd] is the context (the word before, the end rune, and
// what follows it: one non-word rune, or whitespace and the next token);
// nextTok is the start of that next token, or -1 when a non-word rune
// followed.
type periodContext struct {
	start, end, afterEnd, nextTok int
}

// endContexts returns the candidate sentence ends of text in order, as
// NLTK 3.8 finds them: every [.?!] followed by a non-word rune, or by
// whitespace and a token; the word before it starts after the last ASCII
// whitespace since the previous candidate (Python's string.whitespace), or
// where the previous candidate's word started; a candidate whose word
// overlaps the next candidate's is dropped, so of "acting!!!" only the last
// "!" remains.
func endContexts(text string) []periodContext {
	var out []periodContext
	var prev periodContext
	havePrev := false
	prevStart, prevStop := 0, 0
	for p := 0; p < len(text); p++ {
		if c := text[p]; c != '.' && c != '?' && c != '!' {
			continue
		}
		m, ok := endContextAt(text, p)
		if !ok {
			continue
		}
		start := prevStart
		if k := strings.LastIndexAny(text[prevStop:p], " \t\n\r\v\f"); k > 0 {
			start = prevStop + k + 1
		}
		if havePrev && prevStop <= start {
			out = append(out, prev)
		}
		m.start = start
		prev, havePrev = m, true
		prevStart, prevStop = start, p
	}
	if havePrev {
		out = append(out, prev)
	}
	return out
}

// endContextAt matches Punkt's period context at text[p], a "." "?" or "!":
// (?=(NonWord|\s+(\S+))). The start of the word before is left to the caller.
func endContextAt(text string, p int) (periodContext, bool) {
	k := p + 1
	if r, size := utf8.DecodeRuneInString(text[k:]); size > 0 && punktNonWord(r) {
		return periodContext{end: k, afterEnd: k + size, nextTok: -1}, true
	}
	w := k
	for w < len(text) {
		r, size := utf8.DecodeRuneInString(text[w:])
		if !isPySpace(r) {
			break
		}
		w += size
	}
	if w == k || w == len(text) {
		return periodContext{}, false
	}
	e := w
	for e < len(text) {
		r, size := utf8.DecodeRuneInString(text[e:])
		if isPySpace(r) {
			break
		}
		e += size
	}
	return periodContext{end: k, afterEnd: e, nextTok: w}, true
}

// sentenceSpans returns the byte spans of the sentences of text, after
// boundary realignment (Punkt's _slices_from_text and _realign_boundaries).
func sentenceSpans(text string) [][2]int {
	var slices [][2]int
	lastBreak := 0
	for _, m := range endContexts(text) {
		if punktContainsBreak(text[m.start:m.afterEnd]) {
			slices = append(slices, [2]int{lastBreak, m.end})
			if m.nextTok >= 0 {
				lastBreak = m.nextTok
			} else {
				lastBreak = m.end
			}
		}
	}
	slices = append(slices, [2]int{lastBreak, len(strings.TrimRightFunc(text, isPySpace))})
	return realignBoundaries(text, slices)
}

// realignBoundaries moves closing quotes and brackets that follow a break
// into the sentence before (Punkt's _realign_boundaries with
// ["')\]}]+?(?:\s+|(?=--)|$), multi-line).
func realignBoundaries(text string, slices [][2]int) [][2]int {
	out := make([][2]int, 0, len(slices))
	realign := 0
	for i, sl := range slices {
		sl[0] += realign
		if i == len(slices)-1 {
			if sl[0] < sl[1] {
				out = append(out, sl)
			}
			continue
		}
		next := slices[i+1]
		if n, end := matchRealign(text[next[0]:next[1]]); n > 0 {
			out = append(out, [2]int{sl[0], next[0] + n})
			realign = end
		} else {
			realign = 0
			if sl[0] < sl[1] {
				out = append(out, sl)
			}
		}
	}
	return out
}

// matchRealign matches ["')\]}]+? followed by whitespace, "--", a line end or
// the end at the start of s. It returns the length of the closing run and
// the length of the whole match (run plus whitespace), or 0, 0.
func matchRealign(s string) (run, end int) {
	for n := 1; n <= len(s) && strings.IndexByte(`"')]}`, s[n-1]) >= 0; n++ {
		rest := s[n:]
		ws := len(rest) - len(strings.TrimLeftFunc(rest, isPySpace))
		switch {
		case ws > 0:
			return n, n + ws
		case rest == "" || strings.HasPrefix(rest, "--"):
			return n, n
		}
	}
	return 0, 0
}

// punktToken is a Punkt word token with its annotations.
type punktToken struct {
	tok                       string
	typ                       string // lower-cased; numbers become "##number##"
	periodFinal               bool
	sentbreak, abbr, ellipsis bool
}

const punktNumber = "##number##"

func newPunktToken(tok string) punktToken {
	typ := strings.ToLower(tok)
	if isPunktNumeric(typ) {
		typ = punktNumber
	}
	return punktToken{tok: tok, typ: typ, periodFinal: strings.HasSuffix(tok, ".")}
}

// typeNoPeriod is the type without its final period (if longer than one rune).
func (t *punktToken) typeNoPeriod() string {
	if utf8.RuneCountInString(t.typ) > 1 && strings.HasSuffix(t.typ, ".") {
		return t.typ[:len(t.typ)-1]
	}
	return t.typ
}

// isInitial matches [^\W\d]\. : one letter (or underscore) and a period.
func (t *punktToken) isInitial() bool {
	r, size := utf8.DecodeRuneInString(t.tok)
	return len(t.tok) == size+1 && t.tok[size] == '.' && isPyWord(r) && !unicode.IsDigit(r)
}

// isEllipsis matches \.\.+$ : two or more periods and nothing else.
func isEllipsis(tok string) bool {
	return len(tok) >= 2 && strings.Trim(tok, ".") == ""
}

// isPunktNumeric matches ^-?[\.,]?\d[\d,\.-]*\.?$ .
func isPunktNumeric(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s != "" && (s[0] == '.' || s[0] == ',') {
		s = s[1:]
	}
	r, size := utf8.DecodeRuneInString(s)
	if s == "" || !unicode.IsDigit(r) {
		return false
	}
	for _, r := range s[size:] {
		if !unicode.IsDigit(r) && r != ',' && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

// punktWords splits text into Punkt's word tokens: multi-character
// punctuation (--, .., ". . ."), words that run until whitespace, a non-word
// rune, multi-character punctuation or a word-final comma, and single runes.
func punktWords(text string) []string {
	var toks []string
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if isPySpace(r) {
			i += size
			continue
		}
		if n := multiCharPunct(text[i:]); n > 0 {
			toks = append(toks, text[i:i+n])
			i += n
			continue
		}
		if !punktWordStartExcluded(r) {
			j := i + size
			for j < len(text) && !punktWordEnd(text, j) {
				_, size := utf8.DecodeRuneInString(text[j:])
				j += size
			}
			toks = append(toks, text[i:j])
			i = j
			continue
		}
		toks = append(toks, text[i:i+size])
		i += size
	}
	return toks
}

// punktWordEnd reports whether a word token ends before text[j].
func punktWordEnd(text string, j int) bool {
	r, size := utf8.DecodeRuneInString(text[j:])
	if isPySpace(r) || punktNonWord(r) || multiCharPunct(text[j:]) > 0 {
		return true
	}
	if r != ',' {
		return false
	}
	k := j + size
	if k == len(text) || multiCharPunct(text[k:]) > 0 {
		return true
	}
	r, _ = utf8.DecodeRuneInString(text[k:])
	return isPySpace(r) || punktNonWord(r)
}

// multiCharPunct returns the length of (?:\-{2,}|\.{2,}|(?:\.\s){2,}\.) at
// the start of s, or 0.
func multiCharPunct(s string) int {
	if n := len(s) - len(strings.TrimLeft(s, "-")); n >= 2 {
		return n
	}
	if n := len(s) - len(strings.TrimLeft(s, ".")); n >= 2 {
		return n
	}
	// (?:\.\s){2,}\.
	pairs, i := 0, 0
	for i < len(s) && s[i] == '.' {
		r, size := utf8.DecodeRuneInString(s[i+1:])
		if i+1 >= len(s) || !isPySpace(r) {
			break
		}
		pairs++
		i += 1 + size
	}
	for pairs >= 2 {
		if i < len(s) && s[i] == '.' {
			return i + 1
		}
		// Back off one pair: the regexp backtracks.
		pairs--
		i = backOffPair(s, i)
	}
	return 0
}

// backOffPair returns the start of the last ". " pair before i.
func backOffPair(s string, i int) int {
	_, size := utf8.DecodeLastRuneInString(s[:i])
	return i - size - 1
}

// punktContainsBreak reports whether the context holds a sentence break
// followed by at least one more token (text_contains_sentbreak). Punkt
// splits the context into words line by line.
func punktContainsBreak(context string) bool {
	var words []string
	for _, line := range strings.Split(context, "\n") {
		words = append(words, punktWords(line)...)
	}
	toks := make([]punktToken, len(words))
	for i, w := range words {
		toks[i] = newPunktToken(w)
		firstPass(&toks[i])
	}
	for i := range toks {
		if i+1 < len(toks) {
			secondPass(&toks[i], &toks[i+1])
		}
		if toks[i].sentbreak {
			return i+1 < len(toks)
		}
	}
	return false
}

// firstPass marks likely sentence breaks, abbreviations and ellipses.
func firstPass(t *punktToken) {
	switch {
	case t.tok == "." || t.tok == "?" || t.tok == "!":
		t.sentbreak = true
	case isEllipsis(t.tok):
		t.ellipsis = true
	case t.periodFinal && !strings.HasSuffix(t.tok, ".."):
		base := strings.ToLower(t.tok[:len(t.tok)-1])
		last := base
		if k := strings.LastIndexByte(base, '-'); k >= 0 {
			last = base[k+1:]
		}
		if punktAbbreviations[base] || punktAbbreviations[last] {
			t.abbr = true
		} else {
			t.sentbreak = true
		}
	}
}

// ortho is the answer of the orthographic heuristic.
type ortho int

const (
	orthoUnknown ortho = iota
	orthoStarter
	orthoNotStarter
)

// secondPass revises the decision for t given the token after it.
func secondPass(t, next *punktToken) {
	if !t.periodFinal {
		return
	}
	typ := t.typeNoPeriod()
	initial := t.isInitial()
	if (t.abbr || t.ellipsis) && !initial {
		if orthoHeuristic(next) == orthoStarter {
			t.sentbreak = true
			return
		}
	}
	if initial || typ == punktNumber {
		o := orthoHeuristic(next)
		if o == orthoNotStarter {
			t.sentbreak, t.abbr = false, true
			return
		}
		if o == orthoUnknown && initial && next.firstUpper() {
			// "J. Bach": a capitalised word after an initial is taken for a
			// name unless it is known to occur in lower case (of the words
			// that do, the sentence starters, the heuristic knows).
			t.sentbreak, t.abbr = false, true
		}
	}
}

// orthoHeuristic decides whether tok starts a sentence. Punctuation never
// does; a lower-case word does not; a capitalised sentence starter (by its
// type without a sentence-ending period) does; anything else is unknown.
func orthoHeuristic(t *punktToken) ortho {
	switch t.tok {
	case ";", ":", ",", ".", "!", "?":
		return orthoNotStarter
	}
	typ := t.typ
	if t.sentbreak {
		typ = t.typeNoPeriod()
	}
	switch {
	case t.firstUpper() && punktSentenceStarters[typ]:
		return orthoStarter
	case t.firstLower():
		return orthoNotStarter
	}
	return orthoUnknown
}

// firstUpper and firstLower are Python's str.isupper and str.islower of the
// token's first rune: the Unicode properties Uppercase and Lowercase.
func (t *punktToken) firstUpper() bool {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r)
}

func (t *punktToken) firstLower() bool {
	r, _ := utf8.DecodeRuneInString(t.tok)
	return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r)
}

// punktSentenceStarters are frequent English sentence starters that NLTK's
// model has seen in lower case, so that their capitalised form signals a new
// sentence. In Punkt's terms each has the orthographic context "upper case at
// a sentence start, lower case inside one" and every other word none.
// tools/nltk-golden.py reads this list from this file.
var punktSentenceStarters = wordSet(`a an and but he her his how i if in it it's its my no not of on or
	she so that the then there these they this those to we what when where which who why yes you`)

// punktAbbreviations is the abbreviation list that stands in for NLTK's
// trained English abbrev_types (lower case, without the final period). Words
// that are also common English words ("no", "sat", "sun", "mar", "may") are
// left out: on lower-cased text they would glue sentences together.
// tools/nltk-golden.py reads this list from this file.
var punktAbbreviations = wordSet(`mr mrs ms dr prof st jr sr sen gov gen col lt sgt capt rev hon messrs mt
	ave blvd co corp inc ltd bros dept univ
	jan feb apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri
	vs v e.g i.e u.s u.k u.s.a a.m p.m approx cf ca viz ph.d d.c n.y l.a etc al fig
	vol est lbs oz ft yr yrs hr hrs`)

// wordSet returns the set of the space-separated words of list.
func wordSet(list string) map[string]bool {
	set := make(map[string]bool)
	for _, w := range strings.Fields(list) {
		set[w] = true
	}
	return set
}
