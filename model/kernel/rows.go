package kernel

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// The row products of sampling: y += aᵀx for one sequence (GemvT) and for a
// batch of sequences at once (GemvTRows). A batch must give each row the
// text it would have alone, so the two compute every row with the same
// products summed in the same order, whatever the number of rows or a row's
// place among them (batch invariance). That excludes a BLAS GEMM, whose
// blocking and reduction order depend on the shape; in float32 both run on
// this package's AVX2 kernel where the CPU has AVX2 and FMA (in every build
// but purego, the OpenBLAS build included) and on gonum's Sgemv elsewhere —
// never on OpenBLAS — so a sampled text depends on the CPU, not on the BLAS
// built in.

// GemvT adds aᵀ·x to y (y += aᵀx, a is len(x) × len(y)): the product of one
// sampling step. It panics on mismatched shapes.
func GemvT[F Float](be Backend, y []F, a Mat[F], x []F) {
	if a.Rows != len(x) || a.Cols != len(y) {
		panic(fmt.Sprintf("kernel: GemvT of a %d×%d matrix with %d and %d elements", a.Rows, a.Cols, len(x), len(y)))
	}
	rowsPanel(be, 1, a.Rows, a.Cols, a.Data, a.Stride, x, a.Rows, y, a.Cols)
}

// GemvTRows adds aᵀ·x_r to y_r for every row r of x and y (y_r += aᵀx_r; a
// is x.Cols × y.Cols): the product of one step of a batch of sequences,
// reading a once for all of them. Row r comes out bit for bit as
// GemvT(be, y_r, a, x_r) computes it alone. With two rows or more, large
// products are split into column panels on goroutines (the backend's
// workers, see WithWorkers), which changes no sum. It panics on mismatched
// shapes.
func GemvTRows[F Float](be Backend, y Mat[F], a Mat[F], x Mat[F]) {
	if x.Rows != y.Rows || a.Rows != x.Cols || a.Cols != y.Cols {
		panic(fmt.Sprintf("kernel: GemvTRows of a %d×%d matrix with %d×%d and %d×%d", a.Rows, a.Cols, x.Rows, x.Cols, y.Rows, y.Cols))
	}
	rows, m, n := x.Rows, a.Rows, a.Cols
	if rows == 0 || n == 0 {
		return
	}
	parts := max(be.par, be.split)
	if pool, ok := be.pool.(*gemmPool[F]); ok {
		parts = min(parts, len(pool.slots)+1)
	}
	if parts < 2 || rows < 2 || n < 128 || rows*m*n < rowsSplitMinFlops {
		rowsPanel(be, rows, m, n, a.Data, a.Stride, x.Data, x.Stride, y.Data, y.Stride)
		return
	}
	rowsSplit(be, parts, rows, m, n, a.Data, a.Stride, x.Data, x.Stride, y.Data, y.Stride)
}

// rowsSplitMinFlops is the size (rows·m·n) of a GemvTRows below which
// splitting it into panels does not pay.
const rowsSplitMinFlops = 1 << 19

// rowsSplit computes a GemvTRows as column panels whose widths are
// multiples of 64 (so that each panel's kernel columns are the whole
// product's), the last panel, which takes the remaining columns, on the
// calling goroutine and the others on be's pool or on new goroutines.
func rowsSplit[F Float](be Backend, parts, rows, m, n int, a []F, lda int, x []F, ldx int, y []F, ldy int) {
	var tasks [8]gemmTask[F]
	parts = min(parts, len(tasks))
	w := ((n/parts + 63) &^ 63)
	nt := 0
	for j0 := 0; j0 < n; j0 += w {
		nn := min(w, n-j0)
		if nt == parts-1 {
			nn = n - j0
		}
		tasks[nt] = gemmTask[F]{rows: rows, k: m, n: nn, a: a[j0:], lda: lda, b: x, ldb: ldx, c: y[j0:], ldc: ldy}
		nt++
		if j0+nn == n {
			break
		}
	}
	one := be
	one.split, one.pool = 1, nil
	pool, _ := be.pool.(*gemmPool[F])
	runTasks(pool, tasks[:nt], one)
}

// rowsPanel computes y_r += aᵀx_r for rows rows, serially.
func rowsPanel[F Float](be Backend, rows, m, n int, a []F, lda int, x []F, ldx int, y []F, ldy int) {
	switch a := any(a).(type) {
	case []float32:
		x, y := any(x).([]float32), any(y).([]float32)
		switch {
		case be.rowKernel && rows == 1:
			sgemvTFast(m, n, a, lda, x[:m], y[:n])
		case be.rowKernel:
			sgemvTRowsFast(rows, m, n, a, lda, x, ldx, y, ldy)
		default:
			sgemvTRowsGonum(rows, m, n, a, lda, x, ldx, y, ldy)
		}
	case []float64:
		x, y := any(x).([]float64), any(y).([]float64)
		for r := range rows {
			be.d.Dgemv(blas.Trans, m, n, 1, a, lda, x[r*ldx:r*ldx+m], 1, 1, y[r*ldy:r*ldy+n], 1)
		}
	}
}

// sgemvTGonum computes y += aᵀx with gonum's Sgemv: for each l in increasing
// order, y_j ← y_j + x_l·a_lj with the product rounded before the sum.
func sgemvTGonum(m, n int, a []float32, lda int, x, y []float32) {
	gonum.Implementation{}.Sgemv(blas.Trans, m, n, 1, a, lda, x, 1, 1, y, 1)
}

// Tiles of sgemvTRowsGonum: rowTileK × rowTileN floats of a (32 KiB) are
// read once for all rows.
const (
	rowTileK = 32
	rowTileN = 256
)

// sgemvTRowsGonum computes y_r += aᵀx_r with gonum's Sgemv on tiles of a,
// each tile for every row before the next: element (r, j) still takes its
// products in increasing l, as sgemvTGonum on row r alone.
func sgemvTRowsGonum(rows, m, n int, a []float32, lda int, x []float32, ldx int, y []float32, ldy int) {
	if rows == 1 || m == 0 {
		for r := range rows {
			sgemvTGonum(m, n, a, lda, x[r*ldx:r*ldx+m], y[r*ldy:r*ldy+n])
		}
		return
	}
	for j0 := 0; j0 < n; j0 += rowTileN {
		nn := min(rowTileN, n-j0)
		for k0 := 0; k0 < m; k0 += rowTileK {
			kk := min(rowTileK, m-k0)
			for r := range rows {
				sgemvTGonum(kk, nn, a[k0*lda+j0:], lda, x[r*ldx+k0:r*ldx+k0+kk], y[r*ldy+j0:r*ldy+j0+nn])
			}
		}
	}
}
