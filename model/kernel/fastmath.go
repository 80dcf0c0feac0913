package kernel

import "math"

// exp32 approximates e^x in float32 to about 2 ulp: x = n·ln2 + r with
// |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n by building the exponent
// bits. Inputs are clamped to [−87, 88] (e^x stays a normal float32), so
// sigmoid and tanh built on it saturate cleanly instead of producing NaN.
func exp32(x float32) float32 {
	x = min(max(x, -87), 88)
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
	)
	// Round x·log2(e) to the nearest integer n by adding 1.5·2²³: the sum's
	// low mantissa bits are then n (two's complement), no float64 detour.
	const magic = 12582912
	t := x*log2e + magic
	n := t - magic
	r := x - n*ln2hi - n*ln2lo
	// Taylor/minimax coefficients for e^r on [−ln2/2, ln2/2] (Cephes expf).
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	e := int32(math.Float32bits(t)-math.Float32bits(magic)) + 127
	return p * math.Float32frombits(uint32(e)<<23)
}

// sigmoid32 is σ(x) = 1/(1+e^(−x)) in float32.
func sigmoid32(x float32) float32 { return 1 / (1 + exp32(-x)) }

// tanh32 is tanh(x) = 1 − 2/(e^(2x)+1) in float32 (absolute error ~1e-7).
func tanh32(x float32) float32 { return 1 - 2/(exp32(2*x)+1) }

// ExpShift sets x[i] = e^(x[i]−shift) in float32 (exp32's accuracy), eight
// lanes at a time on CPUs with AVX2 and FMA.
func ExpShift(x []float32, shift float32) { expShiftRow(x, shift, haveVecMath()) }

// Sigmoid sets x[i] = σ(x[i]) = 1/(1+e^(−x[i])): for float32 with exp32 (eight
// lanes at a time on AVX2 CPUs, within 2e-7 of the scalar form), for float64
// with package math, so that a gradient check sees the exact function.
func Sigmoid[F Float](x []F) {
	if x32, ok := any(x).([]float32); ok {
		sigmoidRow(x32, haveVecMath())
		return
	}
	for i, v := range x {
		x[i] = F(1 / (1 + math.Exp(-float64(v))))
	}
}

// Tanh sets x[i] = tanh(x[i]): float32 as Sigmoid, float64 with math.Tanh.
func Tanh[F Float](x []F) {
	if x32, ok := any(x).([]float32); ok {
		tanhRow32(x32, haveVecMath())
		return
	}
	for i, v := range x {
		x[i] = F(math.Tanh(float64(v)))
	}
}

// expShiftRow sets x[i] = e^(x[i]−shift), eight lanes at a time when the
// CPU has AVX2 (vec), exp32 for the rest.
func expShiftRow(x []float32, shift float32, vec bool) {
	n := 0
	if vec {
		n = len(x) &^ 7
		if n > 0 {
			vexpShift(&x[0], n, shift)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] = exp32(x[i] - shift)
	}
}

// sigmoidRow sets x[i] = σ(x[i]) (vectorised when vec).
func sigmoidRow(x []float32, vec bool) {
	n := 0
	if vec {
		n = len(x) &^ 7
		if n > 0 {
			vsigmoid(&x[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] = sigmoid32(x[i])
	}
}

// tanhRow32 sets x[i] = tanh(x[i]) (vectorised when vec).
func tanhRow32(x []float32, vec bool) {
	n := 0
	if vec {
		n = len(x) &^ 7
		if n > 0 {
			vtanh(&x[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] = tanh32(x[i])
	}
}
