package model

import (
	"math"
	"math/rand/v2"
	"sync"

	"commentbot/model/kernel"
)

// forward runs the model over the loaded batch, layer by layer, and returns
// the summed cross-entropy −Σ log p(target) (nats) and the number of
// targets. With train set it draws dropout masks from rng (rate dropout) and
// leaves ∂(mean loss)/∂logits = (softmax − onehot)/count in w.logits for
// backward.
//
// Rows are time-major, n = T·B of them (row t·B+s is stream s at step t);
// per layer l with input width in_l, hidden width H_l and gate width G_l:
//
//	x_0      n × E       embedding rows of the ids (one-hot input: none)
//	g_l      n × G_l     b + x_l·Wx_l, then per step + h_{t−1}·Wh_l, then the cell's activations
//	h_l      (T+1)·B × H_l   the B carried rows, then one block of B rows per step
//	x_{l+1}  n × H_l     h_l times the layer's dropout mask
//	logits   n × V       x_top·Wy + by
//
// Per step, with x_t the layer input and h_{t−1}, c_{t−1} the state:
//
//	LSTM: [a_i a_f a_o a_g] = x_t·Wx + h_{t−1}·Wh + b
//	      i = σ(a_i), f = σ(a_f), o = σ(a_o), g = tanh(a_g)
//	      c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t)
//	RNN:  h_t = tanh(x_t·Wx + h_{t−1}·Wh + b)
//
// The input products of all T steps are one (n × in)·(in × G) GEMM; the
// recurrent product is one (B × H)·(H × G) GEMM per step; the output layer
// is one (n × H)·(H × V) GEMM.
func (w *work[F]) forward(be kernel.Backend, p params[F], train bool, dropout float64, rng *rand.Rand) (loss float64, count int) {
	be = w.backend(be)
	w.embed(p)
	for l := range w.layers {
		w.inputProjection(be, p, l)
		for t := range w.T {
			w.cellStep(be, p, l, t)
		}
		w.dropOut(l, train && dropout > 0, dropout, rng)
	}
	return w.output(be, p, train)
}

// embed copies the embedding row of each id into layer 0's input:
// x_0[r] = emb[id_r] (n × E). A one-hot model has no x_0: its input
// projection looks up rows of Wx_0 instead.
func (w *work[F]) embed(p params[F]) {
	lo := w.lo
	if lo.embed == 0 {
		return
	}
	E, sE := lo.embed, stride(lo.embed)
	x := w.layers[0].x
	for r, id := range w.ids {
		copy(x[r*sE:r*sE+E], p.emb[int(id)*sE:])
	}
}

// inputProjection starts the gates of every step of layer l with the bias
// and the input term: g = b + x·Wx, (n × in)·(in × G) in one GEMM, or for
// one-hot input g = b + Wx[id], the id's row.
func (w *work[F]) inputProjection(be kernel.Backend, p params[F], l int) {
	lw, lo := &w.layers[l], w.lo
	G, sG := lo.gate[l], stride(lo.gate[l])
	n := w.T * w.B
	for r := range n {
		copy(lw.g[r*sG:r*sG+G], p.b[l])
	}
	if lw.x == nil {
		for r, id := range w.ids {
			row := p.wx[l][int(id)*sG : int(id)*sG+G]
			g := lw.g[r*sG : r*sG+G]
			for j, v := range row {
				g[j] += v
			}
		}
		return
	}
	kernel.Gemm(be, mat(lw.g, n, G), 1, mat(lw.x, n, lo.in[l]), false, mat(p.wx[l], lo.in[l], G))
}

// cellStep runs step t of layer l: the recurrent term g_t += h_{t−1}·Wh,
// (B × H)·(H × G), then the cell on each stream's row (lstmCell; the RNN's
// h_t = tanh(g_t)), which writes h_t (and c_t, tanh(c_t)) into block t+1.
func (w *work[F]) cellStep(be kernel.Backend, p params[F], l, t int) {
	lw, lo, B := &w.layers[l], w.lo, w.B
	H, G := lo.hidden[l], lo.gate[l]
	sH, sG := stride(H), stride(G)
	g := block(lw.g, t*B, (t+1)*B, G)
	kernel.Gemm(be, g, 1, block(lw.h, t*B, (t+1)*B, H), false, mat(p.wh[l], H, G))
	for s := range B {
		gs := g.Data[s*sG : s*sG+G]
		prev, next := (t*B+s)*sH, ((t+1)*B+s)*sH // row s in the blocks of steps t−1 and t
		h := lw.h[next : next+H]
		if lo.cell == CellRNN {
			kernel.Tanh(gs[:H])
			copy(h, gs[:H])
			continue
		}
		lstmCell(gs, lw.c[prev:prev+H], lw.c[next:next+H], lw.tc[prev:prev+H], h)
	}
}

