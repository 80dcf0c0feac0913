package kernel

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemvTRowsIsGemvTPerRow wants every row of a GemvTRows bit for bit
// equal to GemvT on that row alone — for batches of 1 to 33 rows, widths
// with and without the kernel's 64-column panels and edges, depths across
// the kernel's blocking, padded strides — on the build's backend, plain
// gonum, and split into panels on a pool of workers as a sampling batch
// runs it. This is the batch invariance sampling relies on: a sequence's
// text does not depend on the others stepped with it.
func TestGemvTRowsIsGemvTPerRow(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	pooled, stop := WithWorkers[float32](Default())
	defer stop()
	forced := pooled
	forced.par = 4 // more panels than cores: every split path runs
	backends := map[string]Backend{"default": Default(), "gonum": Gonum(), "pooled": pooled, "pooled, 4 panels": forced}
	shapes := []struct{ m, n int }{{0, 64}, {1, 16}, {7, 63}, {128, 512}, {300, 96}, {512, 2048}, {513, 130}, {40, 4003}}
	for name, be := range backends {
		for _, s := range shapes {
			for _, rows := range []int{1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 32, 33} {
				lda, ldx, ldy := s.n+16, s.m+3, s.n+5
				fill := func(n int, scale float64) []float32 {
					v := make([]float32, n)
					for i := range v {
						v[i] = float32((rng.Float64() - 0.5) * scale)
					}
					return v
				}
				a := fill(max(s.m*lda, 1), 1)
				x, y := fill(rows*ldx, 2), fill(rows*ldy, 4)
				want := append([]float32(nil), y...)
				for r := range rows {
					GemvT(be, want[r*ldy:r*ldy+s.n], View(a, s.m, s.n, lda), x[r*ldx:r*ldx+s.m])
				}
				GemvTRows(be, View(y, rows, s.n, ldy), View(a, s.m, s.n, lda), View(x, rows, s.m, ldx))
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(y[i]) {
						t.Fatalf("%s, %d rows of %d×%d: row %d column %d is %v in the batch, %v alone",
							name, rows, s.m, s.n, i/ldy, i%ldy, y[i], want[i])
					}
				}
			}
		}
	}
}

// TestGemvTRowsShapes wants mismatched shapes to panic.
func TestGemvTRowsShapes(t *testing.T) {
	be := Default()
	m := func(r, c int) Mat[float32] { return View(make([]float32, r*c), r, c, c) }
	for name, f := range map[string]func(){
		"rows":    func() { GemvTRows(be, m(3, 4), m(5, 4), m(2, 5)) },
		"depth":   func() { GemvTRows(be, m(2, 4), m(5, 4), m(2, 6)) },
		"columns": func() { GemvTRows(be, m(2, 3), m(5, 4), m(2, 5)) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: mismatched shapes did not panic", name)
				}
			}()
			f()
		}()
	}
}
