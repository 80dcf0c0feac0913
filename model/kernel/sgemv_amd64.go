//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

//go:noescape
func sgemvTKernel64(m int, x *float32, a *float32, lda int, y *float32)

//go:noescape
func sgemvTRowsKernel4x16(k int, x *float32, ldx int, a *float32, lda int, y *float32, ldy int)

//go:noescape
func sgemvTRowsKernel6x16(k int, x *float32, ldx int, a *float32, lda int, y *float32, ldy int)

// haveRowKernel reports whether the CPU runs the AVX2+FMA row kernels
// (sgemv_amd64.s). They are compiled into every build but purego, OpenBLAS's
// included, so that a sampled text depends on the CPU, not on the BLAS.
func haveRowKernel() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// rowKC is the depth of the blocks of a that sgemvTRowsFast reuses across
// rows: rowKC × 16 floats of a (8 KiB) and rowKC floats of each row of x (8
// KiB for 16 rows) stay in L1.
const rowKC = 128

// sgemvTFast computes y += aᵀx for a row-major m×n float32 matrix a with the
// 64-column AVX2 kernel, and gonum's Sgemv for the last n mod 64 columns.
func sgemvTFast(m, n int, a []float32, lda int, x, y []float32) {
	if lda < max(n, 1) || len(x) < m || len(y) < n || (m > 0 && len(a) < (m-1)*lda+n) {
		panic("kernel: sgemvTFast: bad shape")
	}
	n64 := n &^ 63
	if m > 0 {
		for j := 0; j < n64; j += 64 {
			sgemvTKernel64(m, &x[0], &a[j], lda, &y[j])
		}
	}
	if n64 < n {
		sgemvTGonum(m, n-n64, a[n64:], lda, x, y[n64:n])
	}
}

// sgemvTRowsFast computes y_r += aᵀx_r for the rows r of x (m wide, row
// stride ldx) and y (n wide, stride ldy) with the arithmetic sgemvTFast
// does on each row alone: the first n&^63 columns by fused multiply-adds in
// increasing l from y as it was (six rows at a time in sgemvTRowsKernel6x16,
// then four in sgemvTRowsKernel4x16, the last rows in sgemvTKernel64; blocking the
// depth only stores y between blocks, which changes no sum), the rest by
// gonum's Sgemv on each row.
func sgemvTRowsFast(rows, m, n int, a []float32, lda int, x []float32, ldx int, y []float32, ldy int) {
	if rows == 0 || n == 0 {
		return
	}
	if lda < max(n, 1) || ldx < max(m, 1) || ldy < max(n, 1) || (m > 0 && len(a) < (m-1)*lda+n) ||
		len(x) < (rows-1)*ldx+m || len(y) < (rows-1)*ldy+n {
		panic("kernel: sgemvTRowsFast: bad shape")
	}
	n64 := n &^ 63
	r6 := rows - rows%6
	r4 := r6 + (rows-r6)&^3
	for k0 := 0; k0 < m && n64 > 0; k0 += rowKC {
		kk := min(rowKC, m-k0)
		for j := 0; j < n64; j += 16 {
			for r := 0; r < r6; r += 6 {
				sgemvTRowsKernel6x16(kk, &x[r*ldx+k0], ldx, &a[k0*lda+j], lda, &y[r*ldy+j], ldy)
			}
			if r6 < r4 {
				sgemvTRowsKernel4x16(kk, &x[r6*ldx+k0], ldx, &a[k0*lda+j], lda, &y[r6*ldy+j], ldy)
			}
		}
		for r := r4; r < rows; r++ {
			for j := 0; j < n64; j += 64 {
				sgemvTKernel64(kk, &x[r*ldx+k0], &a[k0*lda+j], lda, &y[r*ldy+j])
			}
		}
	}
	if n64 < n {
		for r := range rows {
			sgemvTGonum(m, n-n64, a[n64:], lda, x[r*ldx:r*ldx+m], y[r*ldy+n64:r*ldy+n])
		}
	}
}
