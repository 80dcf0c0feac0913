// Package openblas holds the cgo side of package kernel's openblas build (-tags
// openblas): the OpenBLAS thread setting and the netlib BLAS implementation.
// It lives apart from kernel because a package that uses cgo cannot also hold
// Go assembly, and kernel's GEMM and exp kernels are Go assembly.
package openblas
