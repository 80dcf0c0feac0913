package corpus

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
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
			in := Comment{ID: "t1_x", Author: tc.author, Body: tc.body, Score: 3}
			got, why := rules.Clean(in)
			if why != tc.want {
				t.Fatalf("Clean(author %q, body %q): reason %q, want %q", tc.author, tc.body, why, tc.want)
			}
			if why == "" {
				if got.ID != in.ID || got.Author != in.Author || got.Score != in.Score {
					t.Errorf("Clean changed more than the body: %+v", got)
				}
				if n := utf8.RuneCountInString(got.Body); n < rules.MinChars || n > rules.MaxChars {
					t.Errorf("kept body of %d runes, outside [%d, %d]", n, rules.MinChars, rules.MaxChars)
				}
			}
		})
	}
}

func TestCleanZeroRules(t *testing.T) {
	var rules CleanRules
	got, why := rules.Clean(Comment{Author: "a", Body: "x http://e.com"})
	if why != "" || got.Body != "x "+URLToken {
		t.Errorf("zero rules: got %q, %q; want %q kept", got.Body, why, "x "+URLToken)
	}
	if _, why := rules.Clean(Comment{Author: "a", Body: "k"}); why != "" {
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
		c, why := rules.Clean(Comment{Author: "x", Body: body})
		if why != "" {
			continue
		}
		kept++
		for _, bad := range []string{"&gt;", "&amp;", "](http", "**", "\r", "  "} {
			if strings.Contains(c.Body, bad) {
				t.Errorf("comment %d: cleaned body still holds %q: %q", i, bad, clip(c.Body))
			}
		}
		if again := rules.CleanBody(c.Body); again != c.Body {
			t.Errorf("comment %d: cleaning twice changes it\n once  %q\n twice %q", i, clip(c.Body), clip(again))
		}
	}
	if kept == 0 {
		t.Fatal("no comment of the sample survived cleaning")
	}
	t.Logf("kept %d comments", kept)
}
