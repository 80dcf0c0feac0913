package model

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"commentbot/corpus"
	"commentbot/text"
	"commentbot/tokens"
)

// sampleSplit returns the cleaned embedded sample corpus split into training
// and held-out sources.
func sampleSplit(t *testing.T) (train, valid corpus.Source) {
	t.Helper()
	cs, err := corpus.SampleComments(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rules := text.DefaultCleanRules()
	var tr, va []corpus.Comment
	for _, c := range cs {
		kept, why := corpus.Clean(c, rules)
		if why != "" {
			continue
		}
		if corpus.SplitOf(kept.ID, 0.1) == corpus.Validation {
			va = append(va, kept)
		} else {
			tr = append(tr, kept)
		}
	}
	if len(tr) == 0 || len(va) == 0 {
		t.Fatalf("split of the sample: %d train, %d held-out", len(tr), len(va))
	}
	return corpus.SliceSource(tr), corpus.SliceSource(va)
}

// vocabOf builds a vocabulary of the size most frequent tokens of src.
func vocabOf(t *testing.T, src corpus.Source, level text.Level, size int) *text.Vocab {
	t.Helper()
	counts := text.NewCounts()
	err := src(context.Background(), func(c corpus.Comment) error {
		counts.Add(level.Tokens(c.Body)...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return text.BuildVocab(counts, size, level.Specials())
}

// TestTrainsOnTheCorpusSample wires the real corpus (embedded sample,
// cleaning, split, vocabulary, Batcher) to a small model of each kind,
// trains briefly and wants: a held-out loss below the unigram baseline (word
// and char models learn something in a few dozen steps), a resumable
// position, and samples without unknown tokens whose text is detokenized.
func TestTrainsOnTheCorpusSample(t *testing.T) {
	cases := []struct {
		kind   Kind
		embed  int
		hidden []int
		vocab  int
		steps  int64
		lr     float64
	}{
		{WordLSTM, 32, []int{64}, 400, 60, 0.005},
		{CharLSTM, 0, []int{32, 64}, 120, 200, 0.01},
		{RNN, 0, []int{48}, 400, 60, 0.005},
	}
	for _, c := range cases {
		t.Run(string(c.kind), func(t *testing.T) {
			ctx := context.Background()
			trainSrc, validSrc := sampleSplit(t)
			level := text.Level(c.kind.Level())
			v := vocabOf(t, trainSrc, level, c.vocab)
			cfg := DefaultConfig(c.kind)
			cfg.Embed, cfg.Hidden, cfg.Streams, cfg.Steps = c.embed, c.hidden, 8, 24
			cfg.LearningRate = c.lr
			m, err := New(cfg, v, randSource(1))
			if err != nil {
				t.Fatal(err)
			}
			train := corpus.NewBatcher(trainSrc, level, v, 8, 24)
			valid := corpus.NewBatcher(validSrc, level, v, 8, 24)
			defer train.Close()
			defer valid.Close()
			before, err := measureQuality(ctx, m, corpus.NewBatcher(trainSrc, level, v, 8, 24), valid)
			if err != nil {
				t.Fatal(err)
			}
			if err := valid.Seek(ctx, tokens.Position{}); err != nil {
				t.Fatal(err)
			}
			cp := NewCheckpoint(m, 2)
			res, err := Train(ctx, cp, train, valid, TrainOptions{MaxSteps: c.steps, EvalEvery: 20})
			if err != nil {
				t.Fatal(err)
			}
			if cp.State.Position != train.Position() {
				t.Errorf("checkpoint position %+v, batcher at %+v", cp.State.Position, train.Position())
			}
			if err := valid.Seek(ctx, tokens.Position{}); err != nil {
				t.Fatal(err)
			}
			q, err := measureQuality(ctx, m, corpus.NewBatcher(trainSrc, level, v, 8, 24), valid)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d steps: training loss %.3f; before: %v; after: %v", res.Steps, res.Loss, before, q)
			if !(q.Valid.Loss < before.Valid.Loss) {
				t.Errorf("held-out loss %.4f after training, %.4f before", q.Valid.Loss, before.Valid.Loss)
			}
			if !(q.Valid.Loss < q.Unigram.Loss) && c.kind != RNN {
				t.Errorf("held-out loss %.4f not below the unigram baseline %.4f", q.Valid.Loss, q.Unigram.Loss)
			}
			if math.Abs(before.Valid.Loss-math.Log(float64(v.Len()))) > 0.5 {
				t.Errorf("untrained loss %.3f far from log V = %.3f", before.Valid.Loss, math.Log(float64(v.Len())))
			}
			for seed := range uint64(5) {
				s, err := sampleText(ctx, m, SampleOptions{Temperature: 0.8, Seed: seed, MaxTokens: 40}, "I think the")
				if err != nil {
					t.Fatal(err)
				}
				for _, tok := range s.Toks {
					if tok == tokens.UnknownToken || tok == tokens.CharUnknown || tok == tokens.SentenceStart {
						t.Errorf("sample has %q", tok)
					}
				}
				if strings.Contains(s.Text, tokens.SentenceEnd) || strings.Contains(s.Text, tokens.CharEnd) {
					t.Errorf("sample text keeps a special token: %q", s.Text)
				}
				if !strings.HasPrefix(strings.ToLower(s.Text), "i think the") {
					t.Errorf("sample %q does not continue the prompt", s.Text)
				}
				if seed < 2 {
					t.Logf("sample: %q", s.Text)
				}
			}
		})
	}
}

// quality is a model's held-out loss beside the unigram baseline.
type quality struct{ Valid, Unigram Eval }

// measureQuality evaluates m on valid and counts the unigram baseline on
// train, both from their current positions to the end of their epochs;
// valid is rewound to where it started between the two passes.
func measureQuality(ctx context.Context, m *LM, train, valid Batches) (quality, error) {
	start := valid.Position()
	var q quality
	var err error
	if q.Unigram, err = UnigramLoss(ctx, train, valid, m.VocabSize(), 0); err != nil {
		return quality{}, err
	}
	if err := valid.Seek(ctx, start); err != nil {
		return quality{}, err
	}
	if q.Valid, err = m.Evaluate(ctx, valid, 0); err != nil {
		return quality{}, err
	}
	if math.IsNaN(q.Valid.Loss) {
		return q, errors.New("no held-out targets")
	}
	return q, nil
}
