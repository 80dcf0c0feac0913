//go:build !openblas && !purego

package kernel

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:noescape
func sgemmKernel4x16(k int, a *float32, sai, sak int, b *float32, ldb int, c *float32, ldc int)

// haveSgemmKernel reports whether the CPU runs the AVX2+FMA kernel.
func haveSgemmKernel() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// Blocking of sgemmFast: a kc-deep, mc-tall block of A is reused from L2
// across all 16-column panels of B (kc×16 floats, 16 KiB, stay in L1).
const (
	sgemmKC = 256
	sgemmMC = 64
)

// sgemmFast computes c = op(a)·b + beta·c for row-major float32 matrices
// (op(a) = aᵀ when tA) with the 4×16 AVX2 kernel on the interior and the
// fallback BLAS for the last m mod 4 rows and n mod 16 columns. Slice
// lengths are checked as BLAS would (the kernel itself does no bounds checks).
func sgemmFast(fb sgemmFallback, tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	if lda < max(ac, 1) || ldb < max(n, 1) || ldc < max(n, 1) ||
		(ar > 0 && len(a) < (ar-1)*lda+ac) || (k > 0 && len(b) < (k-1)*ldb+n) || len(c) < (m-1)*ldc+n {
		panic("kernel: sgemmFast: bad shape")
	}
	if beta != 1 {
		for i := range m {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
	}
	m4, n16 := m&^3, n&^15
	sai, sak := lda, 1
	if tA {
		sai, sak = 1, lda
	}
	if m4 > 0 && n16 > 0 {
		for k0 := 0; k0 < k; k0 += sgemmKC {
			kk := min(sgemmKC, k-k0)
			for i0 := 0; i0 < m4; i0 += sgemmMC {
				i1 := min(i0+sgemmMC, m4)
				for j := 0; j < n16; j += 16 {
					bp := unsafe.Pointer(&b[k0*ldb+j])
					for i := i0; i < i1; i += 4 {
						sgemmKernel4x16(kk, &a[i*sai+k0*sak], sai, sak, (*float32)(bp), ldb, &c[i*ldc+j], ldc)
					}
				}
			}
		}
	}
	if n16 < n && m4 > 0 {
		fb(tA, m4, n-n16, k, a, lda, b[n16:], ldb, c[n16:], ldc)
	}
	if m4 < m {
		var aa []float32
		if tA {
			aa = a[m4:]
		} else {
			aa = a[m4*lda:]
		}
		fb(tA, m-m4, n, k, aa, lda, b, ldb, c[m4*ldc:], ldc)
	}
}

// sgemmFallback computes c += op(a)·b (no transposed b) with another BLAS.
type sgemmFallback func(tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)
