package model

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// TODO(model): switch to corpus.SentenceStart/SentenceEnd/CharEnd and
// corpus.Level once corpus lands them; these mirror the agreed contract in
// doc/ARCHITECTURE.md.
const (
	sentenceStart = "SENTENCE_START"
	sentenceEnd   = "SENTENCE_END"
	charEnd       = "\u0003"
	charUnknown   = "\uFFFD"
)

// Level is what the model needs of a token level; corpus.Level satisfies it.
type Level interface {
	Tokens(text string) []string
	Text(tokens []string) string
}

func levelOf(k Kind) Level { return stubLevel(k.LevelName()) }

type stubLevel string

func (l stubLevel) Tokens(text string) []string {
	if l == "char" {
		var out []string
		for _, r := range text {
			out = append(out, string(r))
		}
		return append(out, charEnd)
	}
	out := []string{sentenceStart}
	out = append(out, strings.Fields(strings.ToLower(text))...)
	return append(out, sentenceEnd)
}

func (l stubLevel) Text(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		switch t {
		case sentenceStart, sentenceEnd, charEnd, "UNKNOWN_TOKEN", charUnknown:
			continue
		}
		if l == "word" && b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

// Batch mirrors corpus.Batch: Streams × Steps token ids, index s·Steps+t,
// Targets[s,t] the token after Inputs[s,t] (negative: no target).
type Batch struct {
	Streams, Steps  int
	Inputs, Targets []int
}

// Position mirrors corpus.Position, a resumable data position.
type Position struct {
	Epoch int
	Batch int64
}

// vocabHash must equal corpus.Vocab.Hash for the same tokens.
// TODO(model): call corpus once it lands.
func vocabHash(tokens []string) string {
	h := sha256.New()
	for _, t := range tokens {
		h.Write([]byte(t))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
