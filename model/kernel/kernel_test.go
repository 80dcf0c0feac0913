package kernel

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
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
			one, two := Default(), Default()
			one.split, two.split = 1, 2
			gemm(one, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, want, ldc)
			gemmSplit(two, tA, tB, c.m, c.n, c.k, 0.7, a, lda, b, ldb, 0.3, got, ldc)
			// The same through a pool of split-1 workers, as training runs it.
			pooled := Default()
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

// TestGemmViews checks the destination-first forms against the BLAS call
// they stand for, and that mismatched shapes panic.
func TestGemmViews(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = rng.Float64() - 0.5
		}
		return x
	}
	be := Default()
	for _, transA := range []bool{false, true} {
		const m, n, k = 5, 7, 9
		ar, ac := m, k
		if transA {
			ar, ac = k, m
		}
		a, b := View(fill(ar*(ac+2)), ar, ac, ac+2), View(fill(k*(n+1)), k, n, n+1)
		c := View(fill(m*(n+3)), m, n, n+3)
		want := append([]float64(nil), c.Data...)
		gemm(be, transA, false, m, n, k, 1, a.Data, a.Stride, b.Data, b.Stride, 0.5, want, c.Stride)
		Gemm(be, c, 0.5, a, transA, b)
		for i := range want {
			if c.Data[i] != want[i] {
				t.Fatalf("transA=%v: Gemm differs from the BLAS call at %d", transA, i)
			}
		}
	}
	x, y := fill(4), fill(6)
	a := View(fill(4*8), 4, 6, 8)
	want := append([]float64(nil), y...)
	be.d.Dgemv(blas.Trans, 4, 6, 1, a.Data, a.Stride, x, 1, 1, want, 1)
	GemvT(be, y, a, x)
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("GemvT differs from the BLAS call at %d", i)
		}
	}
	for name, f := range map[string]func(){
		"Gemm inner sizes": func() { Gemm(be, View(fill(6), 2, 3, 3), 0, View(fill(8), 2, 4, 4), false, View(fill(9), 3, 3, 3)) },
		"Gemm columns":     func() { Gemm(be, View(fill(6), 2, 3, 3), 0, View(fill(6), 2, 3, 3), false, View(fill(6), 3, 2, 2)) },
		"GemvT lengths":    func() { GemvT(be, fill(5), View(fill(24), 4, 6, 6), fill(4)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: mismatched shapes did not panic", name)
				}
			}()
			f()
		}()
	}
}
