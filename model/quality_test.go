package model

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"commentbot/corpus"
	"commentbot/text"
	"commentbot/tokens"
)

// TestQualityRedditSample is the quality run of issue 3, off by default
// because it trains for minutes: set COMMENTBOT_QUALITY_MINUTES=10 to train
// word-lstm and char-lstm (default configs) for that long each on
// ../shared/data/reddit-comments-2015-08.sample.csv (90/10 split by id; the
// embedded sample when the file is absent, an error under CI=true), then log
// the held-out loss beside the unigram baseline and five samples per model
// at temperatures 0.3, 0.8 and 1.2. It wants the held-out loss below the
// unigram baseline.
//
//	COMMENTBOT_QUALITY_MINUTES=10 go test -run QualityRedditSample -v -timeout 0 ./model/
func TestQualityRedditSample(t *testing.T) {
	minutes, _ := strconv.ParseFloat(os.Getenv("COMMENTBOT_QUALITY_MINUTES"), 64)
	if minutes <= 0 {
		t.Skip("set COMMENTBOT_QUALITY_MINUTES to run the quality training")
	}
	const path = "../../shared/data/reddit-comments-2015-08.sample.csv"
	src := corpus.Sample()
	if _, err := os.Stat(path); err == nil {
		if src, err = corpus.FileSource(path); err != nil {
			t.Fatal(err)
		}
	} else if os.Getenv("CI") == "true" {
		t.Fatalf("seed sample missing under CI=true: %v", err)
	} else {
		t.Logf("seed sample %s not present: training on the embedded sample instead", path)
	}
	ctx := context.Background()
	var all []corpus.Comment
	if err := corpus.CleanSource(src, text.DefaultCleanRules())(ctx, func(c corpus.Comment) error {
		all = append(all, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var tr, va []corpus.Comment
	for _, c := range all {
		if corpus.SplitOf(c.ID, 0.1) == corpus.Validation {
			va = append(va, c)
		} else {
			tr = append(tr, c)
		}
	}
	t.Logf("%d comments: %d train, %d held-out", len(all), len(tr), len(va))
	for _, kind := range []Kind{WordLSTM, CharLSTM} {
		t.Run(string(kind), func(t *testing.T) {
			cfg := DefaultConfig(kind)
			level := text.Level(kind.Level())
			counts := text.NewCounts()
			for _, c := range tr {
				counts.Add(level.Tokens(c.Body)...)
			}
			var v *text.Vocab
			if kind == CharLSTM {
				v = text.BuildVocabMin(counts, 200, text.DefaultCharMinCount, level.Specials())
			} else {
				v = text.BuildVocab(counts, 4000, level.Specials())
			}
			m, err := New(cfg, v, randSource(1))
			if err != nil {
				t.Fatal(err)
			}
			train := corpus.NewBatcher(corpus.SliceSource(tr), level, v, cfg.Streams, cfg.Steps)
			valid := corpus.NewBatcher(corpus.SliceSource(va), level, v, cfg.Streams, cfg.Steps)
			cp := NewCheckpoint(m, 1)
			res, err := Train(ctx, cp, train, valid, TrainOptions{
				MaxDuration: time.Duration(minutes * float64(time.Minute)),
				Progress: func(p Progress) {
					t.Logf("step %d epoch %d loss %.3f held-out %.3f %.0f tok/s", p.Step, p.Epoch, p.Loss, p.ValidLoss, p.TokensPerSec)
				},
				ProgressEvery: 30 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := valid.Seek(ctx, tokens.Position{}); err != nil {
				t.Fatal(err)
			}
			q, err := measureQuality(ctx, m, corpus.NewBatcher(corpus.SliceSource(tr), level, v, cfg.Streams, cfg.Steps), valid)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s after %d steps (%d epochs, stop %s, training loss %.4f): held-out %.4f nats/token over %d tokens, unigram baseline %.4f",
				kind, cp.State.Step, cp.State.Epoch, res.Stop, res.Loss, q.Valid.Loss, q.Valid.Tokens, q.Unigram.Loss)
			if !(q.Valid.Loss < q.Unigram.Loss) {
				t.Errorf("held-out loss %.4f not below the unigram baseline %.4f", q.Valid.Loss, q.Unigram.Loss)
			}
			for _, temp := range []float64{0.3, 0.8, 1.2} {
				for seed := range uint64(5) {
					s, err := sampleText(ctx, m, SampleOptions{Temperature: temp, Seed: seed, MinTokens: 5}, "")
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("T=%.1f seed %d: %s", temp, seed, s.Text)
				}
			}
		})
	}
}
