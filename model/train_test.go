package model

import (
	"bytes"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"commentbot/model/kernel"
	"commentbot/tokens"
)

// TestMemorizesShortText trains a small char LSTM on 40 comments that are one
// sentence and wants the training loss near zero and greedy sampling to
// reproduce the comment and end where it ends.
func TestMemorizesShortText(t *testing.T) {
	v := charVocab(memoText)
	data := encodeChars(v, slices.Repeat([]string{memoText}, 40)...)
	m := tinyModel(t, CharLSTM, v, 0, []int{48}, 4, 24, 1)
	m.cfg.Dropout = 0
	m.cfg.LearningRate = 0.01
	cp := NewCheckpoint(m, 7)
	cp.StartRun(0.01)
	res, err := Train(context.Background(), cp, newSliceBatches(data, 4, 24), nil, TrainOptions{MaxEpochs: 40})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := m.Evaluate(context.Background(), newSliceBatches(data, 4, 24), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps, last training loss %.4f, evaluation loss %.4f nats/char", res.Steps, res.Loss, ev.Loss)
	if ev.Loss > 0.05 {
		t.Errorf("evaluation loss %.4f nats/char after %d steps, want < 0.05", ev.Loss, res.Steps)
	}
	s, err := sampleText(context.Background(), m, SampleOptions{Temperature: 1e-4, MaxTokens: len(memoText)}, "the quick")
	if err != nil {
		t.Fatal(err)
	}
	if s.Text != memoText || s.Stop != StopEnd {
		t.Errorf("greedy continuation %q (stop: %s), want %q ending at the end token", s.Text, s.Stop, memoText)
	}
	// Unprompted, a sample starts where comments start (the start state is not
	// the zero state, which the model never trained from).
	for seed := range uint64(5) {
		s, err := sampleText(context.Background(), m, SampleOptions{Temperature: 0.5, MaxTokens: 2 * len(memoText), Seed: seed}, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Text != memoText {
			t.Errorf("seed %d: unprompted sample %q, want the memorized comment %q", seed, s.Text, memoText)
		}
	}
}

// TestResumeMatchesUninterrupted trains 2n steps in one go and n + n steps
// through an Encode/Decode round trip, with dropout, and wants identical
// weights: same optimizer state, data position, carried state and RNG.
func TestResumeMatchesUninterrupted(t *testing.T) {
	v := charVocab(memoText + "ABC")
	data := encodeChars(v, strings.Repeat(memoText+"ABC ", 10))
	const n = 5
	build := func() *Checkpoint {
		m := tinyModel(t, CharLSTM, v, 0, []int{6, 5}, 3, 7, 3)
		return NewCheckpoint(m, 11)
	}
	whole := build()
	if _, err := Train(context.Background(), whole, newSliceBatches(data, 3, 7), nil, TrainOptions{MaxSteps: 2 * n}); err != nil {
		t.Fatal(err)
	}
	half := build()
	b := newSliceBatches(data, 3, 7)
	if _, err := Train(context.Background(), half, b, nil, TrainOptions{MaxSteps: n}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, half); err != nil {
		t.Fatal(err)
	}
	resumed, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), resumed, newSliceBatches(data, 3, 7), nil, TrainOptions{MaxSteps: 2 * n}); err != nil {
		t.Fatal(err)
	}
	if got, want := resumed.State.Step, whole.State.Step; got != want {
		t.Errorf("resumed at step %d, uninterrupted at %d", got, want)
	}
	if !slices.Equal(resumed.Model.w, whole.Model.w) {
		t.Errorf("weights differ after resume")
	}
	if !slices.Equal(resumed.Optimizer.M, whole.Optimizer.M) || resumed.Optimizer.Step != whole.Optimizer.Step {
		t.Errorf("optimizer state differs after resume")
	}
}

