//go:build openblas

package model

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
)

// defaultBackend routes BLAS through OpenBLAS via gonum.org/v1/netlib (cgo;
// Debian: apt-get install libopenblas-dev). Build with -tags openblas.
// OpenBLAS sizes its thread pool from OPENBLAS_NUM_THREADS (default: all cores).
func defaultBackend() backend {
	return backend{s: netlib.Implementation{}, d: netlib.Implementation{}}
}

// BLASBackend names the BLAS implementation compiled in: "gonum" (pure Go)
// or "openblas" (build tag openblas, cgo through gonum.org/v1/netlib).
func BLASBackend() string { return "openblas" }
