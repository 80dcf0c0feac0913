// Package tokens is what every package that handles token ids agrees on,
// and nothing more: the special tokens, the hash that names a vocabulary,
// and Batch, the block of ids a language model trains on. It imports only
// the standard library, so that the model can use it without linking the
// tokenizer, the store or any network client.
//
// The tokenizers and vocabularies that produce these ids are in package
// text; the batcher that cuts comments into Batches is in package corpus;
// the model that consumes them is in package model.
package tokens

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Special word tokens. The word tokenizer adds them after lower-casing, so
// no text can produce them, and the detokenizer drops them.
const (
	UnknownToken  = "UNKNOWN_TOKEN"  // a word outside the vocabulary
	SentenceStart = "SENTENCE_START" // opens every sentence
	SentenceEnd   = "SENTENCE_END"   // closes every sentence
)

// URLToken is the placeholder the cleaner puts where a bare URL was. The
// word tokenizer keeps it as one token; a sampler never draws it.
const URLToken = "<url>"

// Special char tokens. Neither can come out of cleaned text: CharUnknown is
// U+FFFD, which cleaning only produces for invalid UTF-8, and CharEnd is the
// control character ETX, which cleaning removes.
const (
	CharUnknown = "\uFFFD" // a character outside the char vocabulary
	CharEnd     = "\u0003" // end of comment: the model learns where to stop
)

// Hash returns the hex SHA-256 of the ordered token list of a vocabulary,
// each token written as its byte length (8 bytes, big-endian) followed by
// its bytes, so that no two different lists share a byte stream. Two
// vocabularies with the same hash give every token the same id; a
// checkpoint records it to refuse ids that mean something else.
func Hash(toks []string) string {
	h := sha256.New()
	var n [8]byte
	for _, t := range toks {
		binary.BigEndian.PutUint64(n[:], uint64(len(t)))
		h.Write(n[:])
		h.Write([]byte(t))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// A Batch is B parallel token streams × T steps for truncated BPTT. Row s of
// Inputs continues row s of the previous batch of the same epoch, so a model
// carries its recurrent state from batch to batch, stream by stream.
type Batch struct {
	Streams, Steps int
	// Inputs and Targets have len Streams*Steps, index s*Steps+t;
	// Targets[s*Steps+t] is the token that follows Inputs[s*Steps+t] in
	// stream s (so Targets[s*Steps+t] == Inputs[s*Steps+t+1] for t < Steps-1).
	// A negative target means no target at that position.
	Inputs, Targets []int
	// Comments[s*Steps+t] numbers the comment that Targets[s*Steps+t] belongs
	// to: its position in the epoch's reading order (0 for the first comment
	// read), so that a loss can be averaged per comment. The corpus batcher
	// always fills it; other batch sources may leave it nil.
	Comments []int
}

// Position is a resumable data position: Batch batches of epoch Epoch have
// been returned, the next one is batch number Batch (0-based). Checkpoints
// record it as {"Epoch": …, "Batch": …}.
type Position struct {
	Epoch int
	Batch int64
}
