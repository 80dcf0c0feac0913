package model

import (
	"math/rand/v2"

	"commentbot/model/kernel"
)

// layerWork is the per-layer workspace of a B×T truncated-BPTT pass. Rows
// are time-major: row r = t·B + s holds stream s at step t, so the rows of
// one step are contiguous and the per-step recurrent product is one GEMM.
// Matrices have row stride stride(cols); the padding columns stay 0.
type layerWork[F kernel.Float] struct {
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
type work[F kernel.Float] struct {
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
	// be is the backend with this workspace's GEMM workers (see backend),
	// stop ends them.
	be   kernel.Backend
	stop func()
	// rowLoss, when not nil (evaluation), receives each row's loss −log p(y)
	// from forward (0 for rows without a target).
	rowLoss []float64
}

// backend returns be with the workspace's GEMM workers, starting them on
// first use when be splits GEMMs (kernel.WithWorkers).
func (w *work[F]) backend(be kernel.Backend) kernel.Backend {
	if w.stop == nil {
		w.be, w.stop = kernel.WithWorkers[F](be)
	}
	return w.be
}

// close stops the workspace's GEMM workers; the workspace may be used again
// (new workers start on demand).
func (w *work[F]) close() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
}

func newWork[F kernel.Float](lo *layout, streams, steps int, dropout bool) *work[F] {
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

// setState puts every stream in the state st (a sampler's start state).
func (w *work[F]) setState(st *startState) {
	for l := range w.layers {
		lw := &w.layers[l]
		sh := stride(w.lo.hidden[l])
		for s := range w.B {
			for j, v := range st.h[l] {
				lw.h[s*sh+j] = F(v)
			}
			if lw.c != nil {
				for j, v := range st.c[l] {
					lw.c[s*sh+j] = F(v)
				}
			}
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
func fillMask[F kernel.Float](mask []F, p float64, rng *rand.Rand) {
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
func applyMask[F kernel.Float](dst, src, mask []F) {
	if mask == nil {
		copy(dst, src)
		return
	}
	for i, m := range mask[:len(dst)] {
		dst[i] = src[i] * m
	}
}

// transpose sets dst (cols × rows, row stride ldd) to the transpose of src
// (rows × cols, row stride lds), in 32×32 tiles for cache locality.
func transpose[F kernel.Float](dst, src []F, rows, cols, lds, ldd int) {
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
func colSum[F kernel.Float](dst, m []F, cols, ld int) {
	clear(dst)
	dst = dst[:cols]
	for r := 0; r+cols <= len(m); r += ld {
		for j, v := range m[r : r+cols] {
			dst[j] += v
		}
	}
}
