package kernel

import (
	"math"
	"testing"
)

// TestFastMath compares exp32, sigmoid32 and tanh32 with the float64 math
// package over [−100, 100] (including saturation) and wants relative error
// below 1e-6 for exp and absolute error below 1e-6 for sigmoid and tanh.
func TestFastMath(t *testing.T) {
	worst := [3]float64{}
	for i := -200000; i <= 200000; i++ {
		x := float32(i) / 2000
		if e, w := float64(exp32(x)), math.Exp(float64(x)); x > -87 && x < 88 {
			worst[0] = max(worst[0], math.Abs(e-w)/w)
		}
		worst[1] = max(worst[1], math.Abs(float64(sigmoid32(x))-1/(1+math.Exp(-float64(x)))))
		worst[2] = max(worst[2], math.Abs(float64(tanh32(x))-math.Tanh(float64(x))))
	}
	for i, c := range []struct {
		name string
		tol  float64
	}{{"exp32 relative", 1e-6}, {"sigmoid32 absolute", 1e-6}, {"tanh32 absolute", 1e-6}} {
		if worst[i] > c.tol {
			t.Errorf("%s error %.3g, want < %g", c.name, worst[i], c.tol)
		}
		t.Logf("%s error %.3g", c.name, worst[i])
	}
	for _, x := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 1e30, -1e30} {
		if s, h := sigmoid32(x), tanh32(x); math.IsNaN(float64(s)) || math.IsNaN(float64(h)) {
			t.Errorf("x=%v: sigmoid %v tanh %v", x, s, h)
		}
	}
}

// TestVecMathMatchesScalar runs the AVX2 row kernels on values across the
// range (saturation and NaN included) and wants the scalar results within
// 2e-7 (the kernels fuse one multiply-add the scalar code rounds twice).
func TestVecMathMatchesScalar(t *testing.T) {
	if !haveVecMath() {
		t.Skip("no AVX2: the scalar path is used")
	}
	const n = 1003 // not a multiple of 8: the tail goes through the scalar code
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i-n/2) / 5
	}
	src[7] = float32(math.NaN())
	src[8] = float32(math.Inf(1))
	cases := []struct {
		name   string
		vec    func(x []float32)
		scalar func(x float32) float32
	}{
		{"exp shift", func(x []float32) { expShiftRow(x, 1.5, true) }, func(x float32) float32 { return exp32(x - 1.5) }},
		{"sigmoid", func(x []float32) { sigmoidRow(x, true) }, sigmoid32},
		{"tanh", func(x []float32) { tanhRow32(x, true) }, tanh32},
	}
	for _, c := range cases {
		x := append([]float32(nil), src...)
		c.vec(x)
		for i, v := range src {
			want, got := float64(c.scalar(v)), float64(x[i])
			if math.IsNaN(want) != math.IsNaN(got) {
				t.Errorf("%s(%v) = %v, scalar %v", c.name, v, got, want)
				continue
			}
			if d := math.Abs(got - want); d > 2e-7*max(1, math.Abs(want)) {
				t.Errorf("%s(%v) = %v, scalar %v", c.name, v, got, want)
			}
		}
	}
}
