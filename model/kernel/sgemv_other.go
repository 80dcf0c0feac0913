//go:build !amd64 || purego

package kernel

func haveRowKernel() bool { return false }

func sgemvTFast(m, n int, a []float32, lda int, x, y []float32) {
	panic("kernel: no row kernel on this architecture")
}

func sgemvTRowsFast(rows, m, n int, a []float32, lda int, x []float32, ldx int, y []float32, ldy int) {
	panic("kernel: no row kernel on this architecture")
}
