//go:build openblas

package kernel

import (
	"runtime"

	"commentbot/model/kernel/internal/openblas"
)

// Default routes BLAS through OpenBLAS via gonum.org/v1/netlib (cgo;
// Debian: apt-get install libopenblas-dev). Build with -tags openblas.
//
// It sets OpenBLAS to one thread (idempotent, process-wide) and splits large
// GEMMs into GOMAXPROCS panels on goroutines instead: OpenBLAS's own threads
// busy-wait, which on a shared machine measured 2× slower for the per-step
// recurrent GEMMs. The row products of sampling (GemvT, GemvTRows) do not
// go through OpenBLAS: its GEMM is not batch-invariant, and on the
// package's own row kernels the OpenBLAS build samples the same text as the
// pure-Go build on the same CPU (see rows.go).
func Default() Backend {
	openblas.SetThreads(1)
	p := max(runtime.GOMAXPROCS(0), 1)
	return Backend{s: openblas.Implementation{}, d: openblas.Implementation{}, split: p, par: p, rowKernel: haveRowKernel()}
}

// Name names the BLAS implementation compiled in: "gonum" (pure Go) or
// "openblas" (build tag openblas, cgo through gonum.org/v1/netlib).
func Name() string { return "openblas" }
