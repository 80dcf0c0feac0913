package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"commentbot/model/kernel"
)

// gradCase builds a tiny network of cfg over vocab symbols, runs one batch to
// get a non-zero carried state, then compares backward's gradient with
// fourth-order central finite differences of forward's mean loss for every parameter.
func gradCheck(t *testing.T, cfg Config, vocab, streams, steps, every int) (worst float64, checked int) {
	t.Helper()
	lo := newLayout(cfg, vocab)
	rng := rand.New(rand.NewPCG(1, 2))
	p := view(lo, make([]float64, lo.size))
	initParams(lo, p, rng, 0.5, 1)
	// Biases start at 0; make them random too so their gradients are generic.
	for l := range p.b {
		for j := range p.b[l] {
			p.b[l][j] += (rng.Float64() - 0.5) * 0.2
		}
	}
	for j := range p.by {
		p.by[j] = (rng.Float64() - 0.5) * 0.2
	}
	g := view(lo, make([]float64, lo.size))
	w := newWork[float64](lo, streams, steps, cfg.Dropout > 0)
	defer w.close()
	be := kernel.Default()
	in := make([]int, streams*steps)
	tg := make([]int, streams*steps)
	fill := func() {
		for i := range in {
			in[i] = rng.IntN(vocab)
			tg[i] = rng.IntN(vocab)
		}
		// One position without a target exercises the "no target" path.
		tg[len(tg)-1] = -1
		if !w.load(in, tg) {
			t.Fatal("load refused valid ids")
		}
	}
	fill()
	w.forward(be, p, true, cfg.Dropout, rand.New(rand.NewPCG(9, 9)))
	w.carry()
	fill()
	loss := func() float64 {
		// Same seed every call: the same dropout masks.
		l, n := w.forward(be, p, true, cfg.Dropout, rand.New(rand.NewPCG(3, 4)))
		return l / float64(n)
	}
	loss()
	w.backward(be, p, g)
	// Fourth-order central difference: truncation O(h⁴) and round-off
	// ~1e-16/h stay far below the 1e-5 tolerance even for tiny gradients.
	const h = 1e-3
	at := func(i int, d float64) float64 {
		old := p.all[i]
		p.all[i] = old + d
		l := loss()
		p.all[i] = old
		return l
	}
	for i := 0; i < len(p.all); i += every {
		num := (-at(i, 2*h) + 8*at(i, h) - 8*at(i, -h) + at(i, -2*h)) / (12 * h)
		ana := g.all[i]
		den := math.Abs(num) + math.Abs(ana)
		if den < 1e-8 {
			// Both zero (e.g. embedding rows of unseen tokens): agree exactly enough.
			if math.Abs(num-ana) > 1e-9 {
				t.Errorf("param %d: analytic %g, numeric %g", i, ana, num)
			}
			continue
		}
		rel := math.Abs(num-ana) / den
		checked++
		worst = max(worst, rel)
		if rel > 1e-5 {
			t.Errorf("param %d: analytic %.10g, numeric %.10g, relative error %.3g", i, ana, num, rel)
		}
	}
	return worst, checked
}

// TestGradientsMatchFiniteDifferences tries every parameter of an LSTM, an
// RNN, an embedded LSTM and a two-layer stack (with and without dropout) and
// wants the analytic gradient within relative error 1e-5 of central
// differences in float64, and the same for a sample of the parameters of a
// model whose widths get padded row strides.
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
	}{
		{"lstm one-hot", Config{Kind: CharLSTM, Hidden: []int{4}}},
		{"lstm embedded", Config{Kind: WordLSTM, Embed: 3, Hidden: []int{4}}},
		{"rnn one-hot", Config{Kind: RNN, Hidden: []int{5}}},
		{"rnn embedded two layers", Config{Kind: RNN, Embed: 3, Hidden: []int{4, 3}}},
		{"lstm two layers", Config{Kind: CharLSTM, Hidden: []int{4, 3}}},
		{"lstm two layers dropout", Config{Kind: WordLSTM, Embed: 3, Hidden: []int{3, 4}, Dropout: 0.4}},
		// Widths that are multiples of 64 get padded row strides (see stride).
		{"lstm padded strides", Config{Kind: WordLSTM, Embed: 64, Hidden: []int{16}, Dropout: 0.2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vocab, every := 6, 1
			if c.cfg.Embed == 64 {
				vocab, every = 64, 5 // a fifth of the 12928 slab entries, to keep the test short
			}
			worst, n := gradCheck(t, c.cfg, vocab, 3, 4, every)
			lo := newLayout(c.cfg, vocab)
			if n < lo.count/3/every {
				t.Errorf("only %d of %d parameters had a non-zero gradient", n, lo.count)
			}
			t.Logf("%d of %d parameters (slab %d) checked, worst relative error %.2g", n, lo.count, lo.size, worst)
		})
	}
}
