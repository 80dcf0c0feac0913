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
// batch-1 sampler step (a separate code path from the batched forward),
// from the model's start state as a sample starts, and
// sums each target's −log p per comment, as the Batcher numbered them.
func commentLossesByHand(t *testing.T, m *LM, b *corpus.Batcher, B, T int) (sums, counts map[int]float64) {
	t.Helper()
	defer b.Close()
	start := m.startState()
	samplers := make([]*sampler, B)
	for s := range samplers {
		samplers[s] = newSampler(m.lo)
		for l := range start.h {
			copy(samplers[s].h[l], start.h[l])
			copy(samplers[s].c[l], start.c[l])
		}
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

// latchModel is a char LSTM with two hand-set units, the mechanism a real
// model showed 1,000 steps into training on Debian's fortunes. Unit 1
// counts end tokens: each one it reads lowers its cell by 1. Unit 0 latches:
// a 'q' opens its input gate unless unit 1 is negative, and once its output
// is up its own recurrent weight keeps the gate open, so its cell grows at
// every step from then on, and its output makes 'z' the prediction, at
// about 30 nats for any other character. From the zero state a 'q' latches
// it; from the state sampling starts from (the model has just read end
// tokens) it cannot.
func latchModel(t *testing.T) (*LM, *text.Vocab) {
	v := charVocab("abcqz ")
	m := tinyModel(t, CharLSTM, v, 0, []int{2}, 1, 8, 1)
	clear(m.w)
	const H = 2
	i, f, o, g := 0, H, 2*H, 3*H // gate offsets in a row of 4H
	sG := stride(4 * H)
	b, wh, wy := m.p.b[0], m.p.wh[0], m.p.wy
	wx := func(ch string, gate int) *float32 { return &m.p.wx[0][v.ID(ch)*sG+gate] }
	for u := range H {
		b[i+u], b[f+u], b[o+u] = -20, 20, 20
	}
	b[g+0], b[g+1] = 1, -20
	*wx(tokens.CharEnd, i+1) = 40 // an end token opens unit 1 to g = −1
	*wx("q", i+0) = 40
	wh[0*sG+i+0] = 60 // unit 0 keeps its own gate open
	wh[1*sG+i+0] = 30 // unit 1 below 0 keeps it shut
	sV := stride(v.Len())
	wy[0*sV+v.ID("z")] = 30
	m.p.by[v.ID(tokens.CharEnd)], m.p.by[v.ID("q")] = 3, -20
	return m, v
}

// Evaluate starts every stream where a sample starts, not from the zero
// state training almost never sees: on latchModel, text that opens with a
// 'q' costs about 30 nats a character from zero (the defect: a held-out
// loss of 4.85 for 2.39) and a few nats from the start state.
func TestEvaluateStartsWhereSamplesStart(t *testing.T) {
	m, v := latchModel(t)
	data := encodeChars(v, "qab cab", "abc", "cab ba", "ab ca", "b ac ab", "cba", "abc ab")
	const B, T = 1, 8
	ev, err := m.Evaluate(context.Background(), newSliceBatches(data, B, T), 0)
	if err != nil {
		t.Fatal(err)
	}
	// The same batches from the zero state.
	w := newWork[float32](m.lo, B, T, false)
	defer w.close()
	batches := newSliceBatches(data, B, T)
	var zero float64
	var n int
	var batch tokens.Batch
	for batches.Next(context.Background(), &batch) == nil {
		w.load(batch.Inputs, batch.Targets)
		loss, count := w.forward(m.be, m.p, false, 0, nil)
		w.carry()
		zero, n = zero+loss, n+count
	}
	zero /= float64(n)
	st := m.startState()
	t.Logf("held-out loss %.2f nats/char from the start state (unit cells %.1f, %.1f), %.2f from zero", ev.Loss, st.c[0][0], st.c[0][1], zero)
	if !(zero > 15) {
		t.Fatalf("from zero the model did not latch (%.2f nats/char): the test shows nothing", zero)
	}
	if !(ev.Loss < 5) || st.c[0][0] > 0.5 || st.c[0][1] > -1 {
		t.Errorf("Evaluate gave %.2f nats/char: its streams did not start from the start state", ev.Loss)
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
