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
		{9, 129, 40},   // ⌊n/2⌋ a multiple of 16 with a remainder: still two panels
		{9, 161, 40},   // and again at 2·80+1
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
			want := rows(c.m, ldc)
			got, viaPool := append([]float64(nil), want...), append([]float64(nil), want...)
			one, two := defaultBackend(), defaultBackend()
			one.split, two.split = 1, 2
			gemm(one, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, want, ldc)
			gemmSplit(two, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, got, ldc)
			// The same through a pool of split-1 workers, as training runs it.
			pooled := defaultBackend()
			pooled.split = 2
			pool := newGemmPool[float64](pooled, 1)
			pooled.pool = pool
			gemmSplit(pooled, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, viaPool, ldc)
			pool.close()
			for i := range want {
				if viaPool[i] != got[i] {
					t.Errorf("%dx%dx%d tA=%v tB=%v: pooled split differs from goroutine split at %d", c.m, c.n, c.k, tA, tB, i)
					break
				}
			}
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
