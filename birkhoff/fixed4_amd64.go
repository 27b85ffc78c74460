//go:build !purego

package birkhoff

import "github.com/hyperconn/hyperconn/internal/cpu"

// useAVX2 reports whether the kernels of fixed4_amd64.s may run (they need
// AVX2 for VPERMPD; no FMA). Tests clear it to run the pure-Go twins.
var useAVX2 = cpu.AVX2

// sweeps4AVX2 is sweeps4Go for t ≥ 1 sweeps on the 4×4 row-major a, writing
// 8·t factors at f.
//
//go:noescape
func sweeps4AVX2(a *[16]float64, f *float64, t int)

// unroll4AVX2 is unroll4Go for t ≥ 1 sweeps: k points at the kernel (rec[1],
// followed by the 8·t factors) and hist at 16 + 32·t values of scratch.
//
//go:noescape
func unroll4AVX2(grad *[16]float64, k, hist *float64, t int)
