package model

import (
	"sync"

	"gonum.org/v1/gonum/blas"
)

// Float is the element type of the numeric core. Training and sampling run
// in float32; the gradient check runs the same generic code in float64.
type Float interface{ ~float32 | ~float64 }

// backend is the BLAS implementation a network computes with. It is chosen
// at build time (see backend_native.go and backend_openblas.go), never
// through gonum's process-global blas32.Use/blas64.Use.
type backend struct {
	s blas.Float32
	d blas.Float64
	// split > 1 splits large GEMMs into that many column (or row) panels
	// computed on separate goroutines (the AVX2 kernel and single-threaded
	// OpenBLAS are serial).
	split int
	// pool, a *gemmPool[F] or nil, runs the panels of split GEMMs.
	pool any
	// par is the number of goroutines for row-parallel elementwise work
	// (softmax); GOMAXPROCS by default.
	par int
	// sgemm, when set, computes float32 c = op(a)·b + beta·c (no transposed
	// b, alpha 1) faster than s (the AVX2 kernel of sgemm_amd64.s).
	sgemm func(tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// sgemvT, when set, computes float32 y += aᵀx faster than s.
	sgemvT func(m, n int, a []float32, lda int, x, y []float32)
}

// splitMinFlops is the GEMM size (m·n·k) below which splitting does not pay.
const splitMinFlops = 1 << 20

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major a, b, c with
// op(a) m×k, op(b) k×n and c m×n.
func gemm[F Float](be backend, tA, tB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if be.split > 1 && m*n*k >= splitMinFlops {
		gemmSplit(be, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	switch a := any(a).(type) {
	case []float32:
		if be.sgemm != nil && alpha == 1 && !tB {
			be.sgemm(tA, m, n, k, a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
		be.s.Sgemm(tr(tA), tr(tB), m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		be.d.Dgemm(tr(tA), tr(tB), m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}

// gemv computes y = alpha·op(a)·x + beta·y for a row-major m×n matrix a.
func gemv[F Float](be backend, tA bool, m, n int, alpha F, a []F, lda int, x []F, beta F, y []F) {
	switch a := any(a).(type) {
	case []float32:
		if be.sgemvT != nil && tA && alpha == 1 && beta == 1 {
			be.sgemvT(m, n, a, lda, any(x).([]float32), any(y).([]float32))
			return
		}
		be.s.Sgemv(tr(tA), m, n, float32(alpha), a, lda, any(x).([]float32), 1, float32(beta), any(y).([]float32), 1)
	case []float64:
		be.d.Dgemv(tr(tA), m, n, float64(alpha), a, lda, any(x).([]float64), 1, float64(beta), any(y).([]float64), 1)
	}
}

// gemmSplit computes the GEMM as be.split independent panels of C: column
// panels when n is wide enough (each takes the matching columns of op(b)),
// else row panels (the matching rows of op(a)). The last panel runs on the
// calling goroutine, the others on be.pool's workers when the backend has a
// pool (no allocation), else on new goroutines.
func gemmSplit[F Float](be backend, tA, tB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	parts := be.split
	one := be
	one.split, one.pool = 1, nil
	pool, _ := be.pool.(*gemmPool[F])
	if pool != nil {
		parts = min(parts, len(pool.slots)+1)
	}
	var tasks [8]gemmTask[F]
	parts = min(parts, len(tasks))
	nt := 0
	add := func(t gemmTask[F]) {
		tasks[nt] = t
		nt++
	}
	if n >= 64*parts {
		// ⌈n/parts⌉ rounded up to a multiple of 16: at most parts panels (the
		// pool has parts-1 workers; ⌊n/parts⌋ made a third panel of n = 129).
		w := ((n+parts-1)/parts + 15) &^ 15
		for j0 := 0; j0 < n; j0 += w {
			nn := min(w, n-j0)
			var bb []F // op(b) columns j0…: row offset j0 when b is transposed
			if tB {
				bb = b[j0*ldb:]
			} else {
				bb = b[j0:]
			}
			add(gemmTask[F]{tA, tB, m, nn, k, alpha, a, lda, bb, ldb, beta, c[j0:], ldc})
		}
	} else {
		h := (m + parts - 1) / parts
		for i0 := 0; i0 < m; i0 += h {
			var aa []F // op(a) rows i0…: column offset i0 when a is transposed
			if tA {
				aa = a[i0:]
			} else {
				aa = a[i0*lda:]
			}
			add(gemmTask[F]{tA, tB, min(h, m-i0), n, k, alpha, aa, lda, b, ldb, beta, c[i0*ldc:], ldc})
		}
	}
	last := tasks[nt-1]
	if pool != nil {
		for i := range nt - 1 {
			pool.slots[i] = tasks[i]
			pool.tasks <- &pool.slots[i]
		}
		last.run(one)
		for range nt - 1 {
			<-pool.done
		}
		return
	}
	var wg sync.WaitGroup
	for i := range nt - 1 {
		wg.Add(1)
		go func(t gemmTask[F], be backend) { defer wg.Done(); t.run(be) }(tasks[i], one)
	}
	last.run(one)
	wg.Wait()
}

// gemmTask is one panel of a split GEMM.
type gemmTask[F Float] struct {
	tA, tB  bool
	m, n, k int
	alpha   F
	a       []F
	lda     int
	b       []F
	ldb     int
	beta    F
	c       []F
	ldc     int
}

func (t *gemmTask[F]) run(be backend) {
	gemm(be, t.tA, t.tB, t.m, t.n, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.beta, t.c, t.ldc)
}

// gemmPool is a set of worker goroutines for the panels of split GEMMs, so
// that the per-step GEMMs of BPTT fan out without allocating. A training or
// evaluation workspace owns one and stops it with close.
type gemmPool[F Float] struct {
	be    backend // unsplit
	tasks chan *gemmTask[F]
	done  chan struct{}
	slots []gemmTask[F]
}

func newGemmPool[F Float](be backend, workers int) *gemmPool[F] {
	p := &gemmPool[F]{tasks: make(chan *gemmTask[F], workers), done: make(chan struct{}, workers), slots: make([]gemmTask[F], workers)}
	p.be = be
	p.be.split, p.be.pool = 1, nil
	for range workers {
		go func() {
			for t := range p.tasks {
				t.run(p.be)
				p.done <- struct{}{}
			}
		}()
	}
	return p
}

func (p *gemmPool[F]) close() { close(p.tasks) }
