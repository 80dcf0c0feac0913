package kernel

import (
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
