package model

import (
	"math"
	"math/rand/v2"
	"sync"
)

// layerWork is the per-layer workspace of a B×T truncated-BPTT pass. Rows
// are time-major: row r = t·B + s holds stream s at step t, so the rows of
// one step are contiguous and the per-step recurrent product is one GEMM.
// Matrices have row stride stride(cols); the padding columns stay 0.
type layerWork[F Float] struct {
	x    []F // T·B × in: the layer input (nil for one-hot layer 0)
	g    []F // T·B × G: gate pre-activations, then activations (i, f, o, g)
	h    []F // (T+1)·B × H: rows [0, B) hold the state carried in
	c    []F // (T+1)·B × H: cell state, LSTM only
	tc   []F // T·B × H: tanh(c), LSTM only
	dg   []F // T·B × G: gradient of the loss with respect to the pre-activations
	dh   []F // T·B × H: gradient with respect to the layer's outputs, from above
	dhn  []F // B × H: gradient flowing into h_{t-1} from step t
	dcn  []F // B × H: gradient flowing into c_{t-1} from step t
	mask []F // T·B × H: dropout mask on the layer's output (0 or 1/(1−p))
	whT  []F // G × H: Whᵀ, refreshed each backward (NN GEMMs are the fast ones)
	wxT  []F // G × in: Wxᵀ (nil for one-hot layer 0)
}

// work is the preallocated workspace for one batch shape; it is reused across
// batches, so nothing is allocated inside the training step.
type work[F Float] struct {
	lo      *layout
	T, B    int
	ids     []int32 // T·B input ids, time-major
	tgt     []int32 // T·B target ids, time-major; < 0 = no target
	layers  []layerWork[F]
	top     []F // T·B × H_top: the (dropped) top output, input of the softmax layer
	topMask []F
	logits  []F // T·B × V: logits, then probabilities, then ∂loss/∂logits
	demb    []F // T·B × E: ∂loss/∂embedded input
	dtop    []F // T·B × max H: scratch for ∂loss/∂(layer input)
	wyT     []F // V × H_top: Wyᵀ, refreshed each backward
	pool    *gemmPool[F]
	// rowLoss, when not nil (evaluation), receives each row's loss −log p(y)
	// from forward (0 for rows without a target).
	rowLoss []float64
}

// backend returns be with the workspace's GEMM worker pool, starting the
// pool on first use when be splits GEMMs.
func (w *work[F]) backend(be backend) backend {
	if be.split <= 1 {
		return be
	}
	if w.pool == nil {
		w.pool = newGemmPool[F](be, be.split-1)
	}
	be.pool = w.pool
	return be
}

// close stops the workspace's GEMM workers; the workspace may be used again
// (a new pool starts on demand).
func (w *work[F]) close() {
	if w.pool != nil {
		w.pool.close()
		w.pool = nil
	}
}

func newWork[F Float](lo *layout, streams, steps int, dropout bool) *work[F] {
	T, B := steps, streams
	n := T * B
	w := &work[F]{lo: lo, T: T, B: B, ids: make([]int32, n), tgt: make([]int32, n)}
	maxH := 0
	for l, h := range lo.hidden {
		sh, sg := stride(h), stride(lo.gate[l])
		maxH = max(maxH, sh)
		lw := layerWork[F]{
			g:   make([]F, n*sg),
			h:   make([]F, (T+1)*B*sh),
			dg:  make([]F, n*sg),
			dh:  make([]F, n*sh),
			dhn: make([]F, B*sh),
			whT: make([]F, lo.gate[l]*sh),
		}
		if l > 0 || lo.embed > 0 {
			lw.x = make([]F, n*stride(lo.in[l]))
			lw.wxT = make([]F, lo.gate[l]*stride(lo.in[l]))
		}
		if lo.cell == CellLSTM {
			lw.c = make([]F, (T+1)*B*sh)
			lw.tc = make([]F, n*sh)
			lw.dcn = make([]F, B*sh)
		}
		if dropout && l > 0 {
			w.layers[l-1].mask = make([]F, n*stride(lo.hidden[l-1]))
		}
		w.layers = append(w.layers, lw)
	}
	w.top = make([]F, n*stride(lo.top()))
	if dropout {
		w.topMask = make([]F, n*stride(lo.top()))
	}
	w.logits = make([]F, n*stride(lo.vocab))
	if lo.embed > 0 {
		w.demb = make([]F, n*stride(lo.embed))
	}
	w.dtop = make([]F, n*maxH)
	w.wyT = make([]F, lo.vocab*stride(lo.top()))
	return w
}

