package model

import (
	"math"

	"commentbot/model/kernel"
)

// Adam is the optimizer state of Adam (Kingma & Ba, 2015): per-parameter
// first and second moment estimates and the number of steps taken. The
// update math lives here; the training loop owns everything else.
type Adam struct {
	Beta1, Beta2, Epsilon float64
	M, V                  []float32
	Step                  int64
}

// NewAdam returns zeroed moments for n parameters.
func NewAdam(n int, beta1, beta2, eps float64) *Adam {
	return &Adam{Beta1: beta1, Beta2: beta2, Epsilon: eps, M: make([]float32, n), V: make([]float32, n)}
}

// Update takes one step of size lr on w given the gradient g:
//
//	t ← t+1;  m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
//	w ← w − α_t · m / (√v + ε̂),  α_t = lr·√(1−β₂ᵗ)/(1−β₁ᵗ),  ε̂ = ε·√(1−β₂ᵗ)
//
// which is the bias-corrected rule w ← w − lr·m̂/(√v̂ + ε) rearranged.
func (a *Adam) Update(w, g []float32, lr float64) {
	if len(w) != len(g) || len(w) != len(a.M) || len(w) != len(a.V) {
		panic("model: Adam.Update: length mismatch")
	}
	a.Step++
	t := float64(a.Step)
	c2 := math.Sqrt(1 - math.Pow(a.Beta2, t))
	step := float32(lr * c2 / (1 - math.Pow(a.Beta1, t)))
	eps := float32(a.Epsilon * c2)
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	c1, cc := 1-b1, 1-b2
	m, v := a.M[:len(w)], a.V[:len(w)]
	for i, gi := range g[:len(w)] {
		mi := b1*m[i] + c1*gi
		vi := b2*v[i] + cc*gi*gi
		m[i], v[i] = mi, vi
		w[i] -= step * mi / (float32(math.Sqrt(float64(vi))) + eps)
	}
}

// globalNorm returns ‖g‖₂ accumulated in float64 (NaN or Inf if any entry is).
func globalNorm[F kernel.Float](g []F) float64 {
	s := 0.0
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

// clipGlobalNorm scales g by maxNorm/‖g‖ when ‖g‖ > maxNorm > 0 and returns
// ‖g‖ before clipping.
func clipGlobalNorm[F kernel.Float](g []F, maxNorm float64) float64 {
	n := globalNorm(g)
	if maxNorm > 0 && n > maxNorm {
		k := F(maxNorm / n)
		for i := range g {
			g[i] *= k
		}
	}
	return n
}
