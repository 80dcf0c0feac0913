package model

import "commentbot/corpus"

// The special tokens the sampler needs, from the corpus contract.
const (
	sentenceStart = corpus.SentenceStart
	sentenceEnd   = corpus.SentenceEnd
	charEnd       = corpus.CharEnd
	charUnknown   = corpus.CharUnknown
)

// Batch is the corpus batch: Streams × Steps token ids, index s·Steps+t,
// Targets[s,t] the token after Inputs[s,t] (a negative target means no
// target at that position).
type Batch = corpus.Batch

// Position is the corpus's resumable data position.
type Position = corpus.Position

// Level returns the token level of the kind: corpus.LevelChar for CharLSTM,
// corpus.LevelWord for the word kinds.
func (k Kind) Level() corpus.Level {
	if k == CharLSTM {
		return corpus.LevelChar
	}
	return corpus.LevelWord
}

// vocabHash is the corpus vocabulary hash of tokens ("" when corpus refuses
// the list, e.g. for a duplicate or empty token).
func vocabHash(tokens []string) string {
	v, err := corpus.NewVocab(tokens)
	if err != nil {
		return ""
	}
	return v.Hash()
}
