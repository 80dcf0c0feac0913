//go:build !openblas

package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// TestSgemmKernelMatchesGonum compares the AVX2 kernel path with gonum's
// Sgemm on shapes that hit the interior, both edges, K blocking, padded
// strides, a transposed left operand and each beta the model uses.
func TestSgemmKernelMatchesGonum(t *testing.T) {
	if !haveSgemmKernel() {
		t.Skip("CPU without AVX2+FMA: the kernel is not used here")
	}
	rng := rand.New(rand.NewPCG(5, 6))
	fast := nativeBackend(true)
	cases := []struct{ m, n, k int }{
		{4, 16, 1}, {4, 16, 300}, {67, 130, 515}, {3, 15, 7}, {64, 96, 512}, {130, 33, 1}, {5, 4003 % 100, 40},
	}
	for _, c := range cases {
		for _, tA := range []bool{false, true} {
			for _, beta := range []float32{0, 1, 0.5} {
				lda, ldb, ldc := c.k+16, c.n+3, c.n+16
				ar := c.m
				if tA {
					lda, ar = c.m+5, c.k
				}
				fill := func(n int) []float32 {
					x := make([]float32, n)
					for i := range x {
						x[i] = float32(rng.Float64() - 0.5)
					}
					return x
				}
				a, b := fill(ar*lda), fill(c.k*ldb)
				want := fill(c.m * ldc)
				got := append([]float32(nil), want...)
				gonum.Implementation{}.Sgemm(tr(tA), blas.NoTrans, c.m, c.n, c.k, 1, a, lda, b, ldb, beta, want, ldc)
				gemm(fast, tA, false, c.m, c.n, c.k, 1, a, lda, b, ldb, beta, got, ldc)
				worst := 0.0
				for i := range want {
					worst = max(worst, math.Abs(float64(want[i]-got[i])))
				}
				if tol := 1e-5 * math.Sqrt(float64(c.k)+1); worst > tol {
					t.Errorf("%dx%dx%d tA=%v beta=%v: differs from gonum by %g (tolerance %g)", c.m, c.n, c.k, tA, beta, worst, tol)
				}
			}
		}
	}
}
