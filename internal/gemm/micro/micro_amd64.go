//go:build amd64 && !purego

package micro

import "github.com/hyperconn/hyperconn/internal/cpu"

// The assembly micro-kernels (avx512_amd64.s, avx512rows_amd64.s,
// avx2_amd64.s); see asmFunc and Kernel.TileRows.

//go:noescape
func sgemmAVX512(k int, a *float32, aStep int, b *float32, bStep int, c *float32, ldc int, alpha, beta float32, load int)

//go:noescape
func dgemmAVX512(k int, a *float64, aStep int, b *float64, bStep int, c *float64, ldc int, alpha, beta float64, load int)

//go:noescape
func sgemmRowsAVX512(k int, a *float32, lda int, b *float32, bStep int, c *float32, ldc int, alpha, beta float32, load int)

//go:noescape
func dgemmRowsAVX512(k int, a *float64, lda int, b *float64, bStep int, c *float64, ldc int, alpha, beta float64, load int)

//go:noescape
func sgemmAVX2(k int, a *float32, aStep int, b *float32, bStep int, c *float32, ldc int, alpha, beta float32, load int)

//go:noescape
func dgemmAVX2(k int, a *float64, aStep int, b *float64, bStep int, c *float64, ldc int, alpha, beta float64, load int)

var (
	avx512 = Pair{
		F32: &Kernel[float32]{Name: "avx512", MR: 12, NR: 32, fn: sgemmAVX512, rows: sgemmRowsAVX512},
		F64: &Kernel[float64]{Name: "avx512", MR: 12, NR: 16, fn: dgemmAVX512, rows: dgemmRowsAVX512},
	}
	avx2 = Pair{
		F32: &Kernel[float32]{Name: "avx2", MR: 6, NR: 16, fn: sgemmAVX2},
		F64: &Kernel[float64]{Name: "avx2", MR: 6, NR: 8, fn: dgemmAVX2},
	}
)

// Available lists the assembly pairs this processor runs, fastest first.
func Available() []Pair {
	var ps []Pair
	if cpu.AVX512 {
		ps = append(ps, avx512)
	}
	if cpu.FMA {
		ps = append(ps, avx2)
	}
	return ps
}
