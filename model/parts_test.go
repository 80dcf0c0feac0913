package model

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestAdamMatchesTextbook runs Adam.Update for a few steps and compares with
// the bias-corrected rule m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ), w −= lr·m̂/(√v̂+ε)
// computed in float64 from scratch.
func TestAdamMatchesTextbook(t *testing.T) {
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	w := []float32{0.5, -1, 2, 0}
	ref := []float64{0.5, -1, 2, 0}
	m, v := make([]float64, 4), make([]float64, 4)
	a := NewAdam(4, b1, b2, eps)
	for step := 1; step <= 5; step++ {
		g := []float32{0.1 * float32(step), -0.3, 1e-4, float32(step%2) - 0.5}
		a.Update(w, g, lr)
		for i := range ref {
			gi := float64(g[i])
			m[i] = b1*m[i] + (1-b1)*gi
			v[i] = b2*v[i] + (1-b2)*gi*gi
			mh, vh := m[i]/(1-math.Pow(b1, float64(step))), v[i]/(1-math.Pow(b2, float64(step)))
			ref[i] -= lr * mh / (math.Sqrt(vh) + eps)
		}
	}
	for i := range ref {
		if d := math.Abs(float64(w[i]) - ref[i]); d > 1e-6 {
			t.Errorf("w[%d] = %v, textbook %v (diff %g)", i, w[i], ref[i], d)
		}
	}
	if a.Step != 5 {
		t.Errorf("step %d, want 5", a.Step)
	}
}

// TestClipGlobalNorm wants gradients above the threshold scaled to it and
// gradients below it untouched.
func TestClipGlobalNorm(t *testing.T) {
	cases := []struct {
		g        []float64
		clip     float64
		wantNorm float64
		after    float64
	}{
		{[]float64{3, 4}, 1, 5, 1},
		{[]float64{3, 4}, 10, 5, 5},
		{[]float64{3, 4}, 0, 5, 5},
		{[]float64{0, 0}, 1, 0, 0},
	}
	for _, c := range cases {
		g := append([]float64(nil), c.g...)
		n := clipGlobalNorm(g, c.clip)
		if math.Abs(n-c.wantNorm) > 1e-12 || math.Abs(globalNorm(g)-c.after) > 1e-12 {
			t.Errorf("clip %v of %v: norm %v then %v, want %v then %v", c.clip, c.g, n, globalNorm(g), c.wantNorm, c.after)
		}
	}
	if n := clipGlobalNorm([]float32{1, float32(math.NaN())}, 1); !math.IsNaN(n) {
		t.Errorf("norm of a NaN gradient is %v, want NaN (the divergence check relies on it)", n)
	}
}

// TestDropoutMask wants about a fraction p of zeros and mean 1 (inverted
// dropout), the same mask from the same seed, and another from another.
func TestDropoutMask(t *testing.T) {
	for _, p := range []float64{0.1, 0.4, 0.75} {
		m := make([]float32, 100001)
		fillMask(m, p, rand.New(rand.NewPCG(1, 2)))
		zeros, sum := 0, 0.0
		for _, v := range m {
			if v == 0 {
				zeros++
			} else if math.Abs(float64(v)-1/(1-p)) > 1e-6 {
				t.Fatalf("p=%v: kept value %v, want %v", p, v, 1/(1-p))
			}
			sum += float64(v)
		}
		if f := float64(zeros) / float64(len(m)); math.Abs(f-p) > 0.01 {
			t.Errorf("p=%v: %.4f zeros", p, f)
		}
		if mean := sum / float64(len(m)); math.Abs(mean-1) > 0.02 {
			t.Errorf("p=%v: mean %.4f, want 1", p, mean)
		}
		same := make([]float32, len(m))
		fillMask(same, p, rand.New(rand.NewPCG(1, 2)))
		other := make([]float32, len(m))
		fillMask(other, p, rand.New(rand.NewPCG(3, 2)))
		if string(f32bytes(same)) != string(f32bytes(m)) || string(f32bytes(other)) == string(f32bytes(m)) {
			t.Errorf("p=%v: masks not determined by the seed", p)
		}
	}
}

func f32bytes(x []float32) []byte {
	b := make([]byte, len(x))
	for i, v := range x {
		if v != 0 {
			b[i] = 1
		}
	}
	return b
}

// TestUnigramLoss computes the add-one unigram cross-entropy by hand on a
// small stream and wants UnigramLoss to agree.
func TestUnigramLoss(t *testing.T) {
	train := []int{0, 1, 1, 2, 1, 0, 1, 2, 2}
	valid := []int{2, 1, 3, 1, 0}
	const V = 4
	got, err := UnigramLoss(context.Background(), newSliceBatches(train, 2, 2), newSliceBatches(valid, 1, 4), V, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Train: streams [0 1 1 2 1] and [1 0 1 2 2] (4 tokens each plus the
	// next as target), two batches of 2 steps → targets 1 1 2 1 | 0 1 2 2.
	// Valid: one stream, one batch → targets 1 3 1 0.
	counts := map[int]float64{0: 1, 1: 4, 2: 3}
	n := 8.0
	want := 0.0
	for _, y := range []int{1, 3, 1, 0} {
		want -= math.Log((counts[y] + 1) / (n + V))
	}
	want /= 4
	if math.Abs(got.Loss-want) > 1e-12 || got.Tokens != 4 {
		t.Errorf("unigram loss %v over %d, want %v over 4", got.Loss, got.Tokens, want)
	}
}

// TestTopPTinyIsGreedy wants nucleus sampling with a tiny top-p to keep only
// the most likely token, i.e. to agree with greedy decoding for any seed.
func TestTopPTinyIsGreedy(t *testing.T) {
	m := tinyModel(t, WordLSTM, wordVocab(), 4, []int{6}, 2, 3, 8)
	greedy, err := sampleText(context.Background(), m, SampleOptions{Temperature: ArgmaxTemperature / 10, MaxTokens: 15}, "")
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(10) {
		s, err := sampleText(context.Background(), m, SampleOptions{Temperature: 1, TopP: 1e-9, Seed: seed, MaxTokens: 15}, "")
		if err != nil {
			t.Fatal(err)
		}
		if s.Text != greedy.Text {
			t.Errorf("seed %d: top-p 1e-9 gave %q, greedy %q", seed, s.Text, greedy.Text)
		}
	}
}

// TestLearningRateDecays trains two epochs and wants lr·decay².
func TestLearningRateDecays(t *testing.T) {
	v := charVocab(memoText)
	cfg := DefaultConfig(CharLSTM)
	cfg.Hidden, cfg.Streams, cfg.Steps, cfg.LRDecay = []int{4}, 2, 8, 0.97
	m, err := New(cfg, v, rand.NewPCG(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	cp := NewCheckpoint(m, 1)
	data := encodeChars(v, strings.Repeat(memoText, 3))
	if _, err := Train(context.Background(), cp, newSliceBatches(data, 2, 8), nil, TrainOptions{MaxEpochs: 2}); err != nil {
		t.Fatal(err)
	}
	want := m.cfg.LearningRate * m.cfg.LRDecay * m.cfg.LRDecay
	if math.Abs(cp.State.LR-want) > 1e-15 || cp.State.Epoch != 2 {
		t.Errorf("after %d epochs lr %v, want %v", cp.State.Epoch, cp.State.LR, want)
	}
}
