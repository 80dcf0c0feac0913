package model

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

// lstmForward32 is lstmForward for float32: the gate nonlinearities and
// tanh(c) run eight lanes at a time on AVX2 CPUs, exp32 otherwise.
func lstmForward32(ai, af, ao, ag, cp, co, tco, ho []float32) {
	vec := haveVecMath()
	n := len(ai)
	af, ao, ag, cp, co, tco, ho = af[:n], ao[:n], ag[:n], cp[:n], co[:n], tco[:n], ho[:n]
	sigmoidRow(ai, vec)
	sigmoidRow(af, vec)
	sigmoidRow(ao, vec)
	tanhRow32(ag, vec)
	for j, i := range ai {
		c := af[j]*cp[j] + i*ag[j]
		co[j], tco[j] = c, c
	}
	tanhRow32(tco, vec)
	for j, o := range ao {
		ho[j] = o * tco[j]
	}
}

// softmaxRow32 is softmaxRow for float32 with the vector exp (sums in float64).
func softmaxRow32(row []float32, y int, grad bool, scale float64) float64 {
	mx := row[0]
	for _, v := range row[1:] {
		mx = max(mx, v)
	}
	zy := float64(row[y] - mx)
	if !grad {
		// Keep the logits: exponentiate a copy chunk by chunk.
		var buf [256]float32
		sum := 0.0
		for j := 0; j < len(row); j += len(buf) {
			chunk := buf[:copy(buf[:], row[j:])]
			expShiftRow(chunk, mx, haveVecMath())
			for _, e := range chunk {
				sum += float64(e)
			}
		}
		return math.Log(sum) - zy
	}
	expShiftRow(row, mx, haveVecMath())
	sum := 0.0
	for _, e := range row {
		sum += float64(e)
	}
	k := float32(scale / sum)
	for j, v := range row {
		row[j] = v * k
	}
	row[y] -= float32(scale)
	return math.Log(sum) - zy
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
