package kernel

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Float is the element type of the numeric core. Training and sampling run
// in float32; the gradient check runs the same generic code in float64.
type Float interface{ ~float32 | ~float64 }

// A Mat is a row-major matrix view: element (i, j) is Data[i·Stride + j],
// for i < Rows and j < Cols ≤ Stride. Columns past Cols are padding.
type Mat[F Float] struct {
	Data               []F
	Rows, Cols, Stride int
}

// View returns the rows × cols matrix whose rows start every stride
// elements of data.
func View[F Float](data []F, rows, cols, stride int) Mat[F] {
	return Mat[F]{Data: data, Rows: rows, Cols: cols, Stride: stride}
}

// Backend is the BLAS implementation a network computes with. It is chosen
// at build time (Default; see backend_native.go and backend_openblas.go),
// never through gonum's process-global blas32.Use/blas64.Use.
type Backend struct {
	s blas.Float32
	d blas.Float64
	// split > 1 splits large GEMMs into that many column (or row) panels
	// computed on separate goroutines (the AVX2 kernel and single-threaded
	// OpenBLAS are serial).
	split int
	// pool, a *gemmPool[F] or nil, runs the panels of split GEMMs
	// (WithWorkers).
	pool any
	// par is the number of goroutines for row-parallel elementwise work
	// (softmax); GOMAXPROCS by default.
	par int
	// sgemm, when set, computes float32 c = op(a)·b + beta·c (no transposed
	// b, alpha 1) faster than s (the AVX2 kernel of sgemm_amd64.s).
	sgemm func(tA bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// rowKernel: the float32 row products of sampling (GemvT, GemvTRows)
	// run on this package's AVX2 kernel (see rows.go), else on gonum's Sgemv.
	rowKernel bool
}

// splitMinFlops is the GEMM size (m·n·k) below which splitting does not pay.
const splitMinFlops = 1 << 20

// Gonum is plain gonum BLAS: no assembly kernel, no OpenBLAS, no split. It
// is the same-run baseline of the benchmarks.
func Gonum() Backend {
	return Backend{s: gonum.Implementation{}, d: gonum.Implementation{}, par: runtime.GOMAXPROCS(0)}
}

// Assembly reports whether float32 GEMMs run on this package's AVX2 kernel
// (the default build on CPUs with AVX2 and FMA).
func (be Backend) Assembly() bool { return be.sgemm != nil }

// Par is the number of goroutines for row-parallel elementwise work
// (the softmax of a batch).
func (be Backend) Par() int { return be.par }

// Gemm sets c = op(a)·b + beta·c, where op(a) is a, or aᵀ when transA. The
// shapes must agree (op(a) is c.Rows × k, b is k × c.Cols); anything else
// panics, a programmer error. Large products are split into panels on
// goroutines when the backend splits (see WithWorkers).
func Gemm[F Float](be Backend, c Mat[F], beta F, a Mat[F], transA bool, b Mat[F]) {
	m, k := a.Rows, a.Cols
	if transA {
		m, k = k, m
	}
	if m != c.Rows || k != b.Rows || b.Cols != c.Cols {
		panic(fmt.Sprintf("kernel: Gemm of %d×%d (transposed: %v) by %d×%d into %d×%d", a.Rows, a.Cols, transA, b.Rows, b.Cols, c.Rows, c.Cols))
	}
	gemm(be, transA, false, m, c.Cols, k, 1, a.Data, a.Stride, b.Data, b.Stride, beta, c.Data, c.Stride)
}

// WithWorkers returns be with worker goroutines that run the panels of the
// F-typed GEMMs it splits and of the GemvTRows it splits, so that the
// per-step products of BPTT and of a sampling batch fan out without
// allocating, and stop, which ends them. On one core be is returned as it
// is (stop does nothing).
func WithWorkers[F Float](be Backend) (pooled Backend, stop func()) {
	workers := max(be.split, be.par) - 1
	if workers < 1 {
		return be, func() {}
	}
	p := newGemmPool[F](be, workers)
	be.pool = p
	return be, p.close
}

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemm computes c = alpha·op(a)·op(b) + beta·c for row-major a, b, c with
// op(a) m×k, op(b) k×n and c m×n.
func gemm[F Float](be Backend, tA, tB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
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

// gemmSplit computes the GEMM as be.split independent panels of C: column
// panels when n is wide enough (each takes the matching columns of op(b)),
// else row panels (the matching rows of op(a)). The last panel runs on the
// calling goroutine, the others on be.pool's workers when the backend has a
// pool (no allocation), else on new goroutines.
func gemmSplit[F Float](be Backend, tA, tB bool, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
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
			add(gemmTask[F]{0, tA, tB, m, nn, k, alpha, a, lda, bb, ldb, beta, c[j0:], ldc})
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
			add(gemmTask[F]{0, tA, tB, min(h, m-i0), n, k, alpha, aa, lda, b, ldb, beta, c[i0*ldc:], ldc})
		}
	}
	runTasks(pool, tasks[:nt], one)
}

// runTasks runs the panels on pool's workers (or, without a pool, on new
// goroutines), the last one on the calling goroutine, each with the serial
// backend one, and returns when all are done.
func runTasks[F Float](pool *gemmPool[F], tasks []gemmTask[F], one Backend) {
	nt := len(tasks)
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
		go func(t gemmTask[F]) { defer wg.Done(); t.run(one) }(tasks[i])
	}
	last.run(one)
	wg.Wait()
}

// gemmTask is one panel of a split GEMM or, when rows > 0, of a split
// GemvTRows: y = c (ldc) += aᵀx for x = b (ldb) of rows rows, a k×n.
type gemmTask[F Float] struct {
	rows    int
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

func (t *gemmTask[F]) run(be Backend) {
	if t.rows > 0 {
		rowsPanel(be, t.rows, t.k, t.n, t.a, t.lda, t.b, t.ldb, t.c, t.ldc)
		return
	}
	gemm(be, t.tA, t.tB, t.m, t.n, t.k, t.alpha, t.a, t.lda, t.b, t.ldb, t.beta, t.c, t.ldc)
}

// gemmPool is a set of worker goroutines for the panels of split GEMMs (and
// GemvTRows), so that the per-step products fan out without allocating. A
// training or evaluation workspace, or a sampling batch, owns one
// (WithWorkers) and stops it with close.
type gemmPool[F Float] struct {
	be    Backend // unsplit
	tasks chan *gemmTask[F]
	done  chan struct{}
	slots []gemmTask[F]
}

func newGemmPool[F Float](be Backend, workers int) *gemmPool[F] {
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
