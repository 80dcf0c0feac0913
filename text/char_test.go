package text

import (
	"slices"
	"testing"

	"commentbot/tokens"
)

func TestCharTokens(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"ascii", "Hi!", []string{"H", "i", "!", tokens.CharEnd}},
		{"empty", "", []string{tokens.CharEnd}},
		{"multibyte", "é😂", []string{"é", "😂", tokens.CharEnd}},
		{"newline kept", "a\n\nb", []string{"a", "\n", "\n", "b", tokens.CharEnd}},
		{"invalid utf-8 is unknown", "a\xffb", []string{"a", tokens.CharUnknown, "b", tokens.CharEnd}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CharTokens(tc.in)
			if !slices.Equal(got, tc.want) {
				t.Errorf("CharTokens(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if back := CharText(got); tc.name != "invalid utf-8 is unknown" && back != tc.in {
				t.Errorf("CharText(CharTokens(%q)) = %q", tc.in, back)
			}
		})
	}
}

func TestCharText(t *testing.T) {
	got := CharText([]string{"a", tokens.CharUnknown, "b", tokens.CharEnd, "c"})
	if got != "abc" {
		t.Errorf("CharText dropped the wrong tokens: %q", got)
	}
}

// TestCharVocabRare checks that rare characters fall out of a char
// vocabulary and encode as tokens.CharUnknown.
func TestCharVocabRare(t *testing.T) {
	c := NewCounts()
	for range 5 {
		c.Add(CharTokens("aab")...)
	}
	c.Add(CharTokens("z")...) // z seen once
	v := BuildVocabMin(c, 0, DefaultCharMinCount, LevelChar.Specials())
	if got, want := v.Tokens(), []string{tokens.CharUnknown, tokens.CharEnd, "a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("char vocabulary %q, want %q", got, want)
	}
	ids := v.Encode(CharTokens("az"), nil)
	if want := []int{2, 0, 1}; !slices.Equal(ids, want) {
		t.Errorf("Encode(az) = %v, want %v (z unknown)", ids, want)
	}
	// Top-N also maps the rest to unknown.
	top1 := BuildVocab(c, 1, LevelChar.Specials())
	if top1.ID("b") != top1.Unknown() {
		t.Errorf("b outside the top 1 got id %d", top1.ID("b"))
	}
}
