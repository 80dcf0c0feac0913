package model

import (
	"commentbot/text"
	"commentbot/tokens"
)

// The special tokens the sampler needs, from the corpus contract.
const (
	sentenceStart = tokens.SentenceStart
	sentenceEnd   = tokens.SentenceEnd
	charEnd       = tokens.CharEnd
	charUnknown   = tokens.CharUnknown
)

// Batch is the corpus batch: Streams × Steps token ids, index s·Steps+t,
// Targets[s,t] the token after Inputs[s,t] (a negative target means no
// target at that position).
type Batch = tokens.Batch

// Position is the corpus's resumable data position.
type Position = tokens.Position

// Level returns the token level of the kind: text.LevelChar for CharLSTM,
// text.LevelWord for the word kinds.
func (k Kind) Level() text.Level {
	if k == CharLSTM {
		return text.LevelChar
	}
	return text.LevelWord
}

// vocabHash is the corpus vocabulary hash of tokens ("" when corpus refuses
// the list, e.g. for a duplicate or empty token).
func vocabHash(tokens []string) string {
	v, err := text.NewVocab(tokens)
	if err != nil {
		return ""
	}
	return v.Hash()
}
