package model

import "commentbot/model/kernel"

// backward accumulates ∂(mean loss)/∂θ into grad (which it overwrites) after
// forward(train=true), layer by layer from the top: the output layer, then
// for each recurrent layer its steps backwards through time, its weight
// gradients and the gradient it passes to the layer below.
//
// Shapes as in forward (n = T·B time-major rows): δlogits n × V (left in
// w.logits by forward), δh_l n × H_l (w.layers[l].dh), δA_l n × G_l
// (w.layers[l].dg, the gradient of the gate pre-activations). Per LSTM
// step, with δh = ∂L/∂h_t (from above plus from step t+1) and δc from step
// t+1:
//
//	δo = δh⊙tanh(c_t)            δc ← δc + δh⊙o⊙(1−tanh²(c_t))
//	δi = δc⊙g   δg = δc⊙i   δf = δc⊙c_{t−1}   δc_{t−1} = δc⊙f
//	δa = [δi⊙i(1−i), δf⊙f(1−f), δo⊙o(1−o), δg⊙(1−g²)]
//	δh_{t−1} = δa·Whᵀ
//
// (RNN: δa = δh⊙(1−h_t²).) Weight gradients are whole-sequence GEMMs:
// ∂Wx = Xᵀ·δA, ∂Wh = H_{prev}ᵀ·δA, ∂b = Σ_rows δA, and the layer below gets
// δX = δA·Wxᵀ masked by its dropout mask.
func (w *work[F]) backward(be kernel.Backend, p, grad params[F]) {
	be = w.backend(be)
	clear(grad.all)
	w.transposeWeights(p)
	w.outputBackward(be, grad)
	for l := len(w.layers) - 1; l >= 0; l-- {
		w.throughTime(be, l)
		w.weightGrads(be, grad, l)
		w.inputBackward(be, grad, l)
	}
}

// transposeWeights refreshes Wyᵀ (V × H_top), and per layer Whᵀ (G × H) and
// Wxᵀ (G × in): the products of backward are then NN GEMMs, the fast ones.
func (w *work[F]) transposeWeights(p params[F]) {
	lo := w.lo
	V, Ht := lo.vocab, lo.top()
	transpose(w.wyT, p.wy, Ht, V, stride(V), stride(Ht))
	for l := range w.layers {
		lw := &w.layers[l]
		G, sG := lo.gate[l], stride(lo.gate[l])
		transpose(lw.whT, p.wh[l], lo.hidden[l], G, sG, stride(lo.hidden[l]))
		if lw.wxT != nil {
			transpose(lw.wxT, p.wx[l], lo.in[l], G, sG, stride(lo.in[l]))
		}
	}
}

// outputBackward takes δlogits (n × V) to ∂Wy = topᵀ·δlogits (H_top × V),
// ∂by = Σ_rows δlogits and the top layer's δh = (δlogits·Wyᵀ) ⊙ its dropout
// mask (n × H_top).
func (w *work[F]) outputBackward(be kernel.Backend, grad params[F]) {
	V, Ht, n := w.lo.vocab, w.lo.top(), w.T*w.B
	logits := mat(w.logits, n, V)
	kernel.Gemm(be, mat(grad.wy, Ht, V), 0, mat(w.top, n, Ht), true, logits)
	colSum(grad.by, w.logits, V, stride(V))
	dx := mat(w.dtop[:n*stride(Ht)], n, Ht)
	kernel.Gemm(be, dx, 0, logits, false, mat(w.wyT, V, Ht))
	applyMask(w.layers[len(w.layers)-1].dh, dx.Data, w.topMask)
}

// throughTime runs layer l's steps backwards, t = T−1 … 0: each stream's
// row of δA_t from δh_t (from above) plus δh_{t+1→t} and δc_{t+1→t} (from
// the later step, dhn and dcn), then δh_{t→t−1} = δA_t·Whᵀ, (B × G)·(G × H).
func (w *work[F]) throughTime(be kernel.Backend, l int) {
	lw, lo, B := &w.layers[l], w.lo, w.B
	H, G := lo.hidden[l], lo.gate[l]
	sH, sG := stride(H), stride(G)
	clear(lw.dhn)
	if lw.dcn != nil {
		clear(lw.dcn)
	}
	for t := w.T - 1; t >= 0; t-- {
		dg := block(lw.dg, t*B, (t+1)*B, G)
		for s := range B {
			r := t*B + s // the row of stream s at step t
			gs, dgs := lw.g[r*sG:r*sG+G], dg.Data[s*sG:s*sG+G]
			dh, dhn := lw.dh[r*sH:r*sH+H], lw.dhn[s*sH:s*sH+H]
			if lo.cell == CellRNN {
				rnnCellBackward(gs[:H], dgs[:H], dh, dhn)
				continue
			}
			lstmCellBackward(gs, dgs, lw.c[r*sH:r*sH+H], lw.tc[r*sH:r*sH+H], dh, dhn, lw.dcn[s*sH:s*sH+H])
		}
		if t > 0 {
			kernel.Gemm(be, mat(lw.dhn, B, H), 0, dg, false, mat(lw.whT, G, H))
		}
	}
}

// weightGrads sets ∂Wh = H_prevᵀ·δA ((H × n)·(n × G); H_prev is h shifted
// by one step, the carried rows first), ∂b = Σ_rows δA, and ∂Wx = Xᵀ·δA
// ((in × n)·(n × G)), or for one-hot input adds each row of δA to its id's
// row of ∂Wx.
func (w *work[F]) weightGrads(be kernel.Backend, grad params[F], l int) {
	lw, lo := &w.layers[l], w.lo
	H, G, n := lo.hidden[l], lo.gate[l], w.T*w.B
	sH, sG := stride(H), stride(G)
	dA := mat(lw.dg, n, G)
	kernel.Gemm(be, mat(grad.wh[l], H, G), 0, mat(lw.h[:n*sH], n, H), true, dA)
	colSum(grad.b[l], lw.dg, G, sG)
	if lw.x == nil {
		for r, id := range w.ids {
			row := grad.wx[l][int(id)*sG : int(id)*sG+G]
			for j, v := range lw.dg[r*sG : r*sG+G] {
				row[j] += v
			}
		}
		return
	}
	kernel.Gemm(be, mat(grad.wx[l], lo.in[l], G), 0, mat(lw.x, n, lo.in[l]), true, dA)
}

// inputBackward passes δX = δA·Wxᵀ ((n × G)·(G × in)) down: to the layer
// below as its δh, times its dropout mask, or for layer 0 into the
// embedding rows of the ids (∂emb). A one-hot layer 0 has nothing below.
func (w *work[F]) inputBackward(be kernel.Backend, grad params[F], l int) {
	lw, lo := &w.layers[l], w.lo
	if lw.x == nil {
		return
	}
	in, G, n := lo.in[l], lo.gate[l], w.T*w.B
	sIn := stride(in)
	dA, wxT := mat(lw.dg, n, G), mat(lw.wxT, G, in)
	if l > 0 {
		dx := mat(w.dtop[:n*sIn], n, in)
		kernel.Gemm(be, dx, 0, dA, false, wxT)
		applyMask(w.layers[l-1].dh, dx.Data, w.layers[l-1].mask)
		return
	}
	kernel.Gemm(be, mat(w.demb, n, in), 0, dA, false, wxT)
	for r, id := range w.ids {
		row := grad.emb[int(id)*sIn : int(id)*sIn+in]
		for j, v := range w.demb[r*sIn : r*sIn+in] {
			row[j] += v
		}
	}
}
