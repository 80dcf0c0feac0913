package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmSplitMatchesGemm computes GEMMs of every transpose combination
// split into column panels and into row panels on goroutines and wants the
// unsplit result (float64, same BLAS).
func TestGemmSplitMatchesGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ m, n, k int }{
		{33, 300, 129}, // wide: column panels
		{300, 70, 129}, // narrow: row panels
		{7, 130, 2000}, // few rows
	}
	for _, c := range cases {
		for _, tt := range [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}} {
			tA, tB := tt[0], tt[1]
			lda, ldb, ldc := c.k+3, c.n+5, c.n+1
			if tA {
				lda = c.m + 3
			}
			if tB {
				ldb = c.k + 5
			}
			rows := func(r, ld int) []float64 {
				x := make([]float64, r*ld)
				for i := range x {
					x[i] = rng.Float64() - 0.5
				}
				return x
			}
			ar, br := c.m, c.k
			if tA {
				ar = c.k
			}
			if tB {
				br = c.n
			}
			a, b := rows(ar, lda), rows(br, ldb)
			want, got := rows(c.m, ldc), make([]float64, c.m*ldc)
			copy(got, want)
			one, two := defaultBackend(), defaultBackend()
			one.split, two.split = 1, 2
			gemm(one, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, want, ldc)
			gemmSplit(two, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, got, ldc)
			worst := 0.0
			for i := range want {
				worst = max(worst, math.Abs(want[i]-got[i]))
			}
			if worst > 1e-12 {
				t.Errorf("%dx%dx%d tA=%v tB=%v: split differs by %g", c.m, c.n, c.k, tA, tB, worst)
			}
		}
	}
}
