// Package f32 holds the float32 element-wise kernels of a training step that
// run between the matrix products: the AdamW update, GELU and its
// derivative, and the sum of squares behind gradient clipping; and the
// conversions between float32 and float64 around float32 matrix products
// in a float64 model: From64, To64, AddTo64 (widen and accumulate),
// From64SumSquares (round and sum the squares of the float64 source, in
// one pass) and AddTo64Scaled (dst += a·x, then += a widened float32
// result, in one pass).
//
// Each kernel has a pure-Go twin (the functions ending in Go, e.g. AdamWGo)
// that defines its result. On amd64 processors with AVX2 the exported
// functions run assembly that evaluates the same operations in the same
// order, eight lanes at a time, with no fused multiply-adds, so its results
// are bit-for-bit those of the twin (tests compare the two on random data,
// at every length, including NaN and ±Inf inputs where the twin defines a
// NaN or an infinity). Elsewhere, or when HasAVX2 is false, the exported
// functions are the twins. The twins round after every operation (explicit
// float32 or float64 conversions), so that a compiler allowed to fuse
// x·y + z (Go's specification permits it) cannot change them either.
//
// # Cost
//
// Per element, on one core of this machine (AMD EPYC, AVX-512 capable but
// used at AVX2 width): AdamW is bound by memory (seven float32 streams);
// GELU's forward pass costs about 13 multiply-adds and one division, its
// derivative an exponential; the scalar twins are 5–15 times slower.
package f32
