//go:build amd64 && !purego

package gemm

import "github.com/hyperconn/hyperconn/internal/cpu"

// The assembly micro-kernels (micro_amd64.s). Each computes one MR×NR tile
// of C from packed micro-panels of A (k·MR values) and B (k·NR values):
// c[i·ldc+j] = alpha·Σ_p a[p·MR+i]·b[p·NR+j] (+ beta·c[i·ldc+j] if
// load ≠ 0), with fused multiply-adds. k ≥ 1; the tile must lie inside c.
//
//go:noescape
func sgemmAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)

//go:noescape
func dgemmAVX512(k int, a, b, c *float64, ldc int, alpha, beta float64, load int)

//go:noescape
func sgemmAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)

//go:noescape
func dgemmAVX2(k int, a, b, c *float64, ldc int, alpha, beta float64, load int)

// The micro-kernels this processor runs, fastest first.
var (
	avx512Kernels = kernels{
		f32: &kernel[float32]{name: "avx512", mr: 12, nr: 32, micro: sgemmAVX512},
		f64: &kernel[float64]{name: "avx512", mr: 12, nr: 16, micro: dgemmAVX512},
	}
	avx2Kernels = kernels{
		f32: &kernel[float32]{name: "avx2", mr: 6, nr: 16, micro: sgemmAVX2},
		f64: &kernel[float64]{name: "avx2", mr: 6, nr: 8, micro: dgemmAVX2},
	}
)

// available lists the assembly kernel pairs the processor supports,
// fastest first.
func available() []kernels {
	var ks []kernels
	if cpu.AVX512 {
		ks = append(ks, avx512Kernels)
	}
	if cpu.FMA {
		ks = append(ks, avx2Kernels)
	}
	return ks
}
