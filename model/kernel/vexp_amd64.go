//go:build !purego

package kernel

import "golang.org/x/sys/cpu"

// The AVX2 forms of exp32, sigmoid32 and tanh32 on n (a multiple of 8)
// consecutive float32s, in place (vexp_amd64.s).
//
//go:noescape
func vexpShift(x *float32, n int, shift float32)

//go:noescape
func vsigmoid(x *float32, n int)

//go:noescape
func vtanh(x *float32, n int)

// haveVecMath reports whether the AVX2 elementwise kernels run here.
func haveVecMath() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
