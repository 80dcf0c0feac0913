package corpus

import (
	"errors"
	"fmt"
)

// ErrLevel reports a string that is not a Level.
var ErrLevel = errors.New("corpus: unknown level")

// A Level ties a tokenizer to its detokenizer and special tokens, so that
// code above corpus (the model, the batcher, the n-gram index) can be
// level-agnostic.
type Level string

// The levels.
const (
	LevelWord Level = "word" // WordTokens / Detokenize
	LevelChar Level = "char" // CharTokens / CharText
)

// ParseLevel returns the Level named s, or an error wrapping ErrLevel.
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case LevelWord, LevelChar:
		return l, nil
	}
	return "", fmt.Errorf("%w: %q (want %q or %q)", ErrLevel, s, LevelWord, LevelChar)
}

// Valid reports whether l is LevelWord or LevelChar.
func (l Level) Valid() bool { return l == LevelWord || l == LevelChar }

// Tokens splits text into the level's tokens: WordTokens for words,
// CharTokens for characters. It panics on an invalid level (a programmer
// error: levels come from ParseLevel or the constants).
func (l Level) Tokens(text string) []string {
	switch l {
	case LevelWord:
		return WordTokens(text)
	case LevelChar:
		return CharTokens(text)
	}
	panic(fmt.Sprintf("corpus: Level.Tokens on invalid level %q", string(l)))
}

// Text turns tokens back into text: Detokenize for words, CharText for
// characters. Special tokens are dropped.
func (l Level) Text(tokens []string) string {
	switch l {
	case LevelWord:
		return Detokenize(tokens)
	case LevelChar:
		return CharText(tokens)
	}
	panic(fmt.Sprintf("corpus: Level.Text on invalid level %q", string(l)))
}

// Specials returns the level's special tokens in the fixed order vocabularies
// put first, unknown first: UnknownToken, SentenceStart, SentenceEnd for
// words; CharUnknown, CharEnd for characters. Each call returns a new slice.
func (l Level) Specials() []string {
	switch l {
	case LevelWord:
		return []string{UnknownToken, SentenceStart, SentenceEnd}
	case LevelChar:
		return []string{CharUnknown, CharEnd}
	}
	panic(fmt.Sprintf("corpus: Level.Specials on invalid level %q", string(l)))
}

// Unknown returns the token that stands for anything outside a vocabulary.
func (l Level) Unknown() string {
	switch l {
	case LevelWord:
		return UnknownToken
	case LevelChar:
		return CharUnknown
	}
	panic(fmt.Sprintf("corpus: Level.Unknown on invalid level %q", string(l)))
}

// End returns the token that ends a unit of text a sampler can stop at:
// SentenceEnd for words, CharEnd for characters.
func (l Level) End() string {
	switch l {
	case LevelWord:
		return SentenceEnd
	case LevelChar:
		return CharEnd
	}
	panic(fmt.Sprintf("corpus: Level.End on invalid level %q", string(l)))
}
