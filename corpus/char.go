package corpus

import "unicode/utf8"

// Special char tokens. Neither can come out of cleaned text: CharUnknown is
// U+FFFD, which cleaning only produces for invalid UTF-8, and CharEnd is the
// control character ETX, which cleaning removes.
const (
	CharUnknown = "\uFFFD" // a character outside the char vocabulary
	CharEnd     = "\u0003" // end of comment: the model learns where to stop
)

// DefaultCharMinCount is the default count below which a character is left
// out of a char vocabulary (see BuildVocabMin), so that it reads as
// CharUnknown: one-off symbols and stray scripts are not worth an output
// unit each.
const DefaultCharMinCount = 5

// CharTokens returns one token per rune of text, then CharEnd. Invalid UTF-8
// bytes become CharUnknown. Text is not lower-cased: case is what a
// char-level model learns to write.
func CharTokens(text string) []string {
	toks := make([]string, 0, utf8.RuneCountInString(text)+1)
	for _, r := range text {
		if r == utf8.RuneError {
			toks = append(toks, CharUnknown)
			continue
		}
		toks = append(toks, string(r))
	}
	return append(toks, CharEnd)
}

// CharText concatenates char tokens, dropping CharEnd and CharUnknown.
func CharText(tokens []string) string {
	n := 0
	for _, t := range tokens {
		n += len(t)
	}
	b := make([]byte, 0, n)
	for _, t := range tokens {
		if t == CharEnd || t == CharUnknown {
			continue
		}
		b = append(b, t...)
	}
	return string(b)
}
