package model

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"commentbot/model/kernel"
	"commentbot/text"
	"commentbot/tokens"
)

// wordVocab is a small word vocabulary with the three specials first.
func wordVocab() *text.Vocab {
	return newTestVocab([]string{tokens.UnknownToken, tokens.SentenceStart, tokens.SentenceEnd, "the", "cat", "sat", "on", "mat", ".", "a", tokens.URLToken})
}

// TestSampleRejectsBadOptions tries invalid temperatures, top-p and lengths
// and wants the matching sentinel error and no sample.
func TestSampleRejectsBadOptions(t *testing.T) {
	m := tinyModel(t, WordLSTM, wordVocab(), 4, []int{6}, 2, 3, 1)
	cases := []struct {
		name string
		o    SampleOptions
		want error
	}{
		{"zero temperature", SampleOptions{Temperature: 0}, ErrTemperature},
		{"negative temperature", SampleOptions{Temperature: -0.5}, ErrTemperature},
		{"NaN temperature", SampleOptions{Temperature: math.NaN()}, ErrTemperature},
		{"+Inf temperature", SampleOptions{Temperature: math.Inf(1)}, ErrTemperature},
		{"above max temperature", SampleOptions{Temperature: m.cfg.MaxTemperature * 1.01}, ErrTemperature},
		{"top-p above 1", SampleOptions{Temperature: 1, TopP: 1.5}, ErrSampleOptions},
		{"negative top-p", SampleOptions{Temperature: 1, TopP: -0.1}, ErrSampleOptions},
		{"min above max", SampleOptions{Temperature: 1, MinTokens: 10, MaxTokens: 5}, ErrSampleOptions},
		{"negative max", SampleOptions{Temperature: 1, MaxTokens: -1}, ErrSampleOptions},
		{"prompt id outside the vocabulary", SampleOptions{Temperature: 1, Prompt: []int{1, 11}}, ErrSampleOptions},
		{"negative prompt id", SampleOptions{Temperature: 1, Prompt: []int{-1}}, ErrSampleOptions},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := m.Sample(context.Background(), c.o)
			if !errors.Is(err, c.want) {
				t.Errorf("error %v, want %v", err, c.want)
			}
			if len(s.Tokens) != 0 {
				t.Errorf("got a sample %v with the error", s.Tokens)
			}
		})
	}
}

// TestSampleContract samples many times from untrained models (whose
// distributions put mass everywhere, specials included) and checks the
// promises: never an unknown token or SENTENCE_START, the length bounds,
// reproducibility from the seed, greedy decoding independent of the seed.
func TestSampleContract(t *testing.T) {
	cv := charVocab("abc de")
	cases := []struct {
		name   string
		m      *LM
		o      SampleOptions
		prompt string
		char   bool
	}{
		{"word", tinyModel(t, WordLSTM, wordVocab(), 4, []int{6}, 2, 3, 2), SampleOptions{Temperature: 1.5, MinTokens: 5, MaxTokens: 20}, "", false},
		{"word top-p with unknown prompt", tinyModel(t, WordLSTM, wordVocab(), 4, []int{6}, 2, 3, 3), SampleOptions{Temperature: 1, TopP: 0.9, MaxTokens: 12}, "the zebra sat", false},
		{"rnn", tinyModel(t, RNN, wordVocab(), 0, []int{5}, 2, 3, 4), SampleOptions{Temperature: 2, MaxTokens: 30}, "", false},
		{"char", tinyModel(t, CharLSTM, cv, 0, []int{5, 7}, 2, 3, 5), SampleOptions{Temperature: 1.2, MinTokens: 8, MaxTokens: 25}, "a✓b", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			for seed := uint64(0); seed < 40; seed++ {
				o := c.o
				o.Seed = seed
				s, err := sampleText(ctx, c.m, o, c.prompt)
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Tokens) > o.MaxTokens {
					t.Errorf("seed %d: %d tokens, max %d", seed, len(s.Tokens), o.MaxTokens)
				}
				if s.Stop == StopEnd && len(s.Tokens) < o.MinTokens {
					t.Errorf("seed %d: ended after %d tokens, min %d", seed, len(s.Tokens), o.MinTokens)
				}
				for i, tok := range s.Toks {
					if tok == tokens.UnknownToken || tok == tokens.CharUnknown || tok == tokens.SentenceStart || tok == tokens.URLToken {
						t.Errorf("seed %d: token %d is %q", seed, i, tok)
					}
					if c.char && tok == tokens.CharEnd && i != len(s.Toks)-1 {
						t.Errorf("seed %d: end character mid-comment at %d", seed, i)
					}
				}
				if !finite(s.LogProb) || s.LogProb > 0 {
					t.Errorf("seed %d: log-probability %v", seed, s.LogProb)
				}
				again, _ := sampleText(ctx, c.m, o, c.prompt)
				if again.Text != s.Text {
					t.Errorf("seed %d: %q then %q", seed, s.Text, again.Text)
				}
			}
			o := c.o
			o.Temperature = ArgmaxTemperature / 2
			g1, _ := sampleText(ctx, c.m, o, c.prompt)
			o.Seed = 99
			g2, _ := sampleText(ctx, c.m, o, c.prompt)
			if g1.Text != g2.Text {
				t.Errorf("greedy decoding depends on the seed: %q vs %q", g1.Text, g2.Text)
			}
		})
	}
}

