package text

import (
	"errors"
	"fmt"

	"commentbot/tokens"
)

// ErrLevel reports a string that is not a Level.
var ErrLevel = errors.New("text: unknown level")

// A Level ties a tokenizer to its detokenizer and special tokens, so that
// the code that uses them (the batcher, the n-gram index, the scheduler's
// prompts and samples) can be level-agnostic.
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
	panic(fmt.Sprintf("text: Level.Tokens on invalid level %q", string(l)))
}

// Text turns tokens back into text: Detokenize for words, CharText for
// characters. Special tokens are dropped.
func (l Level) Text(toks []string) string {
	switch l {
	case LevelWord:
		return Detokenize(toks)
	case LevelChar:
		return CharText(toks)
	}
	panic(fmt.Sprintf("text: Level.Text on invalid level %q", string(l)))
}

// Specials returns the level's special tokens in the fixed order vocabularies
// put first, unknown first: tokens.UnknownToken, tokens.SentenceStart, tokens.SentenceEnd for
// words; tokens.CharUnknown, tokens.CharEnd for characters. Each call returns a new slice.
func (l Level) Specials() []string {
	switch l {
	case LevelWord:
		return []string{tokens.UnknownToken, tokens.SentenceStart, tokens.SentenceEnd}
	case LevelChar:
		return []string{tokens.CharUnknown, tokens.CharEnd}
	}
	panic(fmt.Sprintf("text: Level.Specials on invalid level %q", string(l)))
}

// Unknown returns the token that stands for anything outside a vocabulary.
func (l Level) Unknown() string {
	switch l {
	case LevelWord:
		return tokens.UnknownToken
	case LevelChar:
		return tokens.CharUnknown
	}
	panic(fmt.Sprintf("text: Level.Unknown on invalid level %q", string(l)))
}

// End returns the token that ends a unit of text a sampler can stop at:
// tokens.SentenceEnd for words, tokens.CharEnd for characters.
func (l Level) End() string {
	switch l {
	case LevelWord:
		return tokens.SentenceEnd
	case LevelChar:
		return tokens.CharEnd
	}
	panic(fmt.Sprintf("text: Level.End on invalid level %q", string(l)))
}

// Prompt returns the tokens a sampler continues s with: the level's tokens
// of s without the end tokens that close them (the text is to be
// continued), and for words opened by tokens.SentenceStart. The model is fed
// their ids (Vocab.Encode: an unknown word or character as the unknown id);
// the sample's text is l.Text of these tokens followed by the generated ones,
// so the prompt reads as it was written.
func (l Level) Prompt(s string) []string {
	toks := l.Tokens(s)
	for len(toks) > 0 {
		last := toks[len(toks)-1]
		if last != tokens.SentenceEnd && last != tokens.CharEnd {
			break
		}
		toks = toks[:len(toks)-1]
	}
	if l == LevelWord && (len(toks) == 0 || toks[0] != tokens.SentenceStart) {
		toks = append([]string{tokens.SentenceStart}, toks...)
	}
	return toks
}
