package text

import (
	"unicode/utf8"

	"commentbot/tokens"
)

// DefaultCharMinCount is the default count below which a character is left
// out of a char vocabulary (see BuildVocabMin), so that it reads as
// tokens.CharUnknown: one-off symbols and stray scripts are not worth an output
// unit each.
const DefaultCharMinCount = 5

// CharTokens returns one token per rune of text, then tokens.CharEnd. Invalid UTF-8
// bytes become tokens.CharUnknown. Text is not lower-cased: case is what a
// char-level model learns to write.
func CharTokens(text string) []string {
	toks := make([]string, 0, utf8.RuneCountInString(text)+1)
	for _, r := range text {
		if r == utf8.RuneError {
			toks = append(toks, tokens.CharUnknown)
			continue
		}
		toks = append(toks, string(r))
	}
	return append(toks, tokens.CharEnd)
}

// CharText concatenates char tokens, dropping tokens.CharEnd and tokens.CharUnknown.
func CharText(toks []string) string {
	n := 0
	for _, t := range toks {
		n += len(t)
	}
	b := make([]byte, 0, n)
	for _, t := range toks {
		if t == tokens.CharEnd || t == tokens.CharUnknown {
			continue
		}
		b = append(b, t...)
	}
	return string(b)
}
