//go:build !openblas

package kernel

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

// TestSgemvKernelMatchesGonum compares y += aᵀx through the AVX2 kernel with
// gonum's Sgemv on widths with and without a remainder panel.
func TestSgemvKernelMatchesGonum(t *testing.T) {
	if !haveSgemmKernel() {
		t.Skip("CPU without AVX2+FMA: the kernel is not used here")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	fast := nativeBackend(true)
	for _, c := range []struct{ m, n int }{{1, 64}, {128, 2048}, {512, 96}, {7, 33}, {0, 64}, {300, 4003}} {
		lda := c.n + 16
		a := make([]float32, max(c.m*lda, 1))
		x := make([]float32, c.m)
		for i := range a {
			a[i] = float32(rng.Float64() - 0.5)
		}
		for i := range x {
			x[i] = float32(rng.Float64() - 0.5)
		}
		want := make([]float32, c.n)
		for i := range want {
			want[i] = float32(rng.Float64())
		}
		got := append([]float32(nil), want...)
		gonum.Implementation{}.Sgemv(blas.Trans, c.m, c.n, 1, a, lda, x, 1, 1, want, 1)
		GemvT(fast, got, View(a, c.m, c.n, lda), x)
		worst := 0.0
		for i := range want {
			worst = max(worst, math.Abs(float64(want[i]-got[i])))
		}
		if worst > 1e-4 {
			t.Errorf("%dx%d: differs from gonum by %g", c.m, c.n, worst)
		}
	}
}