// load copies a batch (stream-major, index s·T+t) into the time-major id
// buffers. It reports false when an id is outside [0, V) (targets may be
// negative: no target at that position).
func (w *work[F]) load(inputs, targets []int) bool {
	V := w.lo.vocab
	for s := 0; s < w.B; s++ {
		for t := 0; t < w.T; t++ {
			x, y := inputs[s*w.T+t], targets[s*w.T+t]
			if x < 0 || x >= V || y >= V {
				return false
			}
			r := t*w.B + s
			w.ids[r] = int32(x)
			w.tgt[r] = int32(max(y, -1))
		}
	}
	return true
}

// stateSize is the length of the carried state: h then c of every layer.
func (w *work[F]) stateSize() int {
	n := 0
	for l := range w.layers {
		k := w.B * w.lo.hidden[l]
		n += k
		if w.layers[l].c != nil {
			n += k
		}
	}
	return n
}

// exportState appends the carried states (h, then c, per layer; B rows of
// H each, padding dropped) to dst.
func (w *work[F]) exportState(dst []float32) []float32 {
	for l := range w.layers {
		H, sh := w.lo.hidden[l], stride(w.lo.hidden[l])
		for _, m := range [][]F{w.layers[l].h, w.layers[l].c} {
			if m == nil {
				continue
			}
			for s := range w.B {
				for _, v := range m[s*sh : s*sh+H] {
					dst = append(dst, float32(v))
				}
			}
		}
	}
	return dst
}

// importState restores states saved by exportState; it reports false (and
// changes nothing) when src does not fit.
func (w *work[F]) importState(src []float32) bool {
	if len(src) != w.stateSize() {
		return false
	}
	for l := range w.layers {
		H, sh := w.lo.hidden[l], stride(w.lo.hidden[l])
		for _, m := range [][]F{w.layers[l].h, w.layers[l].c} {
			if m == nil {
				continue
			}
			for s := range w.B {
				for j, v := range src[:H] {
					m[s*sh+j] = F(v)
				}
				src = src[H:]
			}
		}
	}
	return true
}

// resetState zeroes the carried hidden and cell states (start of an epoch).
func (w *work[F]) resetState() {
	for l := range w.layers {
		lw := &w.layers[l]
		h := stride(w.lo.hidden[l])
		clear(lw.h[:w.B*h])
		if lw.c != nil {
			clear(lw.c[:w.B*h])
		}
	}
}

// carry moves the last step's states into the initial rows, so that the next
// batch continues each stream (truncated BPTT: the gradient stops here).
func (w *work[F]) carry() {
	for l := range w.layers {
		lw := &w.layers[l]
		n := w.B * stride(w.lo.hidden[l])
		copy(lw.h[:n], lw.h[w.T*n:])
		if lw.c != nil {
			copy(lw.c[:n], lw.c[w.T*n:])
		}
	}
}

// fillMask draws an inverted-dropout mask: each entry is 0 with probability
// p and 1/(1−p) otherwise, so E[mask] = 1.
func fillMask[F Float](mask []F, p float64, rng *rand.Rand) {
	thr := uint64(p * (1 << 32))
	keep := F(1 / (1 - p))
	i := 0
	for ; i+1 < len(mask); i += 2 {
		u := rng.Uint64()
		mask[i] = keep
		if u&0xffffffff < thr {
			mask[i] = 0
		}
		mask[i+1] = keep
		if u>>32 < thr {
			mask[i+1] = 0
		}
	}
	if i < len(mask) {
		mask[i] = keep
		if rng.Uint64()&0xffffffff < thr {
			mask[i] = 0
		}
	}
}

