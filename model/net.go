package model

import (
	"fmt"
	"math"
	"math/rand/v2"

	"commentbot/model/kernel"
)

// layout records where each parameter tensor sits in the flat parameter
// slab. Weights, gradients and Adam moments share it, so clipping, Adam and
// the checkpoint codec work on one slice.
//
// Matrices are row-major with row stride stride(cols) (padding stays 0).
// For layer l with input width in_l, hidden width
// H_l and gate width G_l (4·H_l for an LSTM, H_l for a tanh RNN):
//
//	emb  V × E        (only when Embed > 0)
//	wx_l in_l × G_l   (in_0 = E, or V for one-hot input: a row per token)
//	wh_l H_l × G_l
//	b_l  G_l
//	wy   H_top × V
//	by   V
//
// LSTM gate columns are ordered i, f, o, g.
type layout struct {
	cell   Cell
	vocab  int
	embed  int
	in     []int
	hidden []int
	gate   []int
	emb    [2]int
	wx     [][2]int
	wh     [][2]int
	b      [][2]int
	wy     [2]int
	by     [2]int
	size   int // slab length, row padding included
	count  int // scalar parameters, padding excluded
}

// stride returns the row stride used for a matrix of cols columns: cols,
// padded by one cache line when it is a multiple of 64 floats, because
// power-of-two strides make the rows of a GEMM block collide in the same
// cache sets (measured: up to 2× slower pure-Go GEMMs on G = 2048).
func stride(cols int) int {
	if cols >= 64 && cols%64 == 0 {
		return cols + 16
	}
	return cols
}

func newLayout(cfg Config, vocab int) *layout {
	lo := &layout{cell: cfg.Kind.Cell(), vocab: vocab, embed: cfg.Embed, hidden: append([]int(nil), cfg.Hidden...)}
	off := 0
	take := func(n int) [2]int { r := [2]int{off, off + n}; off += n; return r }
	if lo.embed > 0 {
		lo.emb = take(vocab * stride(lo.embed))
		lo.count += vocab * lo.embed
	}
	in := lo.embed
	if in == 0 {
		in = vocab
	}
	for _, h := range lo.hidden {
		g := h
		if lo.cell == CellLSTM {
			g = 4 * h
		}
		lo.in = append(lo.in, in)
		lo.gate = append(lo.gate, g)
		lo.wx = append(lo.wx, take(in*stride(g)))
		lo.wh = append(lo.wh, take(h*stride(g)))
		lo.b = append(lo.b, take(g))
		lo.count += in*g + h*g + g
		in = h
	}
	lo.wy = take(in * stride(vocab))
	lo.by = take(vocab)
	lo.count += in*vocab + vocab
	lo.size = off
	return lo
}

func (lo *layout) top() int { return lo.hidden[len(lo.hidden)-1] }

// params are views into one slab laid out by a layout.
type params[F kernel.Float] struct {
	all       []F
	emb       []F
	wx, wh, b [][]F
	wy, by    []F
}

func view[F kernel.Float](lo *layout, slab []F) params[F] {
	if len(slab) != lo.size {
		panic(fmt.Sprintf("model: slab of %d for layout of %d", len(slab), lo.size))
	}
	s := func(r [2]int) []F { return slab[r[0]:r[1]:r[1]] }
	p := params[F]{all: slab, wy: s(lo.wy), by: s(lo.by)}
	if lo.embed > 0 {
		p.emb = s(lo.emb)
	}
	for l := range lo.hidden {
		p.wx = append(p.wx, s(lo.wx[l]))
		p.wh = append(p.wh, s(lo.wh[l]))
		p.b = append(p.b, s(lo.b[l]))
	}
	return p
}

// initParams fills p from rng: embedding U(-scale, scale); every weight
// matrix U(-1/√fan, 1/√fan) where fan is the hidden width for recurrent
// layers (as PyTorch does) and the input width for the output layer; biases
// 0 except the LSTM forget gate, which starts at forgetBias.
func initParams[F kernel.Float](lo *layout, p params[F], rng *rand.Rand, scale, forgetBias float64) {
	uni := func(dst []F, cols int, a float64) {
		ld := stride(cols)
		for r := 0; r+cols <= len(dst); r += ld {
			for i := range dst[r : r+cols] {
				dst[r+i] = F((2*rng.Float64() - 1) * a)
			}
		}
	}
	clear(p.all)
	if p.emb != nil {
		uni(p.emb, lo.embed, scale)
	}
	for l, h := range lo.hidden {
		a := 1 / math.Sqrt(float64(h))
		uni(p.wx[l], lo.gate[l], a)
		uni(p.wh[l], lo.gate[l], a)
		if lo.cell == CellLSTM {
			for j := h; j < 2*h; j++ {
				p.b[l][j] = F(forgetBias)
			}
		}
	}
	uni(p.wy, lo.vocab, 1/math.Sqrt(float64(lo.top())))
}

// mat is the rows × cols matrix view of a parameter or workspace slab
// whose rows are stride(cols) apart.
func mat[F kernel.Float](data []F, rows, cols int) kernel.Mat[F] {
	return kernel.View(data, rows, cols, stride(cols))
}

// block is the view of rows [r0, r1) of a matrix of cols columns in buf.
func block[F kernel.Float](buf []F, r0, r1, cols int) kernel.Mat[F] {
	s := stride(cols)
	return kernel.View(buf[r0*s:r1*s], r1-r0, cols, s)
}
