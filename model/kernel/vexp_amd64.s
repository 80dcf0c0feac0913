//go:build !purego

#include "textflag.h"

// Constants of exp32 (fastmath.go), as float32 bits.
DATA expc<>+0(SB)/4, $0x42b00000  // 88
DATA expc<>+4(SB)/4, $0xc2ae0000  // -87
DATA expc<>+8(SB)/4, $0x3fb8aa3b  // log2(e)
DATA expc<>+12(SB)/4, $0x4b400000 // 1.5·2^23
DATA expc<>+16(SB)/4, $0x3f318000 // ln2 hi
DATA expc<>+20(SB)/4, $0xb95e8083 // ln2 lo
DATA expc<>+24(SB)/4, $0x3f800000 // 1
DATA expc<>+28(SB)/4, $0x4b3fff81 // bits(1.5·2^23) − 127
DATA expc<>+32(SB)/4, $0x39506967 // p0
DATA expc<>+36(SB)/4, $0x3ab743ce // p1
DATA expc<>+40(SB)/4, $0x3c088908 // p2
DATA expc<>+44(SB)/4, $0x3d2aa9c1 // p3
DATA expc<>+48(SB)/4, $0x3e2aaaaa // p4
DATA expc<>+52(SB)/4, $0x3f000000 // p5
GLOBL expc<>(SB), RODATA|NOPTR, $56

#define LOADCONSTS \
	VBROADCASTSS expc<>+0(SB), Y8; \
	VBROADCASTSS expc<>+4(SB), Y9; \
	VBROADCASTSS expc<>+8(SB), Y10; \
	VBROADCASTSS expc<>+12(SB), Y11; \
	VBROADCASTSS expc<>+16(SB), Y12; \
	VBROADCASTSS expc<>+20(SB), Y13; \
	VBROADCASTSS expc<>+24(SB), Y14; \
	VBROADCASTSS expc<>+28(SB), Y15

// EXP sets Y0 = e^Y0 (eight lanes, the algorithm of exp32; NaN stays NaN).
// Clobbers Y1–Y6.
#define EXP \
	VMINPS       Y0, Y8, Y0; \
	VMAXPS       Y0, Y9, Y0; \
	VMOVAPS      Y11, Y1; \
	VFMADD231PS  Y10, Y0, Y1; \
	VSUBPS       Y11, Y1, Y2; \
	VFNMADD231PS Y12, Y2, Y0; \
	VFNMADD231PS Y13, Y2, Y0; \
	VBROADCASTSS expc<>+32(SB), Y3; \
	VBROADCASTSS expc<>+36(SB), Y4; \
	VFMADD213PS  Y4, Y0, Y3; \
	VBROADCASTSS expc<>+40(SB), Y4; \
	VFMADD213PS  Y4, Y0, Y3; \
	VBROADCASTSS expc<>+44(SB), Y4; \
	VFMADD213PS  Y4, Y0, Y3; \
	VBROADCASTSS expc<>+48(SB), Y4; \
	VFMADD213PS  Y4, Y0, Y3; \
	VBROADCASTSS expc<>+52(SB), Y4; \
	VFMADD213PS  Y4, Y0, Y3; \
	VMULPS       Y0, Y0, Y5; \
	VADDPS       Y14, Y0, Y6; \
	VFMADD213PS  Y6, Y5, Y3; \
	VPSUBD       Y15, Y1, Y1; \
	VPSLLD       $23, Y1, Y1; \
	VMULPS       Y1, Y3, Y0

// func vexpShift(x *float32, n int, shift float32)
// x[i] = e^(x[i]−shift) for i < n (n a multiple of 8).
TEXT ·vexpShift(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS shift+16(FP), Y7
	LOADCONSTS
	SHRQ         $3, CX
	JEQ          expdone

exploop:
	VMOVUPS (DI), Y0
	VSUBPS  Y7, Y0, Y0
	EXP
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNE     exploop

expdone:
	VZEROUPPER
	RET

// func vsigmoid(x *float32, n int)
// x[i] = 1/(1+e^(−x[i])) for i < n (n a multiple of 8).
TEXT ·vsigmoid(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADCONSTS
	VXORPS Y7, Y7, Y7
	SHRQ   $3, CX
	JEQ    sigdone

sigloop:
	VMOVUPS (DI), Y0
	VSUBPS  Y0, Y7, Y0
	EXP
	VADDPS  Y14, Y0, Y0
	VDIVPS  Y0, Y14, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNE     sigloop

sigdone:
	VZEROUPPER
	RET

// func vtanh(x *float32, n int)
// x[i] = 1 − 2/(e^(2x[i])+1) for i < n (n a multiple of 8).
TEXT ·vtanh(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	LOADCONSTS
	SHRQ $3, CX
	JEQ  tanhdone

tanhloop:
	VMOVUPS (DI), Y0
	VADDPS  Y0, Y0, Y0
	EXP
	VADDPS  Y14, Y0, Y0
	VDIVPS  Y0, Y14, Y0
	VADDPS  Y0, Y0, Y0
	VSUBPS  Y0, Y14, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	DECQ    CX
	JNE     tanhloop

tanhdone:
	VZEROUPPER
	RET