// dropOut passes layer l's outputs (the T blocks after the carried rows)
// up: into x_{l+1}, or the output layer's input for the top layer, times a
// fresh inverted-dropout mask when drop is set.
func (w *work[F]) dropOut(l int, drop bool, rate float64, rng *rand.Rand) {
	lw := &w.layers[l]
	out := lw.h[w.B*stride(w.lo.hidden[l]):]
	dst, mask := w.top, w.topMask
	if l+1 < len(w.layers) {
		dst, mask = w.layers[l+1].x, lw.mask
	}
	if !drop {
		copy(dst, out)
		return
	}
	fillMask(mask, rate, rng)
	applyMask(dst, out, mask)
}

// output computes the logits of the (dropped) top layer, by + top·Wy
// ((n × H_top)·(H_top × V)), and returns the summed loss
// −Σ log softmax(logits)[y] over the rows with a target and their count;
// with train set each row becomes its gradient ∂(mean loss)/∂logits.
func (w *work[F]) output(be kernel.Backend, p params[F], train bool) (loss float64, count int) {
	V, Ht, n := w.lo.vocab, w.lo.top(), w.T*w.B
	sV := stride(V)
	for r := range n {
		copy(w.logits[r*sV:r*sV+V], p.by)
	}
	kernel.Gemm(be, mat(w.logits, n, V), 1, mat(w.top, n, Ht), false, mat(p.wy, Ht, V))
	for _, y := range w.tgt {
		if y >= 0 {
			count++
		}
	}
	inv := 1 / float64(max(count, 1))
	rows := func(r0, r1 int) float64 {
		sum := 0.0
		for r := r0; r < r1; r++ {
			y := w.tgt[r]
			row := w.logits[r*sV : r*sV+V]
			l := 0.0
			if y >= 0 {
				l = softmaxRow(row, int(y), train, inv)
			} else if train {
				clear(row)
			}
			if w.rowLoss != nil {
				w.rowLoss[r] = l
			}
			sum += l
		}
		return sum
	}
	return parallelSum(be.Par(), n, rows), count
}

// parallelSum splits [0, n) into up to parts contiguous chunks, runs fn on
// each (all but the last on new goroutines) and returns the sum of the
// results in chunk order, so the result does not depend on scheduling.
func parallelSum(parts, n int, fn func(r0, r1 int) float64) float64 {
	if parts <= 1 || n < 2*parts {
		return fn(0, n)
	}
	var sums [8]float64
	parts = min(parts, len(sums))
	h := (n + parts - 1) / parts
	var wg sync.WaitGroup
	for i := 0; i*h < n; i++ {
		r0, r1 := i*h, min((i+1)*h, n)
		if r1 == n {
			sums[i] = fn(r0, r1)
			break
		}
		wg.Add(1)
		go func() { defer wg.Done(); sums[i] = fn(r0, r1) }()
	}
	wg.Wait()
	total := 0.0
	for _, s := range sums[:parts] {
		total += s
	}
	return total
}

// softmaxRow returns −log softmax(row)[y]. With grad set it overwrites row
// with (softmax(row) − onehot(y))·scale. float32 rows take the kernel's
// fast exp (sums in float64); float64 rows use package math, so the
// gradient check sees the exact function.
func softmaxRow[F kernel.Float](row []F, y int, grad bool, scale float64) float64 {
	if r32, ok := any(row).([]float32); ok {
		return softmaxRow32(r32, y, grad, scale)
	}
	mx := row[0]
	for _, v := range row[1:] {
		mx = max(mx, v)
	}
	sum := 0.0
	zy := float64(row[y] - mx)
	if !grad {
		for _, v := range row {
			sum += math.Exp(float64(v - mx))
		}
		return math.Log(sum) - zy
	}
	for j, v := range row {
		e := math.Exp(float64(v - mx))
		row[j] = F(e)
		sum += e
	}
	k := F(scale / sum)
	for j, v := range row {
		row[j] = v * k
	}
	row[y] -= F(scale)
	return math.Log(sum) - zy
}

// softmaxRow32 is softmaxRow for float32 with the kernel's exp (sums in
// float64).
func softmaxRow32(row []float32, y int, grad bool, scale float64) float64 {
	mx := row[0]
	for _, v := range row[1:] {
		mx = max(mx, v)
	}
	zy := float64(row[y] - mx)
	if !grad {
		// Keep the logits: exponentiate a copy chunk by chunk.
		var buf [256]float32
		sum := 0.0
		for j := 0; j < len(row); j += len(buf) {
			chunk := buf[:copy(buf[:], row[j:])]
			kernel.ExpShift(chunk, mx)
			for _, e := range chunk {
				sum += float64(e)
			}
		}
		return math.Log(sum) - zy
	}
	kernel.ExpShift(row, mx)
	sum := 0.0
	for _, e := range row {
		sum += float64(e)
	}
	k := float32(scale / sum)
	for j, v := range row {
		row[j] = v * k
	}
	row[y] -= float32(scale)
	return math.Log(sum) - zy
}
