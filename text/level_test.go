package text

import (
	"errors"
	"slices"
	"testing"

	"commentbot/tokens"
)

func TestParseLevel(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{"word", LevelWord, false},
		{"char", LevelChar, false},
		{"Word", "", true},
		{"", "", true},
		{"bpe", "", true},
	} {
		got, err := ParseLevel(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseLevel(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrLevel) {
			t.Errorf("ParseLevel(%q) error %v does not wrap ErrLevel", tc.in, err)
		}
		if got.Valid() != !tc.wantErr {
			t.Errorf("Level(%q).Valid() = %v", got, got.Valid())
		}
	}
}

func TestLevelMethods(t *testing.T) {
	for _, tc := range []struct {
		level    Level
		specials []string
		unknown  string
		end      string
	}{
		{LevelWord, []string{tokens.UnknownToken, tokens.SentenceStart, tokens.SentenceEnd}, tokens.UnknownToken, tokens.SentenceEnd},
		{LevelChar, []string{tokens.CharUnknown, tokens.CharEnd}, tokens.CharUnknown, tokens.CharEnd},
	} {
		t.Run(string(tc.level), func(t *testing.T) {
			if got := tc.level.Specials(); !slices.Equal(got, tc.specials) {
				t.Errorf("Specials() = %q, want %q", got, tc.specials)
			}
			if tc.level.Specials()[0] != tc.level.Unknown() {
				t.Error("the unknown token is not the first special")
			}
			if tc.level.Unknown() != tc.unknown || tc.level.End() != tc.end {
				t.Errorf("Unknown, End = %q, %q", tc.level.Unknown(), tc.level.End())
			}
			text := "I'm fine. You?"
			toks := tc.level.Tokens(text)
			if toks[len(toks)-1] != tc.end {
				t.Errorf("Tokens(%q) does not end with %q: %q", text, tc.end, toks)
			}
			if back := tc.level.Text(toks); back != text {
				t.Errorf("Text(Tokens(%q)) = %q", text, back)
			}
			// The caller's slice is not the level's.
			s := tc.level.Specials()
			s[0] = "x"
			if tc.level.Specials()[0] == "x" {
				t.Error("Specials() shares storage between calls")
			}
		})
	}
}

func TestLevelInvalidPanics(t *testing.T) {
	for name, f := range map[string]func(Level){
		"Tokens":   func(l Level) { l.Tokens("x") },
		"Text":     func(l Level) { l.Text(nil) },
		"Specials": func(l Level) { l.Specials() },
		"Unknown":  func(l Level) { l.Unknown() },
		"End":      func(l Level) { l.End() },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s on an invalid level did not panic", name)
				}
			}()
			f(Level("bogus"))
		})
	}
}

func TestLevelPrompt(t *testing.T) {
	for _, tc := range []struct {
		level Level
		in    string
		want  []string
	}{
		{LevelWord, "", []string{tokens.SentenceStart}},
		{LevelWord, "I think", []string{tokens.SentenceStart, "i", "think"}},
		{LevelWord, "Hello. You", []string{tokens.SentenceStart, "hello", ".", tokens.SentenceEnd, tokens.SentenceStart, "you"}},
		{LevelWord, "Done.", []string{tokens.SentenceStart, "done", "."}},
		{LevelChar, "", nil},
		{LevelChar, "ab", []string{"a", "b"}},
	} {
		if got := tc.level.Prompt(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("%s.Prompt(%q) = %q, want %q", tc.level, tc.in, got, tc.want)
		}
	}
}
