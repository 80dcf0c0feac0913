package model

import "commentbot/model/kernel"

// batch is the stepping goroutine's state of a BatchSampler: one row per
// sequence in progress, rows 0…len(reqs)−1 in use, in matrices of row
// stride stride(cols) that grow as sequences join. A row's place changes
// when another leaves (the last row moves into the hole), which changes none
// of its sums.
type batch struct {
	lo      *layout
	cap     int
	h, c, g [][]float32 // per layer: cap × H (state, cell), cap × G (gates)
	x       []float32   // cap × E: embedded inputs (embedding models)
	logits  []float32   // cap × V
	ids     []int       // the id each row is fed at the next step
	reqs    []*request
	draw    drawScratch
}

func newBatch(lo *layout) *batch {
	bt := &batch{lo: lo, draw: newDrawScratch(lo.vocab)}
	bt.grow(4)
	return bt
}

// grow makes room for n rows, keeping the rows in use.
func (bt *batch) grow(n int) {
	if n <= bt.cap {
		return
	}
	n = max(n, 2*bt.cap)
	lo, used := bt.lo, len(bt.reqs)
	resize := func(old []float32, cols int) []float32 {
		s := stride(cols)
		nw := make([]float32, n*s)
		copy(nw, old[:min(len(old), used*s)])
		return nw
	}
	for l, h := range lo.hidden {
		if l >= len(bt.h) {
			bt.h, bt.c, bt.g = append(bt.h, nil), append(bt.c, nil), append(bt.g, nil)
		}
		bt.h[l], bt.c[l], bt.g[l] = resize(bt.h[l], h), resize(bt.c[l], h), resize(bt.g[l], lo.gate[l])
	}
	bt.x = resize(bt.x, max(lo.embed, 1))
	bt.logits = resize(bt.logits, lo.vocab)
	bt.cap = n
}

// join adds r's sequence as the last row, in its start state, and sets its
// first id; a sequence that ends at once (nothing to feed, one draw) is
// answered without a row.
func (bt *batch) join(m *LM, r *request) {
	if r.gone.Load() {
		return
	}
	id, done := r.q.begin(m, r.st, &bt.draw)
	if done {
		r.out = r.q.out
		close(r.done)
		return
	}
	row := len(bt.reqs)
	bt.grow(row + 1)
	for l, H := range bt.lo.hidden {
		s := stride(H)
		copy(bt.h[l][row*s:row*s+H], r.st.h[l])
		copy(bt.c[l][row*s:row*s+H], r.st.c[l])
	}
	bt.reqs = append(bt.reqs, r)
	bt.ids = append(bt.ids, id)
}

// finish answers row r's caller with its sample and removes the row.
func (bt *batch) finish(r int) {
	req := bt.reqs[r]
	req.out = req.q.out
	close(req.done)
	bt.remove(r)
}

// remove drops row r: the last row takes its place, with its state and its
// logits (which the sequence may not have drawn from yet).
func (bt *batch) remove(r int) {
	last := len(bt.reqs) - 1
	if r != last {
		for l, H := range bt.lo.hidden {
			s := stride(H)
			copy(bt.h[l][r*s:r*s+H], bt.h[l][last*s:last*s+H])
			copy(bt.c[l][r*s:r*s+H], bt.c[l][last*s:last*s+H])
		}
		V, sV := bt.lo.vocab, stride(bt.lo.vocab)
		copy(bt.logits[r*sV:r*sV+V], bt.logits[last*sV:last*sV+V])
		bt.reqs[r], bt.ids[r] = bt.reqs[last], bt.ids[last]
	}
	bt.reqs[last] = nil
	bt.reqs, bt.ids = bt.reqs[:last], bt.ids[:last]
}

// stepRows is step for the rows of a batch: it feeds ids[r] to row r of the
// states h, c and leaves its next-token logits in row r of logits, with one
// kernel.GemvTRows per product for all rows,
//
//	G_l = 1·b_lᵀ + X_l·Wx_l + H_l·Wh_l   (rows × G_l; X_0: the ids'
//	                                      embeddings, or for one-hot input
//	                                      the ids' rows of Wx_0)
//	H_l, C_l ← the cell of G_l, row by row
//	logits = 1·byᵀ + H_top·Wy
//
// Every row takes the operations step takes on it alone, in the same order
// (GemvTRows sums each row as GemvT; the bias copy, the one-hot add and the
// cell are per row), so its logits are step's bit for bit.
func stepRows[F kernel.Float](be kernel.Backend, lo *layout, p params[F], h, c, g [][]F, x, logits []F, ids []int) {
	R := len(ids)
	var in kernel.Mat[F]
	for l := range lo.hidden {
		H, G := lo.hidden[l], lo.gate[l]
		sH, sG := stride(H), stride(G)
		gl := block(g[l], 0, R, G)
		for r := range R {
			copy(gl.Data[r*sG:r*sG+G], p.b[l])
		}
		switch {
		case l > 0:
			kernel.GemvTRows(be, gl, mat(p.wx[l], lo.in[l], G), in)
		case lo.embed > 0:
			E, sE := lo.embed, stride(lo.embed)
			for r, id := range ids {
				copy(x[r*sE:r*sE+E], p.emb[id*sE:id*sE+E])
			}
			kernel.GemvTRows(be, gl, mat(p.wx[0], E, G), block(x, 0, R, E))
		default:
			for r, id := range ids {
				row := gl.Data[r*sG : r*sG+G]
				for j, v := range p.wx[0][id*sG : id*sG+G] {
					row[j] += v
				}
			}
		}
		hl := block(h[l], 0, R, H)
		kernel.GemvTRows(be, gl, mat(p.wh[l], H, G), hl)
		for r := range R {
			gr, hr, cr := gl.Data[r*sG:r*sG+G], h[l][r*sH:r*sH+H], c[l][r*sH:r*sH+H]
			if lo.cell == CellRNN {
				copy(hr, gr[:H])
				kernel.Tanh(hr)
			} else {
				lstmCell(gr, cr, cr, hr, hr)
			}
		}
		in = hl
	}
	V, sV := lo.vocab, stride(lo.vocab)
	for r := range R {
		copy(logits[r*sV:r*sV+V], p.by)
	}
	kernel.GemvTRows(be, block(logits, 0, R, V), mat(p.wy, lo.top(), V), in)
}
