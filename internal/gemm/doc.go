// Package gemm is the one place hyperconn multiplies dense matrices: the
// general matrix product
//
//	C ← alpha·op(A)·op(B) + beta·C,   C m×n, inner dimension k,
//
// over row-major slices with explicit strides (BLAS's xGEMM in row-major
// order), in float64 (Mul) and float32 (Mul32). Every caller — the Linear
// layers of net, the coefficient head of the mHC family — goes through it,
// so that one switch selects the BLAS for the whole library.
//
// # Backends
//
// The default build is pure Go, with no cgo: the backend named Gonum. On a
// processor with AVX2 and FMA it multiplies with the package's own packed
// micro-kernels (package micro, in Go assembly: 512-bit vectors where the
// processor has AVX-512, else 256-bit; Kernel names the one in use).
// A product is cut into blocks of blockK rows of op(B) by blockN columns;
// each block of op(B) is packed once into column panels NR wide, and for
// every MR rows of C the matching micro-panel of op(A) is packed and
// multiplied with each panel, the MR×NR tile of C held in registers for
// the whole inner sum. Where op(A) = Aᵀ or op(B) = B already has the
// panel layout, it is read in place when its block spans few pages, and
// op(A) = A is read in place, row-major, by the avx512 kernels when C has
// at most four panels of columns (packing A would be reused too little). The
// packing buffers come from a free list that the first call fills with
// Threads() of them; a call allocates only when more calls than that run
// at once for the first time. Without FMA, with -tags purego,
// and on other architectures, the backend runs gonum's kernels: gonum's
// Dgemm goes parallel on large products by allocating a channel and a
// goroutine per 64×64 block of C; Mul instead cuts C into tiles of at
// most TileRows×TileCols (three blocks), each of which gonum computes
// serially with the same kernels, so a call never allocates. Products of
// at least MinParallel multiply-adds are split, by blocks of rows or of
// columns of C, between the caller and Threads()−1 persistent helper
// goroutines; only one call at a time uses the helpers (others, such as
// the per-chunk products of the token-parallel mixers, which already run
// on every core, run serially), so the helpers never queue.
//
// Built with -tags openblas (and Debian's libopenblas-dev installed: apt-get
// install -y libopenblas-dev), the package opens libopenblas.so.0 with
// dlopen at start-up and Mul calls its cblas_dgemm (Mul32 cblas_sgemm);
// gonum's blas64 and blas32 get OpenBLAS's Dgemm and Sgemm too (their other
// routines stay gonum's). The library is opened rather than linked so that
// its kernels can be chosen first: OpenBLAS reads OPENBLAS_CORETYPE once,
// as it loads, and Debian's 0.3.21 does not know the processor of the
// README's Intel Xeon VM and falls back to Prescott's SSE3 kernels, a fifth
// of the machine's single-precision speed. Unless the user has set
// OPENBLAS_CORETYPE, the package sets it from the processor's extensions
// (CPUID; SkylakeX with AVX-512, Haswell or Zen with AVX2 and FMA) for the
// load, then removes it again; Describe says which kernels run and who
// chose them (the CLI's version command prints it). BenchmarkCoreTypes
// compares the choice with every core type set by hand, each in its own
// process. OpenBLAS runs single-threaded (OPENBLAS_NUM_THREADS=1 for the
// load, unless set: its worker threads are never started): a large
// product is split, by rows or columns of C, across the caller and the
// package's own helper goroutines, one cblas call each. (OpenBLAS's worker
// threads spin after a call and took the second core from the element-wise
// work between products; a depth-32 training step ran about 15% slower with
// them.) If the library cannot be opened, the binary runs on gonum and
// Describe says why. Use switches backends at run time, for comparisons
// within one binary. Measured on the AMD machine of earlier README figures
// (BenchmarkMul, one thread): OpenBLAS 50 GFLOP/s float64 and 99 GFLOP/s
// float32 on a 512³ product; gonum about 8 and 16.
//
// # Threads
//
// SetThreads(k) caps the goroutines one call uses: a product's parts, the
// ranges of For (the element-wise work of a training step) and the parts
// of Parts (hc.Layer's token ranges). Only one call at a time uses the
// helpers; a call that finds them busy (a product inside a Layer's token
// range) runs serially, so a run never uses more than k threads. The
// default, GOMAXPROCS at start-up, gives one run every core; a program
// that runs one experiment per core calls SetThreads(1) so that the runs do
// not compete (hc.SetThreads is the exported form). On this 2-core machine
// two threads gain little for a depth-32 step at batch 64 (its products
// are 64×128×512: 1.3× at best, and the element-wise work is bound by
// memory).
//
// # Rules
//
// C must not overlap A or B. Mul and Mul32 panic with ErrArgs for a
// negative dimension, an unknown transpose, a stride shorter than its row
// or a slice too short for its matrix (before anything is written).
// Results are bit-for-bit repeatable for a given backend, kernel and
// thread count on one machine: each entry of C is computed by exactly one
// goroutine, with a summation order that depends on the tile, block and
// part boundaries only. Different backends and kernels round differently
// (a few ulps per term of the inner sum; the micro-kernels fuse each
// multiply-add).
//
// # Cost
//
// 2·m·n·k flops. On one core of the Xeon VM this was written on (AVX-512),
// the float32 micro-kernel alone runs at about 120 GFLOP per second of
// processor time, and BenchmarkMul's products (64×512×128, its weight
// gradient, 512³) at 99–126 GFLOP/s in float32 and 44–51 in float64;
// gonum's kernels reach about 8 GFLOP/s per core in float64 and twice
// that in float32. BenchmarkNetShapes compares the implementations of a
// binary (and OpenBLAS in a -tags openblas build) on the networks' shapes.
//
// # Example
//
// The product of a 2×3 and a 3×2 matrix:
//
//	a := []float64{1, 2, 3, 4, 5, 6}    // 2×3
//	b := []float64{7, 8, 9, 10, 11, 12} // 3×2
//	c := make([]float64, 4)             // 2×2
//	gemm.Mul(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
//	// c = [58 64 139 154]
package gemm
