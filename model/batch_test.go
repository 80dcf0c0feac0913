package model

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// invarianceModels are the models the batch-invariance tests sample from:
// the trained checkpoints of testdata (word LSTM with an embedding, two-layer
// char LSTM, tanh RNN — widths with and without the kernels' 64-column
// panels and their edges) and wider untrained ones whose every product runs
// the six- and four-row kernels on whole panels.
func invarianceModels(t *testing.T) map[string]*LM {
	t.Helper()
	ms := map[string]*LM{}
	for _, f := range []string{"word-lstm.ckpt", "char-lstm.ckpt", "rnn.ckpt"} {
		raw, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		cp, err := Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		ms[f] = cp.Model
	}
	ms["wide char [64 128]"] = tinyModel(t, CharLSTM, benchVocab(96, true), 0, []int{64, 128}, 2, 3, 7)
	ms["wide word 64 → [64]"] = tinyModel(t, WordLSTM, benchVocab(200, false), 64, []int{64}, 2, 3, 8)
	ms["wide rnn [128]"] = tinyModel(t, RNN, benchVocab(70, false), 0, []int{128}, 2, 3, 9)
	return ms
}

// mixedRequests returns n sample options drawn from rng: seeds, greedy and
// tempered temperatures, nucleus or not, prompts of 0 to 12 ids (any id, the
// unknown one included), minimum and maximum lengths from 1 token to the
// char default of 300.
func mixedRequests(m *LM, rng *rand.Rand, n int) []SampleOptions {
	temps := []float64{ArgmaxTemperature / 2, 0.3, 0.8, 1, 1.7}
	tops := []float64{0, 0, 0.5, 0.9}
	out := make([]SampleOptions, n)
	for i := range out {
		o := SampleOptions{Seed: rng.Uint64(), Temperature: temps[rng.IntN(len(temps))], TopP: tops[rng.IntN(len(tops))]}
		for range rng.IntN(13) {
			o.Prompt = append(o.Prompt, rng.IntN(m.VocabSize()))
		}
		switch rng.IntN(3) {
		case 0: // the default length
		case 1:
			o.MaxTokens = 1 + rng.IntN(8)
		default:
			o.MaxTokens = 1 + rng.IntN(300)
			o.MinTokens = rng.IntN(o.MaxTokens + 1)
		}
		out[i] = o
	}
	return out
}

// sameSample reports how got differs from want, bit for bit ("" if not).
func sameSample(got, want Sample) string {
	if !slices.Equal(got.Tokens, want.Tokens) || got.Stop != want.Stop || math.Float64bits(got.LogProb) != math.Float64bits(want.LogProb) {
		return fmt.Sprintf("got %v (%s, log p %v), want %v (%s, log p %v)", got.Tokens, got.Stop, got.LogProb, want.Tokens, want.Stop, want.LogProb)
	}
	return ""
}

// TestBatchSamplerTextIsTheLoneText is the batch-invariance promise: for
// word, char and RNN models and 64 mixed requests each (seeds, prompts,
// temperatures, nucleus, lengths), every sample drawn in a batch — of 1, or
// among 1, 7 or 31 others, all starting at the same step, and again with the
// rest joining while the first are under way and each leaving when it ends
// — has the tokens, log-probability and stop reason that LM.Sample gives it
// alone, bit for bit.
func TestBatchSamplerTextIsTheLoneText(t *testing.T) {
	ctx := context.Background()
	for name, m := range invarianceModels(t) {
		t.Run(name, func(t *testing.T) {
			reqs := mixedRequests(m, rand.New(rand.NewPCG(uint64(len(name)), 1)), 64)
			want := make([]Sample, len(reqs))
			for i, o := range reqs {
				s, err := m.Sample(ctx, o)
				if err != nil {
					t.Fatalf("request %d alone: %v", i, err)
				}
				want[i] = s
			}
			for _, size := range []int{1, 2, 8, 32} {
				b := NewBatchSampler(m)
				lim := BatchLimits{MaxBatch: size, MaxQueued: len(reqs)}
				// The first size requests are queued before the batch steps
				// at all, so they start together; the others queue behind them
				// and join as places free up.
				b.mu.Lock()
				b.running = true
				b.mu.Unlock()
				rs := make([]*request, len(reqs))
				for i, o := range reqs {
					r, err := b.submit(ctx, o, lim, false)
					if err != nil {
						t.Fatal(err)
					}
					rs[i] = r
				}
				go b.run()
				for i, r := range rs {
					got, err := b.wait(ctx, r)
					if err != nil {
						t.Fatalf("batch of %d, request %d: %v", size, i, err)
					}
					if d := sameSample(got, want[i]); d != "" {
						t.Errorf("batch of %d, request %d (%+v): %s", size, i, reqs[i], d)
					}
				}
				if st := b.Stats(); st.Peak != size || st.Rows <= st.Steps && size > 1 {
					t.Errorf("batch of %d: at most %d sequences stepped together, %d sequence steps in %d batch steps", size, st.Peak, st.Rows, st.Steps)
				}
			}
		})
	}
}

