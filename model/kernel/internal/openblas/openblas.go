//go:build openblas

package openblas

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
)

// Implementation is gonum's cgo binding of the C BLAS, linked to OpenBLAS.
type Implementation = netlib.Implementation

// SetThreads sets the size of OpenBLAS's thread pool (process-wide).
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }
