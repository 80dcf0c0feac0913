package model

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"commentbot/text"
	"commentbot/tokens"
)

// newTestVocab is a corpus vocabulary over toks.
func newTestVocab(toks []string) *text.Vocab {
	v, err := text.NewVocab(toks)
	if err != nil {
		panic(err)
	}
	return v
}

// charVocab returns a char vocabulary: CharUnknown, CharEnd, then the
// distinct runes of text in order of appearance.
func charVocab(text string) *text.Vocab {
	toks := []string{tokens.CharUnknown, tokens.CharEnd}
	seen := map[string]bool{tokens.CharUnknown: true, tokens.CharEnd: true}
	for _, r := range text {
		if s := string(r); !seen[s] {
			seen[s] = true
			toks = append(toks, s)
		}
	}
	return newTestVocab(toks)
}

// encodeChars maps each comment's runes and a closing CharEnd to ids.
func encodeChars(v *text.Vocab, comments ...string) []int {
	var ids []int
	for _, c := range comments {
		for _, r := range c {
			ids = append(ids, v.ID(string(r)))
		}
		ids = append(ids, v.ID(tokens.CharEnd))
	}
	return ids
}

// sliceBatches cuts a token stream into B contiguous streams and serves T
// steps of each per batch, like corpus.Batcher: Targets are the next tokens;
// io.EOF after the last full batch of an epoch, then the next epoch.
type sliceBatches struct {
	data []int
	B, T int
	pos  tokens.Position
}

func newSliceBatches(data []int, streams, steps int) *sliceBatches {
	return &sliceBatches{data: data, B: streams, T: steps}
}

func (s *sliceBatches) perEpoch() int64 { return int64(((len(s.data) - 1) / s.B) / s.T) }

func (s *sliceBatches) Next(ctx context.Context, dst *tokens.Batch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.pos.Batch >= s.perEpoch() {
		s.pos = tokens.Position{Epoch: s.pos.Epoch + 1}
		return io.EOF
	}
	L := (len(s.data) - 1) / s.B
	dst.Streams, dst.Steps = s.B, s.T
	dst.Inputs = dst.Inputs[:0]
	dst.Targets = dst.Targets[:0]
	for b := 0; b < s.B; b++ {
		for t := 0; t < s.T; t++ {
			i := b*L + int(s.pos.Batch)*s.T + t
			dst.Inputs = append(dst.Inputs, s.data[i])
			dst.Targets = append(dst.Targets, s.data[i+1])
		}
	}
	s.pos.Batch++
	return nil
}

func (s *sliceBatches) Position() tokens.Position { return s.pos }

func (s *sliceBatches) Seek(ctx context.Context, p tokens.Position) error {
	s.pos = p
	return ctx.Err()
}

// tinyModel builds a char model of hidden sizes over vocab.
func tinyModel(t testing.TB, kind Kind, v Vocab, embed int, hidden []int, streams, steps int, seed uint64) *LM {
	t.Helper()
	cfg := DefaultConfig(kind)
	cfg.Embed, cfg.Hidden, cfg.Streams, cfg.Steps = embed, hidden, streams, steps
	m, err := New(cfg, v, rand.NewPCG(seed, 1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const memoText = "the quick brown fox jumps over the lazy dog. "

func randSource(seed uint64) rand.Source { return rand.NewPCG(seed, 99) }

// textSample is a sample read as text, as the product reads it.
type textSample struct {
	Sample
	Text string   // the prompt followed by its continuation, detokenized
	Toks []string // the generated tokens
}

// sampleText samples from m as the product's caller does (the scheduler's
// engine): the prompt's tokens (text.Level.Prompt) encoded with the model's
// vocabulary, the generated ids decoded, the text the level's
// detokenization of both.
func sampleText(ctx context.Context, m *LM, o SampleOptions, prompt string) (textSample, error) {
	v, err := text.NewVocab(m.VocabTokens())
	if err != nil {
		return textSample{}, err
	}
	level := text.Level(m.Kind().Level())
	p := level.Prompt(prompt)
	o.Prompt = v.Encode(p, nil)
	s, err := m.Sample(ctx, o)
	if err != nil {
		return textSample{Sample: s}, err
	}
	toks := v.Decode(s.Tokens, nil)
	return textSample{Sample: s, Text: level.Text(append(p, toks...)), Toks: toks}, nil
}