// TestBatchSamplerConcurrentCallers samples 96 mixed requests from 32
// goroutines through the public Sample, as the bot does, and wants each
// caller's lone text; the batch must have held several sequences at once.
func TestBatchSamplerConcurrentCallers(t *testing.T) {
	m := invarianceModels(t)["char-lstm.ckpt"]
	ctx := context.Background()
	reqs := mixedRequests(m, rand.New(rand.NewPCG(3, 3)), 96)
	b := NewBatchSampler(m)
	lim := BatchLimits{MaxBatch: 32, MaxQueued: 96}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(reqs); i += 32 {
				got, err := b.Sample(ctx, reqs[i], lim)
				if err != nil {
					t.Error(err)
					return
				}
				want, err := m.Sample(ctx, reqs[i])
				if err != nil {
					t.Error(err)
					return
				}
				if d := sameSample(got, want); d != "" {
					t.Errorf("request %d: %s", i, d)
				}
			}
		}()
	}
	wg.Wait()
	st := b.Stats()
	if st.Rows <= st.Steps {
		t.Errorf("%d sequence steps in %d batch steps: never more than one sequence at a time", st.Rows, st.Steps)
	}
	if st.Active != 0 || st.Queued != 0 {
		t.Errorf("after the last answer: %+v, want an empty batch", st)
	}
	t.Logf("mean batch %.1f over %d steps", float64(st.Rows)/float64(st.Steps), st.Steps)
}

// TestBatchSamplerBusy fills a batch of 2 and a queue of 1, and wants the
// next request refused at once with ErrBusy while the others still get
// their lone text; bad limits are refused too.
func TestBatchSamplerBusy(t *testing.T) {
	m := invarianceModels(t)["char-lstm.ckpt"]
	ctx := context.Background()
	b := NewBatchSampler(m)
	lim := BatchLimits{MaxBatch: 2, MaxQueued: 1}
	b.mu.Lock()
	b.running = true // hold the batch still while it fills
	b.mu.Unlock()
	o := SampleOptions{Temperature: 0.8, MaxTokens: 50, MinTokens: 50}
	var rs []*request
	for i := range 3 {
		o.Seed = uint64(i)
		r, err := b.submit(ctx, o, lim, false)
		if err != nil {
			t.Fatalf("request %d of 3 within the limits: %v", i, err)
		}
		rs = append(rs, r)
	}
	start := time.Now()
	o.Seed = 3
	if _, err := b.Sample(ctx, o, lim); !errors.Is(err, ErrBusy) {
		t.Fatalf("fourth request: %v, want ErrBusy", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refusal took %v: it must not wait", d)
	}
	go b.run()
	for i, r := range rs {
		got, err := b.wait(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		o.Seed = uint64(i)
		want, _ := m.Sample(ctx, o)
		if d := sameSample(got, want); d != "" {
			t.Errorf("request %d: %s", i, d)
		}
	}
	for _, bad := range []BatchLimits{{MaxBatch: 0}, {MaxBatch: 1, MaxQueued: -1}} {
		if _, err := b.Sample(ctx, o, bad); !errors.Is(err, ErrSampleOptions) {
			t.Errorf("limits %+v: %v, want ErrSampleOptions", bad, err)
		}
	}
	if _, err := b.Sample(ctx, SampleOptions{Temperature: -1}, lim); !errors.Is(err, ErrTemperature) {
		t.Errorf("bad temperature: %v, want ErrTemperature", err)
	}
}

// TestBatchSamplerCancel cancels one caller in a running batch and one still
// waiting in the queue: both return the context's error at once, leave the
// batch, and the others keep their lone text.
func TestBatchSamplerCancel(t *testing.T) {
	m := invarianceModels(t)["wide char [64 128]"]
	b := NewBatchSampler(m)
	lim := BatchLimits{MaxBatch: 2, MaxQueued: 4}
	o := SampleOptions{Temperature: 1, MaxTokens: 300, MinTokens: 300}
	ctxs := make([]context.Context, 4)
	cancels := make([]context.CancelFunc, 4)
	b.mu.Lock()
	b.running = true
	b.mu.Unlock()
	var rs []*request
	for i := range 4 {
		ctxs[i], cancels[i] = context.WithCancel(context.Background())
		defer cancels[i]()
		o.Seed = uint64(i)
		r, err := b.submit(ctxs[i], o, lim, false)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	go b.run()
	// Request 0 is in the batch, request 2 waits for a place.
	cancels[0]()
	cancels[2]()
	for _, i := range []int{0, 2} {
		if _, err := b.wait(ctxs[i], rs[i]); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled request %d: %v, want context.Canceled", i, err)
		}
	}
	for _, i := range []int{1, 3} {
		got, err := b.wait(ctxs[i], rs[i])
		if err != nil {
			t.Fatal(err)
		}
		o.Seed = uint64(i)
		want, _ := m.Sample(context.Background(), o)
		if d := sameSample(got, want); d != "" {
			t.Errorf("request %d: %s", i, d)
		}
	}
	// The stepping goroutine ends when nothing is left.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		b.mu.Lock()
		running := b.running
		b.mu.Unlock()
		if !running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stepping goroutine still runs with nothing to do")
		}
	}
	if st := b.Stats(); st.Active != 0 || st.Queued != 0 {
		t.Errorf("after cancelling: %+v, want an empty batch", st)
	}
}
