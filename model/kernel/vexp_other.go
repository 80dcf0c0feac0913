//go:build !amd64 || purego

package kernel

func haveVecMath() bool { return false }

func vexpShift(x *float32, n int, shift float32) { panic("kernel: no vector exp") }
func vsigmoid(x *float32, n int)                 { panic("kernel: no vector sigmoid") }
func vtanh(x *float32, n int)                    { panic("kernel: no vector tanh") }
