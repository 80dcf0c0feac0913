package text

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"commentbot/tokens"
)

func TestCleanSkips(t *testing.T) {
	rules := DefaultCleanRules()
	rules.BotAccounts = []string{"RemindMeBot", " tweet_poster "}
	long := strings.Repeat("a", 2001)
	for _, tc := range []struct {
		name         string
		author, body string
		want         SkipReason
	}{
		{"kept", "alice", "A normal comment.", ""},
		{"deleted body", "alice", "[deleted]", SkipDeleted},
		{"deleted body with spaces", "alice", "  [deleted]\n", SkipDeleted},
		{"removed body", "alice", "[removed]", SkipRemoved},
		{"deleted author", "[deleted]", "still has text", SkipDeleted},
		{"automoderator", "AutoModerator", "Your post was removed.", SkipBot},
		{"automoderator any case", "automoderator", "hi there", SkipBot},
		{"configured bot, other case", "remindmebot", "I will remind you", SkipBot},
		{"configured bot, padded in config", "Tweet_Poster", "a tweet", SkipBot},
		{"bot-like name not listed", "RemindMeBotFan", "I like the bot", ""},
		// Bots by name (DefaultBotNames), with exceptions.
		{"name ends in Bot", "PoliticsModeratorBot", "Please keep it civil.", SkipBotName},
		{"name ends in Bot 2", "HollywoodBot", "Box office this weekend: 1. A film.", SkipBotName},
		{"underscored _Bot", "DRM_Removal_Bot", "Here is a DRM-free link.", SkipBotName},
		{"all lower case", "autowikibot", "Here is the wiki summary.", SkipBotName},
		{"digit suffix", "news_bot2", "Headline of the day.", SkipBotName},
		{"bot as a name part", "the-bot-of-recipes", "Here is the recipe.", SkipBotName},
		{"Bot prefix, camel case", "BotDefense", "This account was banned.", SkipBotName},
		{"exception: robot", "FriendlyRobot", "I am a person, honestly.", ""},
		{"exception: Talbot", "Talbot", "My grandfather built this boat.", ""},
		{"lower-case bot prefix is a word", "bother_me_not", "I just like the name.", ""},
		{"bot inside a word", "abotanist", "Plants are great.", ""},
		// Bots by footer (DefaultBotFooters), matched on the cleaned body.
		{"I am a bot", "helpful_helper", "Converted: 5 km is 3.1 miles.\n\n*I am a bot, and this action was performed automatically.*", SkipBotFooter},
		{"I'm a bot", "x", "Here you go. I'm a bot, beep.", SkipBotFooter},
		{"superscript footer", "x", "Tweet text here.\n\n^This ^message ^was ^created ^by ^a ^bot", SkipBotFooter},
		{"superscript group footer", "x", "Summary.\n\n^(This comment was generated automatically)", SkipBotFooter},
		{"moderation footer alone", "x", "Removed for rule 2. This action was performed automatically.", SkipBotFooter},
		{"quoting a bot is not being one", "alice", "> I am a bot, and this action was performed automatically.\n\nThat bot again!", ""},
		{"talking about bots", "alice", "I am a big fan of bots that convert units.", ""},
		{"empty body", "alice", "", SkipEmpty},
		{"only a quote", "alice", "> quoted only", SkipEmpty},
		{"only a url in drop mode is handled below", "alice", "   ", SkipEmpty},
		{"too short", "alice", "k", SkipTooShort},
		{"min length exactly", "alice", "ok", ""},
		{"max length exactly", "alice", long[:2000], ""},
		{"too long", "alice", long, SkipTooLong},
		{"length counts runes after cleaning", "alice", "**é**", SkipTooShort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := rules.Clean(tc.author, tc.body)
			if why != tc.want {
				t.Fatalf("Clean(author %q, body %q): reason %q, want %q", tc.author, tc.body, why, tc.want)
			}
			if why != "" && got != "" {
				t.Errorf("Clean dropped the comment (%s) but returned the body %q", why, got)
			}
			if why == "" {
				if n := utf8.RuneCountInString(got); n < rules.MinChars || n > rules.MaxChars {
					t.Errorf("kept body of %d runes, outside [%d, %d]", n, rules.MinChars, rules.MaxChars)
				}
			}
		})
	}
}

