//go:build !purego

#include "textflag.h"

// func sgemvTKernel64(m int, x *float32, a *float32, lda int, y *float32)
//
// y[0:64] += Σ_{l<m} x[l]·A[l][0:64], A[l][j] at a + (l·lda + j)·4 bytes:
// the columns of one 64-wide panel of y = Aᵀx held in eight YMM registers.
TEXT ·sgemvTKernel64(SB), NOSPLIT, $0-40
	MOVQ    m+0(FP), CX
	MOVQ    x+8(FP), SI
	MOVQ    a+16(FP), DI
	MOVQ    lda+24(FP), R8
	MOVQ    y+32(FP), DX
	SHLQ    $2, R8
	VMOVUPS (DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VMOVUPS 128(DX), Y4
	VMOVUPS 160(DX), Y5
	VMOVUPS 192(DX), Y6
	VMOVUPS 224(DX), Y7
	TESTQ   CX, CX
	JEQ     gemvstore

gemvloop:
	VBROADCASTSS (SI), Y8
	VFMADD231PS  (DI), Y8, Y0
	VFMADD231PS  32(DI), Y8, Y1
	VFMADD231PS  64(DI), Y8, Y2
	VFMADD231PS  96(DI), Y8, Y3
	VFMADD231PS  128(DI), Y8, Y4
	VFMADD231PS  160(DI), Y8, Y5
	VFMADD231PS  192(DI), Y8, Y6
	VFMADD231PS  224(DI), Y8, Y7
	ADDQ         $4, SI
	ADDQ         R8, DI
	DECQ         CX
	JNE          gemvloop

gemvstore:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// func sgemvTRowsKernel4x16(k int, x *float32, ldx int, a *float32, lda int, y *float32, ldy int)
//
// Y[r][0:16] += Σ_{l<k} X[r][l]·A[l][0:16] for the four rows r < 4, X[r][l]
// at x + (r·ldx + l)·4 bytes, A[l][j] at a + (l·lda + j)·4, Y[r][j] at
// y + (r·ldy + j)·4. Each element starts from Y as loaded and takes one
// fused multiply-add per l in increasing l — the arithmetic sgemvTKernel64
// does on one row — so a row's result does not depend on the other three.
// Eight YMM accumulators, the 16 columns of A loaded once for four rows; the
// next 16 columns are prefetched as in sgemvTRowsKernel6x16.
TEXT ·sgemvTRowsKernel4x16(SB), NOSPLIT, $0-56
	MOVQ    k+0(FP), CX
	MOVQ    x+8(FP), SI
	MOVQ    ldx+16(FP), R8
	MOVQ    a+24(FP), DI
	MOVQ    lda+32(FP), R10
	MOVQ    y+40(FP), DX
	MOVQ    ldy+48(FP), R11
	SHLQ    $2, R8
	SHLQ    $2, R10
	SHLQ    $2, R11
	LEAQ    (SI)(R8*2), R12
	ADDQ    R8, R12
	MOVQ    DX, BX
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	ADDQ    R11, BX
	VMOVUPS (BX), Y2
	VMOVUPS 32(BX), Y3
	ADDQ    R11, BX
	VMOVUPS (BX), Y4
	VMOVUPS 32(BX), Y5
	ADDQ    R11, BX
	VMOVUPS (BX), Y6
	VMOVUPS 32(BX), Y7
	TESTQ   CX, CX
	JEQ     rowsstore

rowsloop:
	PREFETCHT0   64(DI)
	VMOVUPS      (DI), Y8
	VMOVUPS      32(DI), Y9
	VBROADCASTSS (SI), Y10
	VFMADD231PS  Y8, Y10, Y0
	VFMADD231PS  Y9, Y10, Y1
	VBROADCASTSS (SI)(R8*1), Y11
	VFMADD231PS  Y8, Y11, Y2
	VFMADD231PS  Y9, Y11, Y3
	VBROADCASTSS (SI)(R8*2), Y12
	VFMADD231PS  Y8, Y12, Y4
	VFMADD231PS  Y9, Y12, Y5
	VBROADCASTSS (R12), Y13
	VFMADD231PS  Y8, Y13, Y6
	VFMADD231PS  Y9, Y13, Y7
	ADDQ         $4, SI
	ADDQ         $4, R12
	ADDQ         R10, DI
	DECQ         CX
	JNE          rowsloop

rowsstore:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// func sgemvTRowsKernel6x16(k int, x *float32, ldx int, a *float32, lda int, y *float32, ldy int)
//
// sgemvTRowsKernel4x16 for six rows: Y[r][0:16] += Σ_{l<k} X[r][l]·A[l][0:16]
// for r < 6, each element from Y as loaded by one fused multiply-add per l in
// increasing l, as sgemvTKernel64 on one row. Twelve YMM accumulators; the
// 16 columns of A are loaded once for six rows, and one x offset serves all
// rows (rows 0–2 from x, rows 3–5 from x + 3·ldx, by scaled index), so that
// the loop issues few instructions besides its twelve fused multiply-adds.
// Each row of A read is one cache line, 8 KiB past the last: the hardware
// prefetchers miss that pattern, so the loop prefetches the line to the
// right, which the call on the next 16 columns reads (measured: twice the
// GFLOP per CPU-second of a sampling batch step).
TEXT ·sgemvTRowsKernel6x16(SB), NOSPLIT, $0-56
	MOVQ    k+0(FP), CX
	MOVQ    x+8(FP), SI
	MOVQ    ldx+16(FP), R8
	MOVQ    a+24(FP), DI
	MOVQ    lda+32(FP), R10
	MOVQ    y+40(FP), DX
	MOVQ    ldy+48(FP), R11
	SHLQ    $2, R8
	SHLQ    $2, R10
	SHLQ    $2, R11
	LEAQ    (SI)(R8*2), R12
	ADDQ    R8, R12
	MOVQ    DX, BX
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	ADDQ    R11, BX
	VMOVUPS (BX), Y2
	VMOVUPS 32(BX), Y3
	ADDQ    R11, BX
	VMOVUPS (BX), Y4
	VMOVUPS 32(BX), Y5
	ADDQ    R11, BX
	VMOVUPS (BX), Y6
	VMOVUPS 32(BX), Y7
	ADDQ    R11, BX
	VMOVUPS (BX), Y8
	VMOVUPS 32(BX), Y9
	ADDQ    R11, BX
	VMOVUPS (BX), Y10
	VMOVUPS 32(BX), Y11
	TESTQ   CX, CX
	JEQ     rows6store

rows6loop:
	PREFETCHT0   64(DI)
	VMOVUPS      (DI), Y12
	VMOVUPS      32(DI), Y13
	VBROADCASTSS (SI), Y14
	VFMADD231PS  Y12, Y14, Y0
	VFMADD231PS  Y13, Y14, Y1
	VBROADCASTSS (SI)(R8*1), Y15
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VBROADCASTSS (SI)(R8*2), Y14
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y13, Y14, Y5
	VBROADCASTSS (R12), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VBROADCASTSS (R12)(R8*1), Y14
	VFMADD231PS  Y12, Y14, Y8
	VFMADD231PS  Y13, Y14, Y9
	VBROADCASTSS (R12)(R8*2), Y15
	VFMADD231PS  Y12, Y15, Y10
	VFMADD231PS  Y13, Y15, Y11
	ADDQ         $4, SI
	ADDQ         $4, R12
	ADDQ         R10, DI
	DECQ         CX
	JNE          rows6loop

rows6store:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ    R11, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET
