//go:build openblas

package model

import (
	"runtime"

	"commentbot/model/internal/openblas"
)

// defaultBackend routes BLAS through OpenBLAS via gonum.org/v1/netlib (cgo;
// Debian: apt-get install libopenblas-dev). Build with -tags openblas.
//
// It sets OpenBLAS to one thread (idempotent, process-wide) and splits large
// GEMMs into GOMAXPROCS panels on goroutines instead: OpenBLAS's own threads
// busy-wait, which on a shared machine measured 2× slower for the per-step
// recurrent GEMMs.
func defaultBackend() backend {
	openblas.SetThreads(1)
	p := max(runtime.GOMAXPROCS(0), 1)
	return backend{s: openblas.Implementation{}, d: openblas.Implementation{}, split: p, par: p}
}

// BLASBackend names the BLAS implementation compiled in: "gonum" (pure Go)
// or "openblas" (build tag openblas, cgo through gonum.org/v1/netlib).
func BLASBackend() string { return "openblas" }