// TestTrainStops tries each way training ends and checks the reason, the
// error and that the model is left usable.
func TestTrainStops(t *testing.T) {
	v := charVocab(memoText + "XYZ")
	data := encodeChars(v, strings.Repeat(memoText, 8))
	other := encodeChars(v, strings.Repeat("XYZ zyx XYZ. ", 30))
	cases := []struct {
		name     string
		lr       float64
		patience int
		valid    []int
		opts     TrainOptions
		cancel   bool
		stop     TrainStop
		err      error
	}{
		{"max steps", 0.001, 0, nil, TrainOptions{MaxSteps: 3}, false, StopBudget, nil},
		{"max epochs", 0.001, 0, nil, TrainOptions{MaxEpochs: 2}, false, StopBudget, nil},
		{"cancelled", 0.001, 0, nil, TrainOptions{MaxSteps: 1000}, true, StopCancelled, context.Canceled},
		{"diverges at huge learning rate", 1e38, 0, nil, TrainOptions{MaxSteps: 200}, false, StopDiverged, ErrDiverged},
		{"early stop on held-out loss", 0.02, 2, other, TrainOptions{MaxEpochs: 100, EvalEvery: 2}, false, StopEarly, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyModel(t, CharLSTM, v, 0, []int{16}, 2, 8, 5)
			m.cfg.Patience = c.patience
			cp := NewCheckpoint(m, 1)
			cp.StartRun(c.lr)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			o := c.opts
			steps := 0
			o.Progress = func(p Progress) {
				steps++
				if c.cancel && p.Step >= 2 {
					cancel()
				}
			}
			o.ProgressEvery = time.Nanosecond
			var valid Batches
			if c.valid != nil {
				valid = newSliceBatches(c.valid, 2, 8)
			}
			res, err := Train(ctx, cp, newSliceBatches(data, 2, 8), valid, o)
			if res.Stop != c.stop {
				t.Errorf("stop %q, want %q (err %v)", res.Stop, c.stop, err)
			}
			if (c.err == nil) != (err == nil) || (c.err != nil && !errors.Is(err, c.err)) {
				t.Errorf("error %v, want %v", err, c.err)
			}
			for i, w := range m.w {
				if math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
					t.Fatalf("weight %d is %v after %q", i, w, res.Stop)
				}
			}
			ev, err := m.Evaluate(context.Background(), newSliceBatches(data, 2, 8), 0)
			if err != nil || !finite(ev.Loss) {
				t.Errorf("evaluate after %q: loss %v, error %v", res.Stop, ev.Loss, err)
			}
			if c.stop == StopEarly && res.BestValid > res.ValidLoss {
				t.Errorf("early stop with best %.4f above last %.4f", res.BestValid, res.ValidLoss)
			}
			if c.stop == StopEarly {
				// The best weights are restored: evaluating now gives the best loss.
				ev, _ := m.Evaluate(context.Background(), newSliceBatches(c.valid, 2, 8), 0)
				if math.Abs(ev.Loss-res.BestValid) > 1e-6 {
					t.Errorf("after early stop held-out loss %.6f, best was %.6f", ev.Loss, res.BestValid)
				}
			}
			if steps == 0 {
				t.Errorf("no progress reports")
			}
		})
	}
}

// TestTrainRejectsBadBatches feeds batches of the wrong shape and with
// out-of-range ids and wants ErrBatch, not a panic.
func TestTrainRejectsBadBatches(t *testing.T) {
	v := charVocab(memoText)
	data := encodeChars(v, strings.Repeat(memoText, 4))
	bad := append([]int(nil), data...)
	bad[3] = v.Len() + 5
	cases := []struct {
		name string
		b    *sliceBatches
	}{
		{"wrong shape", newSliceBatches(data, 3, 8)},
		{"id out of range", newSliceBatches(bad, 2, 8)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := tinyModel(t, CharLSTM, v, 0, []int{8}, 2, 8, 1)
			_, err := Train(context.Background(), NewCheckpoint(m, 1), c.b, nil, TrainOptions{MaxSteps: 3})
			if !errors.Is(err, ErrBatch) {
				t.Errorf("error %v, want ErrBatch", err)
			}
		})
	}
}

// TestStepLoopDoesNotAllocate measures the allocations of one training step
// with 8 and with 32 time steps and wants the same count: nothing in the
// per-timestep loop allocates (what remains is per batch: goroutine
// fan-out of the softmax and of gonum's edge GEMMs).
func TestStepLoopDoesNotAllocate(t *testing.T) {
	if !kernel.Default().Assembly() && kernel.Name() == "gonum" {
		t.Skip("plain gonum BLAS (purego or no AVX2) starts goroutines inside every Sgemm; the claim is for the kernel and OpenBLAS paths")
	}
	allocs := func(steps int) float64 {
		cfg := DefaultConfig(CharLSTM)
		cfg.Hidden = []int{32, 64}
		cfg.Streams, cfg.Steps = 8, steps
		m, err := New(cfg, benchVocab(40, true), randSource(1))
		if err != nil {
			t.Fatal(err)
		}
		tr, err := newTrainer(context.Background(), NewCheckpoint(m, 1), newSliceBatches(nil, 1, 1), nil, TrainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.w.close()
		b := tokens.Batch{Streams: 8, Steps: steps}
		for i := range 8 * steps {
			b.Inputs = append(b.Inputs, i%40)
			b.Targets = append(b.Targets, (i*7+1)%40)
		}
		if _, _, err := tr.step(&b); err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(5, func() { _, _, _ = tr.step(&b) })
	}
	short, long := allocs(8), allocs(32)
	t.Logf("allocations per training step: %v with T=8, %v with T=32", short, long)
	if long > short || long > 64 {
		t.Errorf("allocations grow with the steps (%v at T=8, %v at T=32) or exceed 64 per batch", short, long)
	}
}
