// Package kernel holds the numeric kernels the language model runs on, with
// destination-first signatures: Gemm(be, c, beta, a, transA, b) sets
// c = op(a)·b + beta·c on row-major matrix views (Mat), GemvT(be, y, a, x)
// adds aᵀ·x to y, and Sigmoid, Tanh and ExpShift work on rows in place
// (float32 with a fast exp accurate to about 2 ulp, float64 with package
// math, so that a gradient check sees exact functions).
//
// The Backend is chosen at build time (Default). The default build is pure
// Go (CGO_ENABLED=0 works): on amd64 CPUs with AVX2 and FMA, float32 GEMMs
// run on a 4×16 assembly kernel (sgemm_amd64.s), batch-1 GEMVs on a
// 64-column kernel, and exp, sigmoid and tanh on eight-lane kernels
// (vexp_amd64.s); gonum's BLAS does the rest (float64, edges, other CPUs;
// -tags purego turns the assembly off). With -tags openblas, BLAS goes
// through OpenBLAS via gonum.org/v1/netlib (cgo in internal/openblas, apart
// because a package with cgo cannot hold Go assembly; Debian package
// libopenblas-dev), run single-threaded. Either way large GEMMs are split
// into panels on goroutines: WithWorkers gives a workspace its own workers,
// so that the per-step GEMMs of training fan out without allocating. Name
// reports the BLAS compiled in. The package never calls the process-global
// blas32.Use/blas64.Use and holds no state.
package kernel