// TestSampleCancelled wants a cancelled context to stop sampling with its error.
func TestSampleCancelled(t *testing.T) {
	m := tinyModel(t, WordLSTM, wordVocab(), 4, []int{6}, 2, 3, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Sample(ctx, SampleOptions{Temperature: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// TestSampleWhileTraining samples from one model in many goroutines while
// another goroutine trains a clone; run with -race. The served model must
// not change.
func TestSampleWhileTraining(t *testing.T) {
	v := charVocab(memoText)
	live := tinyModel(t, CharLSTM, v, 0, []int{12, 10}, 2, 8, 1)
	before := append([]float32(nil), live.w...)
	want, err := sampleText(context.Background(), live, SampleOptions{Temperature: 0.8, Seed: 5, MaxTokens: 40}, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	clone := live.Clone()
	wg.Add(1)
	go func() {
		defer wg.Done()
		data := encodeChars(v, strings.Repeat(memoText, 6))
		if _, err := Train(context.Background(), NewCheckpoint(clone, 1), newSliceBatches(data, 2, 8), nil, TrainOptions{MaxSteps: 30}); err != nil {
			errs <- err
		}
	}()
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			for range 20 {
				s, err := sampleText(context.Background(), live, SampleOptions{Temperature: 0.8, Seed: 5, MaxTokens: 40}, "")
				if err != nil {
					errs <- err
					return
				}
				if s.Text != want.Text {
					t.Errorf("goroutine %d: %q, want %q", g, s.Text, want.Text)
					return
				}
				_, _ = live.Sample(context.Background(), SampleOptions{Temperature: 1, Seed: rng.Uint64(), MaxTokens: 10})
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range before {
		if live.w[i] != before[i] {
			t.Fatalf("served weights changed at %d", i)
		}
	}
	same := true
	for i := range before {
		same = same && clone.w[i] == before[i]
	}
	if same {
		t.Errorf("the trained clone did not change")
	}
}

// TestStepMatchesForward feeds the same tokens through the batch-1 sampler
// step and through the training forward pass (B=1, no dropout) and wants the
// same logits, for each kind and for widths with padded strides.
func TestStepMatchesForward(t *testing.T) {
	cases := []struct {
		name  string
		cfg   Config
		vocab int
	}{
		{"word lstm padded", Config{Kind: WordLSTM, Embed: 64, Hidden: []int{16, 64}}, 64},
		{"char lstm", Config{Kind: CharLSTM, Hidden: []int{5, 7}}, 9},
		{"rnn", Config{Kind: RNN, Hidden: []int{64}}, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lo := newLayout(c.cfg, c.vocab)
			p := view(lo, make([]float32, lo.size))
			initParams(lo, p, rand.New(rand.NewPCG(1, 1)), 0.5, 1)
			const T = 5
			w := newWork[float32](lo, 1, T, false)
			defer w.close()
			ids := []int{1, 4, 0, 3, 2}
			if !w.load(ids, ids) {
				t.Fatal("load")
			}
			be := kernel.Default()
			w.forward(be, p, false, 0, nil)
			// forward(train=false) leaves raw logits in w.logits.
			s := newSampler(lo)
			sV := stride(lo.vocab)
			worst := 0.0
			for tt, id := range ids {
				step(be, lo, p, s.h, s.c, s.g, s.x, s.logits, id)
				for j := range lo.vocab {
					worst = max(worst, math.Abs(float64(s.logits[j]-w.logits[tt*sV+j])))
				}
			}
			if worst > 1e-5 {
				t.Errorf("step and forward logits differ by up to %g", worst)
			}
		})
	}
}