// applyMask sets dst = src ⊙ mask, or dst = src when mask is nil.
func applyMask[F Float](dst, src, mask []F) {
	if mask == nil {
		copy(dst, src)
		return
	}
	for i, m := range mask[:len(dst)] {
		dst[i] = src[i] * m
	}
}

// forward runs the model over the loaded batch and returns the summed
// cross-entropy −Σ log p(target) (nats) and the number of targets. With
// train set it draws dropout masks from rng (rate p) and leaves
// ∂(mean loss)/∂logits = (softmax − onehot)/count in w.logits for backward.
//
// Per layer and step, with x_t the layer input and h_{t−1}, c_{t−1} the state:
//
//	LSTM: [a_i a_f a_o a_g] = x_t·Wx + h_{t−1}·Wh + b
//	      i = σ(a_i), f = σ(a_f), o = σ(a_o), g = tanh(a_g)
//	      c_t = f⊙c_{t−1} + i⊙g,  h_t = o⊙tanh(c_t)
//	RNN:  h_t = tanh(x_t·Wx + h_{t−1}·Wh + b)
//
// The input products of all T steps are one (T·B × in)·(in × G) GEMM; the
// recurrent product is one (B × H)·(H × G) GEMM per step; the output layer
// is one (T·B × H)·(H × V) GEMM.
func (w *work[F]) forward(be backend, p params[F], train bool, dropout float64, rng *rand.Rand) (loss float64, count int) {
	be = w.backend(be)
	lo := w.lo
	T, B, n := w.T, w.B, w.T*w.B
	drop := train && dropout > 0
	if lo.embed > 0 {
		E, sE := lo.embed, stride(lo.embed)
		x := w.layers[0].x
		for r, id := range w.ids {
			copy(x[r*sE:r*sE+E], p.emb[int(id)*sE:])
		}
	}
	for l := range w.layers {
		lw := &w.layers[l]
		H, G := lo.hidden[l], lo.gate[l]
		sH, sG, sIn := stride(H), stride(G), stride(lo.in[l])
		bias := p.b[l]
		for r := 0; r < n; r++ {
			copy(lw.g[r*sG:r*sG+G], bias)
		}
		if lw.x == nil {
			// One-hot input: x_t·Wx is the row of Wx for the token.
			for r, id := range w.ids {
				row := p.wx[l][int(id)*sG : int(id)*sG+G]
				g := lw.g[r*sG : r*sG+G]
				for j, v := range row {
					g[j] += v
				}
			}
		} else {
			gemm(be, false, false, n, G, lo.in[l], 1, lw.x, sIn, p.wx[l], sG, 1, lw.g, sG)
		}
		for t := 0; t < T; t++ {
			g := lw.g[t*B*sG : (t+1)*B*sG]
			gemm(be, false, false, B, G, H, 1, lw.h[t*B*sH:(t+1)*B*sH], sH, p.wh[l], sG, 1, g, sG)
			hOut := lw.h[(t+1)*B*sH : (t+2)*B*sH]
			if lo.cell == CellRNN {
				for s := 0; s < B; s++ {
					gs, hs := g[s*sG:s*sG+H], hOut[s*sH:s*sH+H]
					tanhRow(gs, gs)
					copy(hs, gs)
				}
				continue
			}
			cPrev := lw.c[t*B*sH : (t+1)*B*sH]
			cOut := lw.c[(t+1)*B*sH : (t+2)*B*sH]
			tcOut := lw.tc[t*B*sH : (t+1)*B*sH]
			for s := 0; s < B; s++ {
				gs := g[s*sG : s*sG+G]
				ai, af, ao, ag := gs[:H], gs[H:2*H], gs[2*H:3*H], gs[3*H:4*H]
				o := s * sH
				cp, co, tco, ho := cPrev[o:o+H], cOut[o:o+H], tcOut[o:o+H], hOut[o:o+H]
				lstmForward(ai, af, ao, ag, cp, co, tco, ho)
			}
		}
		out := lw.h[B*sH:]
		dst := w.top
		var mask []F
		if l+1 < len(w.layers) {
			dst = w.layers[l+1].x
			mask = lw.mask
		} else {
			mask = w.topMask
		}
		if drop {
			fillMask(mask, dropout, rng)
			applyMask(dst, out, mask)
		} else {
			copy(dst, out)
		}
	}
	return w.output(be, p, train)
}

