package model

import "commentbot/model/kernel"

// The recurrent cells, one row (one stream at one step) at a time, written
// once for training (forward over B×T rows) and sampling (batch 1), in both
// precisions: float32 rows take the kernel's eight-lane exp, float64 rows
// (the gradient check) package math.

// lstmCell turns one row of LSTM gate pre-activations into the cell's
// outputs. gates holds [a_i a_f a_o a_g] (4·H) and becomes [i f o g]:
//
//	i = σ(a_i), f = σ(a_f), o = σ(a_o), g = tanh(a_g)
//	c = f⊙cPrev + i⊙g,  tc = tanh(c),  h = o⊙tc
//
// cPrev, c, tc and h have H elements; c may be cPrev (sampling updates the
// state in place) and tc may be h (sampling keeps no tanh(c)).
func lstmCell[F kernel.Float](gates, cPrev, c, tc, h []F) {
	H := len(h)
	kernel.Sigmoid(gates[:3*H])
	kernel.Tanh(gates[3*H : 4*H])
	i, f, o, g := gates[:H], gates[H:2*H], gates[2*H:3*H], gates[3*H:4*H]
	cPrev, c, tc = cPrev[:H], c[:H], tc[:H]
	for j := range c {
		c[j] = f[j]*cPrev[j] + i[j]*g[j]
		tc[j] = c[j]
	}
	kernel.Tanh(tc)
	for j := range h {
		h[j] = o[j] * tc[j]
	}
}

// lstmCellBackward is lstmCell's step back through one row (see backward):
// from the activations in gates ([i f o g]), cPrev, tc = tanh(c), the δh
// from above (dh) and from the next step (dhn) and δc from the next step
// (dcn), it writes the pre-activation gradients [δa_i δa_f δa_o δa_g] into
// dgates and replaces dcn with δc_{t−1}.
func lstmCellBackward[F kernel.Float](gates, dgates, cPrev, tc, dh, dhn, dcn []F) {
	H := len(dh)
	i, f, o, g := gates[:H], gates[H:2*H], gates[2*H:3*H], gates[3*H:4*H]
	di, df, do, dg := dgates[:H], dgates[H:2*H], dgates[2*H:3*H], dgates[3*H:4*H]
	cPrev, tc, dhn, dcn = cPrev[:H], tc[:H], dhn[:H], dcn[:H]
	for j := range dh {
		d := dh[j] + dhn[j]
		dc := d*o[j]*(1-tc[j]*tc[j]) + dcn[j]
		do[j] = d * tc[j] * o[j] * (1 - o[j])
		di[j] = dc * g[j] * i[j] * (1 - i[j])
		df[j] = dc * cPrev[j] * f[j] * (1 - f[j])
		dg[j] = dc * i[j] * (1 - g[j]*g[j])
		dcn[j] = dc * f[j]
	}
}

// rnnCellBackward is the tanh RNN's step back through one row: from
// h = tanh(a) and δh from above (dh) and from the next step (dhn),
// δa = (dh + dhn)⊙(1 − h²).
func rnnCellBackward[F kernel.Float](h, da, dh, dhn []F) {
	da, dh, dhn = da[:len(h)], dh[:len(h)], dhn[:len(h)]
	for j, v := range h {
		da[j] = (dh[j] + dhn[j]) * (1 - v*v)
	}
}
