//go:build !openblas

package kernel

import (
	"runtime"

	"gonum.org/v1/gonum/blas/gonum"
)

// Default is gonum's pure-Go BLAS (the default build, CGO_ENABLED=0
// works). On CPUs with AVX2 and FMA, float32 GEMMs without a transposed
// right operand go through this package's assembly kernel (sgemm_amd64.s),
// split over GOMAXPROCS goroutines, with a plain loop for the edges, and the
// row products of sampling run on the AVX2 row kernels (rows.go).
func Default() Backend {
	return nativeBackend(haveSgemmKernel())
}

// nativeBackend is the pure-Go backend, with or without the AVX2 kernel.
func nativeBackend(kernel bool) Backend {
	be := Backend{s: gonum.Implementation{}, d: gonum.Implementation{}, par: runtime.GOMAXPROCS(0)}
	if kernel {
		be.sgemm = func(tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
			sgemmFast(sgemmEdge, tA, m, n, k, a, lda, b, ldb, beta, c, ldc)
		}
		be.rowKernel = haveRowKernel()
		be.split = be.par
	}
	return be
}

// Name names the BLAS implementation compiled in: "gonum" (pure Go) or
// "openblas" (build tag openblas, cgo through gonum.org/v1/netlib).
func Name() string { return "gonum" }

// sgemmEdge computes c += op(a)·b with plain loops, for the thin edges
// (under 4 rows or 16 columns) the kernel leaves: serial and allocation-free.
func sgemmEdge(tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := range m {
		crow := c[i*ldc : i*ldc+n]
		for l := range k {
			var x float32
			if tA {
				x = a[l*lda+i]
			} else {
				x = a[i*lda+l]
			}
			if x == 0 {
				continue
			}
			for j, v := range b[l*ldb : l*ldb+n] {
				crow[j] += x * v
			}
		}
	}
}
