// Package openblas holds the cgo side of model's openblas build (-tags
// openblas): the OpenBLAS thread setting and the netlib BLAS implementation.
// It lives apart from model because a package that uses cgo cannot also hold
// Go assembly, and model's kernels are Go assembly.
package openblas
