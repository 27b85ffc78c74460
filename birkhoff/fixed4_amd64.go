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

// sweepsQuadAVX2 is sweepsQuadGo for t ≥ 1 sweeps on the four matrices of a
// (structure of arrays), writing 8·t factors at f[l] for matrix l.
//
//go:noescape
func sweepsQuadAVX2(a *[64]float64, f *[4]*float64, t int)

// unrollQuadAVX2 is unrollQuadGo for t ≥ 1 sweeps on the four gradients
// of grad (structure of arrays): k[l] points at matrix l's kernel (rec[1], followed
// by its 8·t factors) and hist at 64·(2t+1) values of scratch.
//
//go:noescape
func unrollQuadAVX2(grad *[64]float64, k *[4]*float64, hist *float64, t int)