// TestBotNameExceptionOverride checks that an exception wins over a name
// pattern but not over a listed account, and that patterns can be turned off.
func TestBotNameExceptionOverride(t *testing.T) {
	rules := DefaultCleanRules()
	rules.BotAccounts = []string{"Talbot"}
	if _, why := rules.Clean("Talbot", "hello there"); why != SkipBot {
		t.Errorf("listed account Talbot: reason %q, want %q", why, SkipBot)
	}
	rules.BotNames, rules.BotFooters = nil, nil
	for _, c := range []struct{ Author, Body string }{{Author: "HollywoodBot", Body: "hello there"}, {Author: "x", Body: "I am a bot."}} {
		if _, why := rules.Clean(c.Author, c.Body); why != "" {
			t.Errorf("patterns off: %q by %s dropped as %q", c.Body, c.Author, why)
		}
	}
}

// TestCompilePatterns checks that every bad pattern is reported with its
// field and index, and the good ones still compile.
func TestCompilePatterns(t *testing.T) {
	res, err := CompilePatterns("corpus.bot_names", []string{`(?i)bot$`, `(`, ` `})
	if !errors.Is(err, ErrCleanRules) {
		t.Fatalf("err = %v, want an ErrCleanRules", err)
	}
	for _, want := range []string{"corpus.bot_names[1]", "missing closing )", "corpus.bot_names[2]: empty pattern"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if len(res) != 1 || !res[0].MatchString("SomeBot") {
		t.Errorf("the good pattern was lost: %v", res)
	}
	for name, list := range map[string][]string{"names": DefaultBotNames(), "exceptions": DefaultBotNameExceptions(), "footers": DefaultBotFooters()} {
		if _, err := CompilePatterns(name, list); err != nil {
			t.Errorf("default %s: %v", name, err)
		}
	}
}

// TestSkipReasonsAreIdentifiers checks that every skip reason, and so every
// "skipped_" figure of a run record, is an identifier (the ingester's own
// reason and its figures are checked beside it).
func TestSkipReasonsAreIdentifiers(t *testing.T) {
	ident := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for _, r := range []SkipReason{SkipDeleted, SkipRemoved, SkipBot, SkipBotName, SkipBotFooter, SkipEmpty, SkipTooShort, SkipTooLong} {
		if !ident.MatchString(string(r)) {
			t.Errorf("skip reason %q is not an identifier", r)
		}
	}
}

func TestCleanZeroRules(t *testing.T) {
	var rules CleanRules
	got, why := rules.Clean("a", "x http://e.com")
	if why != "" || got != "x "+tokens.URLToken {
		t.Errorf("zero rules: got %q, %q; want %q kept", got, why, "x "+tokens.URLToken)
	}
	if _, why := rules.Clean("a", "k"); why != "" {
		t.Errorf("zero rules dropped a one-rune body: %q", why)
	}
}

func TestCleanBody(t *testing.T) {
	def := DefaultCleanRules()
	drop := def
	drop.URLs = URLsDrop
	custom := def
	custom.URLPlaceholder = "LINK"
	for _, tc := range []struct {
		name  string
		rules CleanRules
		in    string
		want  string
	}{
		// HTML entities, also double-escaped.
		{"entities", def, "a &amp; b &lt;3 &quot;x&quot; &#39;y&#39;", `a & b <3 "x" 'y'`},
		{"double escaped", def, "fish &amp;amp; chips", "fish & chips"},
		{"escaped quote line", def, "&gt; quoted\n\nreply", "reply"},
		{"double escaped quote line", def, "&amp;gt; quoted\n\nreply", "reply"},
		{"nbsp collapses", def, "a&nbsp;&nbsp;b", "a b"},
		{"zero width space removed", def, "&amp;#x200B;\n\nhello", "hello"},
		// Quotes.
		{"quote line", def, ">quoted\n\nmine", "mine"},
		{"indented quote line", def, "  > quoted\n\nmine", "mine"},
		{"quote lazy continuation", def, "> quoted\nstill quoted\n\nmine", "mine"},
		{"quote between paragraphs", def, "first\n\n> q\n\nlast", "first\n\nlast"},
		{"greater-than inside a line stays", def, "3 > 2 is true", "3 > 2 is true"},
		{"spoiler is not a quote", def, ">!snape kills!< ok", "snape kills ok"},
		{"spoiler inside a line", def, "so >!the dog did it!< wow", "so the dog did it wow"},
		{"spoiler over two lines", def, ">!the dog\ndid it!< wow", "the dog did it wow"},
		{"escaped spoiler", def, "&gt;!hidden!&lt; text", "hidden text"},
		{"old spoiler keeps its hidden text", def, `[Part two](/s "her father") changes it`, "Part two her father changes it"},
		{"old spoiler with a generic label", def, `[spoiler](#s "he lives")`, "he lives"},
		{"old spoiler without hidden text", def, `[Part two](/s) ok`, "Part two ok"},
		// Code.
		{"fenced code", def, "before\n```\ncode here\n```\nafter", "before\n\nafter"},
		{"tilde fence", def, "before\n~~~\ncode\n~~~\n\nafter", "before\n\nafter"},
		{"unterminated fence drops the rest", def, "before\n```\ncode\nmore", "before"},
		{"indented code", def, "look:\n\n    x := 1\n    y := 2\n\nnice", "look:\n\nnice"},
		{"tab code", def, "look:\n\n\tcode\n\nnice", "look:\n\nnice"},
		{"indented continuation is not code", def, "a line\n    continued", "a line continued"},
		{"inline code keeps text", def, "use `go test` now", "use go test now"},
		// Links and URLs.
		{"markdown link keeps text", def, "see [the docs](http://x.com/docs) now", "see the docs now"},
		{"markdown link with parens", def, "[wiki](https://en.wikipedia.org/wiki/Go_(game)) rocks", "wiki rocks"},
		{"markdown link with title", def, `[a](http://x.com "title") b`, "a b"},
		{"title in single quotes with parens", def, `[a](http://x.com 'x (y)') b`, "a b"},
		{"nested link brackets", def, "[[Contact creator]](http://x.com/m?to=a&amp;amp;s=b)[[Source code]](https://github.com/x/y)", "[Contact creator][Source code]"},
		{"superscript nested brackets", def, "[^[Contact ^creator]](http://x.com/m)", "[Contact creator]"},
		{"link inside brackets", def, "[[USA:R](https://x.org/wiki/R), 1 h]", "[USA:R, 1 h]"},
		{"link inside link text", def, "[see [a](http://x.com/a) too](http://x.com/b) ok", "see a too ok"},
		{"escaped parens in target", def, `[a](http://x.org/A_\(b\)) c`, "a c"},
		{"escaped parens in text and target", def, `[^City ^\(Civ5)](https://x.org/wiki/City \(Civ5\)) ^| next`, "City (Civ5) | next"},
		{"unbalanced paren ends at the first )", def, `[**Tourism (Civ5)**](https://x.org/Tourism%20(Civ5\)) (from the wiki): [](#sfw) ok`, "Tourism (Civ5) (from the wiki): ok"},
		{"target with spaces", def, "[notes](https://x.com/my notes/a b.txt) if you want", "notes if you want"},
		{"angle-bracket target", def, "[notes](<https://x.com/my notes>) ok", "notes ok"},
		{"brackets that are no link stay", def, "up to 7 [[cardname]] and [x] (y)", "up to 7 [[cardname]] and [x] (y)"},
		{"unclosed target stays text", def, "[a](http://x.com b", "[a](<url> b"},
		{"empty link text", def, "x [](http://x.com) y", "x y"},
		{"bare url placeholder", def, "go to http://x.com/a?b=1.", "go to <url>."},
		{"www url", def, "www.reddit.com/r/nfl rocks", "<url> rocks"},
		{"url in parens", def, "(https://x.com)", "(<url>)"},
		{"autolink brackets go too", def, "<http://x.com> ok", "<url> ok"},
		{"bare url dropped", drop, "go to http://x.com/a now", "go to now"},
		{"custom placeholder", custom, "go to http://x.com now", "go to LINK now"},
		{"reddit paths stay", def, "ask in /r/nfl or r/nfl", "ask in /r/nfl or r/nfl"},
		// Emphasis and friends.
		{"bold", def, "**NOT ENFORCEABLE**", "NOT ENFORCEABLE"},
		{"bold italic", def, "***wow*** ok", "wow ok"},
		{"italic", def, "an *italic* word", "an italic word"},
		{"underscore emphasis", def, "_this_ and __that__", "this and that"},
		{"snake_case stays", def, "my_var_name", "my_var_name"},
		{"unpaired star stays", def, "f*ck and 5 * 3", "f*ck and 5 * 3"},
		{"strikethrough keeps text", def, "~~wrong~~ right", "wrong right"},
		{"superscript word", def, "tiny ^text here", "tiny text here"},
		{"superscript group", def, "^(small words) ok", "small words ok"},
		{"escaped star", def, `a \*literal\* star`, "a *literal* star"},
		{"escaped underscore", def, `\_not\_ emphasis`, "_not_ emphasis"},
		// Block markers.
		{"header", def, "# Title\ntext", "Title\n\ntext"},
		{"header with closing hashes", def, "## Title ##", "Title"},
		{"hashtag is not a header", def, "#1 fan", "#1 fan"},
		{"dash list", def, "- one\n- two", "one two"},
		{"star and plus list", def, "* one\n+ two", "one two"},
		{"numbered list", def, "1. one\n2) two", "one two"},
		{"horizontal rule", def, "above\n\n---\n\nbelow", "above\n\nbelow"},
		{"star rule", def, "above\n* * *\nbelow", "above\n\nbelow"},
		// Characters and whitespace.
		{"curly quotes straightened", def, "don’t “quote” me", `don't "quote" me`},
		{"control chars removed", def, "a\x00b\x07c", "abc"},
		{"internal markers neutralised", def, "a\ue000b\ue12ac", "a\ufffdb\ufffdc"},
		{"invalid utf-8", def, "a\xffb", "a\ufffdb"},
		{"crlf", def, "one\r\ntwo\r\n\r\nthree", "one two\n\nthree"},
		{"whitespace collapsed", def, "  a \t  b\n c  ", "a b c"},
		{"many blank lines", def, "a\n\n\n\n\nb", "a\n\nb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.rules.CleanBody(tc.in); got != tc.want {
				t.Errorf("CleanBody(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCleanRulesValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rules  CleanRules
		wantIn []string // substrings of the error; nil means valid
	}{
		{"default", DefaultCleanRules(), nil},
		{"zero", CleanRules{}, nil},
		{"bad mode", CleanRules{URLs: "keep"}, []string{`urls: "keep"`}},
		{"spaced placeholder", CleanRules{URLPlaceholder: "a link"}, []string{"placeholder"}},
		{"negative and inverted", CleanRules{MinChars: -1, MaxChars: -2}, []string{"min chars -1", "max chars -2"}},
		{"min above max", CleanRules{MinChars: 10, MaxChars: 5}, []string{"min chars 10 is above max chars 5"}},
		{"empty bot", CleanRules{BotAccounts: []string{"ok", " "}}, []string{"bot accounts[1]"}},
		{"nil pattern", CleanRules{BotFooters: []*regexp.Regexp{nil}}, []string{"bot footers[0]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.rules.Validate()
			if tc.wantIn == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrCleanRules) {
				t.Fatalf("Validate() = %v, want an ErrCleanRules", err)
			}
			for _, w := range tc.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

// TestCleanOnSample cleans the seed sample: no markup or entity survives,
// and cleaning is idempotent.
func TestCleanOnSample(t *testing.T) {
	rules := DefaultCleanRules()
	kept := 0
	for i, body := range sampleBodies(t) {
		c, why := rules.Clean("x", body)
		if why != "" {
			continue
		}
		kept++
		for _, bad := range []string{"&gt;", "&amp;", "](http", "**", "\r", "  "} {
			if strings.Contains(c, bad) {
				t.Errorf("comment %d: cleaned body still holds %q: %q", i, bad, clip(c))
			}
		}
		if again := rules.CleanBody(c); again != c {
			t.Errorf("comment %d: cleaning twice changes it\n once  %q\n twice %q", i, clip(c), clip(again))
		}
	}
	if kept == 0 {
		t.Fatal("no comment of the sample survived cleaning")
	}
	t.Logf("kept %d comments", kept)
}
