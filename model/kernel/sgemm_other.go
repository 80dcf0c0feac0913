//go:build (!amd64 || purego) && !openblas

package kernel

func haveSgemmKernel() bool { return false }

type sgemmFallback func(tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)

func sgemmFast(fb sgemmFallback, tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("kernel: no sgemm kernel on this architecture")
}
