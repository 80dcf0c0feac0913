//go:build !openblas

package model

import (
	"runtime"

	"gonum.org/v1/gonum/blas/gonum"
)

// defaultBackend is gonum's pure-Go BLAS (the default build, CGO_ENABLED=0 works).
func defaultBackend() backend {
	return backend{s: gonum.Implementation{}, d: gonum.Implementation{}, par: runtime.GOMAXPROCS(0)}
}

// BLASBackend names the BLAS implementation compiled in: "gonum" (pure Go)
// or "openblas" (build tag openblas, cgo through gonum.org/v1/netlib).
func BLASBackend() string { return "gonum" }
