//go:build !amd64 || purego

package model

func haveVecMath() bool { return false }

func vexpShift(x *float32, n int, shift float32) { panic("model: no vector exp") }
func vsigmoid(x *float32, n int)                 { panic("model: no vector sigmoid") }
func vtanh(x *float32, n int)                    { panic("model: no vector tanh") }
