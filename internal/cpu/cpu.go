// Package cpu reports the x86 vector extensions the library's assembly
// kernels need, read once at start-up with CPUID and XGETBV: a feature
// counts only if the processor has it and the operating system saves its
// registers. On other architectures, or built with -tags purego, every
// feature is false and the kernels' pure-Go twins run.
package cpu

var (
	// AVX reports 256-bit floating-point vectors (hc's mixing kernels).
	AVX = hasAVX()
	// AVX2 reports AVX plus 256-bit integer vectors (the float32
	// element-wise kernels and the float64 AdamW kernel).
	AVX2 = AVX && hasAVX2()
	// FMA reports AVX2 plus fused multiply-add (the GEMM micro-kernels
	// of internal/gemm).
	FMA = AVX2 && hasFMA()
	// AVX512 reports FMA plus AVX-512 Foundation with the 512-bit and
	// mask registers saved by the operating system (the 512-bit GEMM
	// micro-kernels).
	AVX512 = FMA && hasAVX512()
)
