package model

import (
	"gonum.org/v1/gonum/blas"
)

// Float is the element type of the numeric core. Training and sampling run
// in float32; the gradient check runs the same generic code in float64.
type Float interface{ ~float32 | ~float64 }

// backend is the BLAS implementation a network computes with. It is chosen
// at build time (see backend_native.go and backend_openblas.go), never
// through gonum's process-global blas32.Use/blas64.Use.
type backend struct {
	s blas.Float32
	d blas.Float64
}

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major a, b, c with
// op(a) m×k, op(b) k×n and c m×n.
func gemm[F Float](be backend, tA, tB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch a := any(a).(type) {
	case []float32:
		be.s.Sgemm(tr(tA), tr(tB), m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		be.d.Dgemm(tr(tA), tr(tB), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemv computes y = alpha·op(a)·x + beta·y for a row-major m×n matrix a.
func gemv[F Float](be backend, tA bool, m, n int, alpha F, a []F, lda int, x []F, beta F, y []F) {
	switch a := any(a).(type) {
	case []float32:
		be.s.Sgemv(tr(tA), m, n, float32(alpha), a, lda, any(x).([]float32), 1, float32(beta), any(y).([]float32), 1)
	case []float64:
		be.d.Dgemv(tr(tA), m, n, float64(alpha), a, lda, any(x).([]float64), 1, float64(beta), any(y).([]float64), 1)
	}
}
