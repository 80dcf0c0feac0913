package text

import (
	"strings"
	"testing"
	"unicode/utf8"

	"commentbot/tokens"
)

// fuzzSeeds are the starting corpus of every fuzz target: the awkward cases
// of the table tests.
var fuzzSeeds = []string{
	"I joined a new league this year and they have different scoring rules than I'm used to.",
	`He said "hi" -- 'twas cannot gonna wanna... e.g. Mr. Smith? Yes!! (ok) [x] {y} <z>`,
	"wait... what?! 1,000 3.14 .2 $5 50% #1 @me R&D",
	"see http://example.com/a?b=c. www.x.org/(a) <url> https://",
	"😂👍🏽 👨‍👩‍👧 Café ''So das'' ‘a’ “b” «c» „d",
	"&amp;gt; quote\n\n```\ncode\n```\n    indented\n\n**bold** _it_ ~~s~~ ^(sup) [l](http://x) \\*esc\\*",
	"and . . . . coke thank you'. 'sure",
	"a\xffb\x00c\u2028d\u00a0e\ue000f",
	". ? ! ... ' '' \" `` ( ) ",
	// NLTK 3.8's quote rule, line breaks before clitics, a final ?! run.
	"making you fear 'looking bad'. the '90s 'tis 'a' 'n' don't\n\njust the players'\tunion <url>\" wow?!",
	// Markdown shapes that used to leave fragments, and spoilers.
	"[[Contact creator]](http://x.com/m?to=a&amp;amp;s=b)[[Source code]](https://github.com/x/y)",
	`[^[Contact ^creator]](http://x.com/m) [[USA:R](https://x.org/R), 1 h] [see [a](http://x/a) too](http://x/b)`,
	`[a](http://x.org/A_\(b\)) [b](http://x.com/a (b) "t (x)") [c](<http://x y>) [d](http://x.com/my notes.txt)`,
	`[**Tourism (Civ5)**](https://x.org/Tourism%20(Civ5\)) (from the wiki): [](#sfw) [a](http://x.com b [`,
	">!snape\nkills!< [Part two](/s \"her father\") [spoiler](#s 'he lives') [x](/s)",
	"",
}

// FuzzWordTokens checks WordTokens' invariants on any input: no panic,
// tokens non-empty and without whitespace, every word inside one
// SENTENCE_START … SENTENCE_END pair, no sentence empty.
func FuzzWordTokens(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := WordTokens(s)
		if msg := checkWordTokens(toks); msg != "" {
			t.Fatalf("WordTokens(%q) = %q: %s", s, toks, msg)
		}
		for _, tok := range toks {
			if !utf8.ValidString(tok) {
				t.Fatalf("WordTokens(%q): invalid UTF-8 token %q", s, tok)
			}
		}
		for _, sent := range Sentences(s) {
			if sent == "" || strings.TrimSpace(sent) != sent {
				t.Fatalf("Sentences(%q): untrimmed or empty sentence %q", s, sent)
			}
		}
	})
}

// FuzzDetokenize checks the fixed point Detokenize promises: with
// t = Detokenize(WordTokens(s)), Detokenize(WordTokens(t)) == t.
func FuzzDetokenize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := Detokenize(WordTokens(s))
		if twice := Detokenize(WordTokens(once)); twice != once {
			t.Fatalf("not a fixed point for %q:\n once  %q\n twice %q\n tokens once  %q\n tokens twice %q",
				s, once, twice, WordTokens(s), WordTokens(once))
		}
	})
}

// FuzzCleanBody checks that cleaning never panics and returns valid UTF-8
// without carriage returns, control characters or runs of spaces, and that
// Clean's length bounds hold.
func FuzzCleanBody(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	rules := DefaultCleanRules()
	f.Fuzz(func(t *testing.T, s string) {
		got := rules.CleanBody(s)
		if !utf8.ValidString(got) {
			t.Fatalf("CleanBody(%q) = %q: invalid UTF-8", s, got)
		}
		if strings.Contains(got, "  ") || strings.Contains(got, "\n\n\n") || strings.ContainsAny(got, "\r\t\x00") {
			t.Fatalf("CleanBody(%q) = %q: whitespace not collapsed", s, got)
		}
		if strings.TrimSpace(got) != got {
			t.Fatalf("CleanBody(%q) = %q: not trimmed", s, got)
		}
		c, why := rules.Clean("a", s)
		if why == "" {
			if n := utf8.RuneCountInString(c); n < rules.MinChars || n > rules.MaxChars {
				t.Fatalf("Clean kept a body of %d runes", n)
			}
		}
	})
}

// FuzzCharTokens checks that char tokens round-trip valid text.
func FuzzCharTokens(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := CharTokens(s)
		if toks[len(toks)-1] != tokens.CharEnd {
			t.Fatalf("CharTokens(%q) does not end with tokens.CharEnd", s)
		}
		if utf8.ValidString(s) && !strings.ContainsRune(s, utf8.RuneError) && !strings.Contains(s, tokens.CharEnd) && CharText(toks) != s {
			t.Fatalf("CharText(CharTokens(%q)) = %q", s, CharText(toks))
		}
	})
}
