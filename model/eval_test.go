package model

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"

	"commentbot/corpus"
	"commentbot/text"
	"commentbot/tokens"
)

// TestEvaluateStdErrOverComments recomputes Evaluate's loss and standard
// error from scratch: every stream of the held-out batches is run token by
// token through the batch-1 sampler step (a separate code path from the
// batched forward), each target's −log p is summed per comment as the
// Batcher numbered them, and the delta-method formula is applied by hand.
func TestEvaluateStdErrOverComments(t *testing.T) {
	_, valid := sampleSplit(t)
	v := vocabOf(t, valid, text.LevelChar, 0)
	m := tinyModel(t, CharLSTM, v, 0, []int{12, 10}, 3, 16, 5)
	const B, T = 3, 16
	ev, err := m.Evaluate(context.Background(), corpus.NewBatcher(valid, text.LevelChar, v, B, T), 0)
	if err != nil {
		t.Fatal(err)
	}

	sums, counts := commentLossesByHand(t, m, corpus.NewBatcher(valid, text.LevelChar, v, B, T), B, T)
	var total, n float64
	for c := range sums {
		total += sums[c]
		n += counts[c]
	}
	mean := total / n
	var dev float64
	for c := range sums {
		d := sums[c] - mean*counts[c]
		dev += d * d
	}
	C := float64(len(sums))
	se := math.Sqrt(C/(C-1)*dev) / n
	t.Logf("%d targets in %d comments: loss %.4f ± %.4f", ev.Tokens, ev.Comments, ev.Loss, ev.StdErr)
	if ev.Comments != len(sums) || ev.Tokens != int64(n) || len(sums) < 10 {
		t.Errorf("Evaluate counted %d comments and %d targets, the batches hold %d and %.0f", ev.Comments, ev.Tokens, len(sums), n)
	}
	if math.Abs(ev.Loss-mean) > 1e-4 || math.Abs(ev.StdErr-se) > 1e-4*se || !(se > 0) {
		t.Errorf("Evaluate: %.6f ± %.6f, recomputed %.6f ± %.6f", ev.Loss, ev.StdErr, mean, se)
	}
}

// commentLossesByHand runs every stream of b token by token through the
// batch-1 sampler step (a separate code path from the batched forward) and
// sums each target's −log p per comment, as the Batcher numbered them.
func commentLossesByHand(t *testing.T, m *LM, b *corpus.Batcher, B, T int) (sums, counts map[int]float64) {
	t.Helper()
	defer b.Close()
	samplers := make([]*sampler, B)
	for s := range samplers {
		samplers[s] = newSampler(m.lo)
	}
	sums, counts = map[int]float64{}, map[int]float64{}
	var batch tokens.Batch
	for {
		err := b.Next(context.Background(), &batch)
		if errors.Is(err, io.EOF) {
			return sums, counts
		}
		if err != nil {
			t.Fatal(err)
		}
		for s, sm := range samplers {
			for k := s * T; k < (s+1)*T; k++ {
				step(m.be, m.lo, m.p, sm.h, sm.c, sm.g, sm.x, sm.logits, batch.Inputs[k])
				mx := math.Inf(-1)
				for _, z := range sm.logits[:m.lo.vocab] {
					mx = max(mx, float64(z))
				}
				sum := 0.0
				for _, z := range sm.logits[:m.lo.vocab] {
					sum += math.Exp(float64(z) - mx)
				}
				c := batch.Comments[k]
				sums[c] += math.Log(sum) + mx - float64(sm.logits[batch.Targets[k]])
				counts[c]++
			}
		}
	}
}

// DiffStdErr is the paired standard error of two evaluations' difference,
// recomputed by hand from both models' per-comment losses; comment
// difficulty cancels, so it is far below either evaluation's own error. The
// same weights differ by exactly nothing, and evaluations of different
// comments cannot be paired.
func TestDiffStdErrPairsTheComments(t *testing.T) {
	_, valid := sampleSplit(t)
	v := vocabOf(t, valid, text.LevelChar, 0)
	const B, T = 3, 16
	a := tinyModel(t, CharLSTM, v, 0, []int{12, 10}, 3, 16, 5)
	b := tinyModel(t, CharLSTM, v, 0, []int{12, 10}, 3, 16, 5)
	copy(b.w, a.w)
	for i := range b.w {
		b.w[i] *= 1.02 // a nearby model: the next evaluation of a training run
	}
	eval := func(m *LM, streams int) Eval {
		ev, err := m.Evaluate(context.Background(), corpus.NewBatcher(valid, text.LevelChar, v, streams, T), 0)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	ea, eb := eval(a, B), eval(b, B)
	sa, counts := commentLossesByHand(t, a, corpus.NewBatcher(valid, text.LevelChar, v, B, T), B, T)
	sb, _ := commentLossesByHand(t, b, corpus.NewBatcher(valid, text.LevelChar, v, B, T), B, T)
	var n, diff float64
	for c := range sa {
		n += counts[c]
		diff += sb[c] - sa[c]
	}
	D := diff / n
	var dev float64
	for c := range sa {
		d := sb[c] - sa[c] - D*counts[c]
		dev += d * d
	}
	C := float64(len(sa))
	want := math.Sqrt(C/(C-1)*dev) / n
	got := eb.DiffStdErr(ea)
	t.Logf("loss %.4f ± %.4f and %.4f ± %.4f; difference %.5f ± %.5f (paired)", ea.Loss, ea.StdErr, eb.Loss, eb.StdErr, eb.Loss-ea.Loss, got)
	if math.Abs(eb.Loss-ea.Loss-D) > 1e-4 || math.Abs(got-want) > 1e-3*want || !(want > 0) {
		t.Errorf("DiffStdErr %.6f of a difference %.6f, recomputed %.6f of %.6f", got, eb.Loss-ea.Loss, want, D)
	}
	if !(got < ea.StdErr/3) {
		t.Errorf("paired error %.5f not well below the unpaired %.5f", got, ea.StdErr)
	}
	if same := eval(a, B).DiffStdErr(ea); same != 0 {
		t.Errorf("the same weights twice: paired error %v, want 0", same)
	}
	for name, other := range map[string]Eval{"other streams": eval(b, B+1), "no per-comment losses": {Loss: eb.Loss, StdErr: eb.StdErr}} {
		if d := other.DiffStdErr(ea); !math.IsNaN(d) {
			t.Errorf("%s: paired error %v, want NaN", name, d)
		}
	}
}

// Batches without comment numbers fall back to one unit per stream and
// batch; fewer than two units leave the standard error unknown.
func TestEvaluateStdErrWithoutComments(t *testing.T) {
	v := charVocab(memoText)
	m := tinyModel(t, CharLSTM, v, 0, []int{8}, 2, 8, 1)
	data := encodeChars(v, memoText, memoText)
	ev, err := m.Evaluate(context.Background(), newSliceBatches(data, 2, 8), 0)
	if err != nil {
		t.Fatal(err)
	}
	batches := int(newSliceBatches(data, 2, 8).perEpoch())
	if ev.Comments != 2*batches || !(ev.StdErr > 0) {
		t.Errorf("%d units with standard error %v, want %d stream segments and a positive error", ev.Comments, ev.StdErr, 2*batches)
	}
	ev, err = m.Evaluate(context.Background(), newSliceBatches(data[:10], 1, 8), 0)
	if err != nil || ev.Comments != 1 || !math.IsNaN(ev.StdErr) {
		t.Errorf("one unit: %+v, %v; want a NaN standard error", ev, err)
	}
}