// output computes the logits of the (dropped) top layer and returns the summed
// loss −Σ log softmax(logits)[y] over the rows with a target and their count;
// with train set each row becomes its gradient ∂(mean loss)/∂logits.
func (w *work[F]) output(be backend, p params[F], train bool) (loss float64, count int) {
	V, Ht, n := w.lo.vocab, w.lo.top(), w.T*w.B
	sV, sHt := stride(V), stride(Ht)
	for r := 0; r < n; r++ {
		copy(w.logits[r*sV:r*sV+V], p.by)
	}
	gemm(be, false, false, n, V, Ht, 1, w.top, sHt, p.wy, sV, 1, w.logits, sV)
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
	return parallelSum(be.par, n, rows), count
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

// lstmForward applies the fused LSTM nonlinearities to one row: the gate
// pre-activations in ai, af, ao, ag become i, f, o, g; co = f⊙cp + i⊙g,
// tco = tanh(co), ho = o⊙tco.
// float32 rows take the fast exp (fastmath.go); float64 rows use package
// math, so the gradient check sees exact nonlinearities.
func lstmForward[F Float](ai, af, ao, ag, cp, co, tco, ho []F) {
	if a, ok := any(ai).([]float32); ok {
		lstmForward32(a, any(af).([]float32), any(ao).([]float32), any(ag).([]float32),
			any(cp).([]float32), any(co).([]float32), any(tco).([]float32), any(ho).([]float32))
		return
	}
	n := len(ai)
	af, ao, ag, cp, co, tco, ho = af[:n], ao[:n], ag[:n], cp[:n], co[:n], tco[:n], ho[:n]
	for j := range ai {
		i, f, o, gg := sigmoid(ai[j]), sigmoid(af[j]), sigmoid(ao[j]), tanh(ag[j])
		ai[j], af[j], ao[j], ag[j] = i, f, o, gg
		c := f*cp[j] + i*gg
		tc := tanh(c)
		co[j], tco[j], ho[j] = c, tc, o*tc
	}
}

// tanhRow sets dst = tanh(src) elementwise (fast exp for float32).
func tanhRow[F Float](dst, src []F) {
	if d, ok := any(dst).([]float32); ok {
		copy(d, any(src).([]float32)[:len(d)])
		tanhRow32(d, haveVecMath())
		return
	}
	src = src[:len(dst)]
	for j, v := range src {
		dst[j] = tanh(v)
	}
}

// lstmCell is the batch-1 LSTM update for sampling: g holds the H·4
// pre-activations (i, f, o, g); c and h are updated in place.
func lstmCell[F Float](g, c, h []F) {
	H := len(h)
	if g32, ok := any(g).([]float32); ok {
		c32, h32 := any(c).([]float32)[:H], any(h).([]float32)
		vec := haveVecMath()
		sigmoidRow(g32[:3*H], vec)
		tanhRow32(g32[3*H:4*H], vec)
		for j := range h32 {
			c32[j] = g32[H+j]*c32[j] + g32[j]*g32[3*H+j]
			h32[j] = c32[j]
		}
		tanhRow32(h32, vec)
		for j := range h32 {
			h32[j] *= g32[2*H+j]
		}
		return
	}
	for j := range h {
		i, f, o, gg := sigmoid(g[j]), sigmoid(g[H+j]), sigmoid(g[2*H+j]), tanh(g[3*H+j])
		c[j] = f*c[j] + i*gg
		h[j] = o * tanh(c[j])
	}
}

// softmaxRow returns −log softmax(row)[y]. With grad set it overwrites row
// with (softmax(row) − onehot(y))·scale. float32 rows use the fast exp.
func softmaxRow[F Float](row []F, y int, grad bool, scale float64) float64 {
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

// backward accumulates ∂(mean loss)/∂θ into grad (which it overwrites) after
// forward(train=true). Per LSTM step, with δh = ∂L/∂h_t (from above plus
// from step t+1) and δc from step t+1:
//
//	δo = δh⊙tanh(c_t)            δc ← δc + δh⊙o⊙(1−tanh²(c_t))
//	δi = δc⊙g   δg = δc⊙i   δf = δc⊙c_{t−1}   δc_{t−1} = δc⊙f
//	δa = [δi⊙i(1−i), δf⊙f(1−f), δo⊙o(1−o), δg⊙(1−g²)]
//	δh_{t−1} = δa·Whᵀ
//
// (RNN: δa = δh⊙(1−h_t²).) Weight gradients are whole-sequence GEMMs:
// ∂Wx = Xᵀ·δA, ∂Wh = H_{prev}ᵀ·δA, ∂b = Σ_rows δA, and the layer below gets
// δX = δA·Wxᵀ masked by its dropout mask.
func (w *work[F]) backward(be backend, p, grad params[F]) {
	be = w.backend(be)
	lo := w.lo
	T, B, n := w.T, w.B, w.T*w.B
	V, Ht := lo.vocab, lo.top()
	sV, sHt := stride(V), stride(Ht)
	clear(grad.all)
	transpose(w.wyT, p.wy, Ht, V, sV, sHt)
	for l := range w.layers {
		lw := &w.layers[l]
		G, sG := lo.gate[l], stride(lo.gate[l])
		transpose(lw.whT, p.wh[l], lo.hidden[l], G, sG, stride(lo.hidden[l]))
		if lw.wxT != nil {
			transpose(lw.wxT, p.wx[l], lo.in[l], G, sG, stride(lo.in[l]))
		}
	}
	gemm(be, true, false, Ht, V, n, 1, w.top, sHt, w.logits, sV, 0, grad.wy, sV)
	colSum(grad.by, w.logits, V, sV)
	L := len(w.layers)
	{
		dx := w.dtop[:n*sHt]
		gemm(be, false, false, n, Ht, V, 1, w.logits, sV, w.wyT, sHt, 0, dx, sHt)
		applyMask(w.layers[L-1].dh, dx, w.topMask)
	}
	for l := L - 1; l >= 0; l-- {
		lw := &w.layers[l]
		H, G := lo.hidden[l], lo.gate[l]
		sH, sG := stride(H), stride(G)
		clear(lw.dhn)
		if lw.dcn != nil {
			clear(lw.dcn)
		}
		for t := T - 1; t >= 0; t-- {
			g := lw.g[t*B*sG : (t+1)*B*sG]
			dg := lw.dg[t*B*sG : (t+1)*B*sG]
			dhs := lw.dh[t*B*sH : (t+1)*B*sH]
			if lo.cell == CellRNN {
				for s := 0; s < B; s++ {
					gs, dgs := g[s*sG:s*sG+H], dg[s*sG:s*sG+H]
					dh, dhn := dhs[s*sH:s*sH+H], lw.dhn[s*sH:s*sH+H]
					for j, h := range gs {
						dgs[j] = (dh[j] + dhn[j]) * (1 - h*h)
					}
				}
			} else {
				cPrev := lw.c[t*B*sH : (t+1)*B*sH]
				tcs := lw.tc[t*B*sH : (t+1)*B*sH]
				for s := 0; s < B; s++ {
					gs, dgs := g[s*sG:s*sG+G], dg[s*sG:s*sG+G]
					o := s * sH
					lstmBackward(gs[:H], gs[H:2*H], gs[2*H:3*H], gs[3*H:4*H],
						dgs[:H], dgs[H:2*H], dgs[2*H:3*H], dgs[3*H:4*H],
						cPrev[o:o+H], tcs[o:o+H], dhs[o:o+H], lw.dhn[o:o+H], lw.dcn[o:o+H])
				}
			}
			if t > 0 {
				gemm(be, false, false, B, H, G, 1, dg, sG, lw.whT, sH, 0, lw.dhn, sH)
			}
		}
		gemm(be, true, false, H, G, n, 1, lw.h[:n*sH], sH, lw.dg, sG, 0, grad.wh[l], sG)
		colSum(grad.b[l], lw.dg, G, sG)
		in := lo.in[l]
		sIn := stride(in)
		if lw.x == nil {
			for r, id := range w.ids {
				row := grad.wx[l][int(id)*sG : int(id)*sG+G]
				for j, v := range lw.dg[r*sG : r*sG+G] {
					row[j] += v
				}
			}
			continue
		}
		gemm(be, true, false, in, G, n, 1, lw.x, sIn, lw.dg, sG, 0, grad.wx[l], sG)
		if l > 0 {
			dx := w.dtop[:n*sIn]
			gemm(be, false, false, n, in, G, 1, lw.dg, sG, lw.wxT, sIn, 0, dx, sIn)
			applyMask(w.layers[l-1].dh, dx, w.layers[l-1].mask)
			continue
		}
		E := lo.embed
		gemm(be, false, false, n, E, G, 1, lw.dg, sG, lw.wxT, sIn, 0, w.demb, sIn)
		for r, id := range w.ids {
			row := grad.emb[int(id)*sIn : int(id)*sIn+E]
			for j, v := range w.demb[r*sIn : r*sIn+E] {
				row[j] += v
			}
		}
	}
}

// lstmBackward is the fused per-row LSTM backward step (see backward): from
// the activations i, f, o, g, c_{t−1}, tanh(c_t), the incoming δh (dh + dhn)
// and δc (dcn), it writes the pre-activation gradients di, df, do, dg and
// replaces dcn with δc_{t−1}.
func lstmBackward[F Float](ai, af, ao, ag, di, df, do, dg, cp, tc, dh, dhn, dcn []F) {
	n := len(ai)
	af, ao, ag, di, df, do, dg = af[:n], ao[:n], ag[:n], di[:n], df[:n], do[:n], dg[:n]
	cp, tc, dh, dhn, dcn = cp[:n], tc[:n], dh[:n], dhn[:n], dcn[:n]
	for j := range ai {
		i, f, o, gg, tcj := ai[j], af[j], ao[j], ag[j], tc[j]
		d := dh[j] + dhn[j]
		dc := d*o*(1-tcj*tcj) + dcn[j]
		do[j] = d * tcj * o * (1 - o)
		di[j] = dc * gg * i * (1 - i)
		df[j] = dc * cp[j] * f * (1 - f)
		dg[j] = dc * i * (1 - gg*gg)
		dcn[j] = dc * f
	}
}

// transpose sets dst (cols × rows, row stride ldd) to the transpose of src
// (rows × cols, row stride lds), in 32×32 tiles for cache locality.
func transpose[F Float](dst, src []F, rows, cols, lds, ldd int) {
	const tile = 32
	for i0 := 0; i0 < rows; i0 += tile {
		i1 := min(i0+tile, rows)
		for j0 := 0; j0 < cols; j0 += tile {
			j1 := min(j0+tile, cols)
			for i := i0; i < i1; i++ {
				row := src[i*lds+j0 : i*lds+j1]
				for j, v := range row {
					dst[(j0+j)*ldd+i] = v
				}
			}
		}
	}
}

// colSum sets dst[j] = Σ_r m[r·ld+j] for j < cols.
func colSum[F Float](dst, m []F, cols, ld int) {
	clear(dst)
	dst = dst[:cols]
	for r := 0; r+cols <= len(m); r += ld {
		for j, v := range m[r : r+cols] {
			dst[j] += v
		}
	}
}
