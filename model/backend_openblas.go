//go:build openblas

package model

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"runtime"

	"gonum.org/v1/netlib/blas/netlib"
)

// defaultBackend routes BLAS through OpenBLAS via gonum.org/v1/netlib (cgo;
// Debian: apt-get install libopenblas-dev). Build with -tags openblas.
//
// It sets OpenBLAS to one thread (openblas_set_num_threads(1), idempotent,
// process-wide) and splits large GEMMs into GOMAXPROCS panels on goroutines
// instead: OpenBLAS's own threads busy-wait, which on a shared machine
// measured 2× slower for the per-step recurrent GEMMs.
func defaultBackend() backend {
	C.openblas_set_num_threads(1)
	return backend{s: netlib.Implementation{}, d: netlib.Implementation{}, split: max(runtime.GOMAXPROCS(0), 1), par: runtime.GOMAXPROCS(0)}
}

// BLASBackend names the BLAS implementation compiled in: "gonum" (pure Go)
// or "openblas" (build tag openblas, cgo through gonum.org/v1/netlib).
func BLASBackend() string { return "openblas" }
