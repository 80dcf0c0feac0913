package kernel

import (
	"fmt"
	"syscall"
	"testing"
	"time"
)

// cpuSeconds is the process's user+system CPU time: on a machine shared with
// other jobs, wall time depends on their load, CPU time much less.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// BenchmarkSgemm is the same-run baseline for the model's training figures:
// one 1024×1024×1024 float32 GEMM through the compiled-in BLAS path, in
// GFLOP/s, and the same through gonum alone.
func BenchmarkSgemm(b *testing.B) {
	b.Run("model", func(b *testing.B) { benchSgemm(b, Default()) })
	b.Run("gonum", func(b *testing.B) { benchSgemm(b, Gonum()) })
}

func benchSgemm(b *testing.B, be Backend) {
	const n = 1024
	a, c := make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	m := View(a, n, n, n)
	b.ResetTimer()
	start, cpu := time.Now(), cpuSeconds()
	for range b.N {
		Gemm(be, View(c, n, n, n), 0, m, false, m)
	}
	b.ReportMetric(2*n*n*n*float64(b.N)/time.Since(start).Seconds()/1e9, "GFLOP/s")
	b.ReportMetric(2*n*n*n*float64(b.N)/(cpuSeconds()-cpu)/1e9, "GFLOP/cpu-s")
}

// BenchmarkGemvTRows: y_r += aᵀx_r for a 512×2048 float32 a (the char
// model's recurrent weights), rows at once on one goroutine, in GFLOP/s (wall
// and CPU), and speedup against as many GemvT one row at a time.
func BenchmarkGemvTRows(b *testing.B) {
	for _, rows := range []int{1, 4, 8, 16, 32} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			const m, n, ld = 512, 2048, 2064
			be := Default()
			be.par, be.split = 1, 1
			a, x, y := make([]float32, m*ld), make([]float32, rows*m), make([]float32, rows*ld)
			for i := range a {
				a[i] = float32(i%7) * 0.01
			}
			var one, all, oneCPU, allCPU float64
			for range b.N {
				t0, c0 := time.Now(), cpuSeconds()
				for r := range rows {
					GemvT(be, y[r*ld:r*ld+n], View(a, m, n, ld), x[r*m:(r+1)*m])
				}
				t1, c1 := time.Now(), cpuSeconds()
				GemvTRows(be, View(y, rows, n, ld), View(a, m, n, ld), View(x, rows, m, m))
				one += t1.Sub(t0).Seconds()
				all += time.Since(t1).Seconds()
				oneCPU += c1 - c0
				allCPU += cpuSeconds() - c1
			}
			b.ReportMetric(2*m*n*float64(rows*b.N)/all/1e9, "GFLOP/s")
			b.ReportMetric(2*m*n*float64(rows*b.N)/allCPU/1e9, "GFLOP/cpu-s")
			b.ReportMetric(one/all, "speedup")
			b.ReportMetric(oneCPU/allCPU, "cpu-speedup")
		})
	}
}
