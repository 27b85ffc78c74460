//go:build !purego

#include "textflag.h"

// AVX2 kernels of the Fixed projection at n = 4 (see fixed4.go): the 4×4
// matrix lives in Y0–Y3, row i in Yi. They use multiplies, adds, subtracts
// and divides only, no FMA, and keep the order of every sum of the pure-Go
// twins, so they equal them bit for bit:
//   - column sums are ((row0 + row1) + row2) + row3, lane j for column j;
//   - row sums transpose the matrix into Y9–Y12 (column j in Y9+j), then add
//     ((col0 + col1) + col2) + col3, lane i for row i; a row's factor is
//     broadcast to all lanes with VPERMPD before it multiplies the row.
// Arguments are passed on the stack (ABI0), where X15, Go's zero register in
// ABIInternal, is scratch: the transition back to Go code re-zeroes it.

DATA one<>+0(SB)/8, $0x3ff0000000000000
GLOBL one<>(SB), RODATA|NOPTR, $8

// TRANSPOSE sets Y9–Y12 to the columns of the matrix in Y0–Y3 (Y5–Y8
// scratch).
#define TRANSPOSE \
	VUNPCKLPD  Y1, Y0, Y5; \
	VUNPCKHPD  Y1, Y0, Y6; \
	VUNPCKLPD  Y3, Y2, Y7; \
	VUNPCKHPD  Y3, Y2, Y8; \
	VPERM2F128 $0x20, Y7, Y5, Y9; \
	VPERM2F128 $0x20, Y8, Y6, Y10; \
	VPERM2F128 $0x31, Y7, Y5, Y11; \
	VPERM2F128 $0x31, Y8, Y6, Y12

// BROADCAST sets Y5–Y8 to lanes 0–3 of Y4, each in all four lanes.
#define BROADCAST \
	VPERMPD $0x00, Y4, Y5; \
	VPERMPD $0x55, Y4, Y6; \
	VPERMPD $0xAA, Y4, Y7; \
	VPERMPD $0xFF, Y4, Y8

// func sweeps4AVX2(a *[16]float64, f *float64, t int)
//
// Per sweep: c = 1/colsums, rows ·= c, f[0:4] = c; then r = 1/rowsums,
// row i ·= r[i], f[4:8] = r.
TEXT ·sweeps4AVX2(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), DI
	MOVQ f+8(FP), SI
	MOVQ t+16(FP), CX
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	VBROADCASTSD one<>(SB), Y15

sweep:
	VADDPD  Y1, Y0, Y4
	VADDPD  Y2, Y4, Y4
	VADDPD  Y3, Y4, Y4
	VDIVPD  Y4, Y15, Y4
	VMOVUPD Y4, 0(SI)
	VMULPD  Y4, Y0, Y0
	VMULPD  Y4, Y1, Y1
	VMULPD  Y4, Y2, Y2
	VMULPD  Y4, Y3, Y3

	TRANSPOSE
	VADDPD  Y10, Y9, Y4
	VADDPD  Y11, Y4, Y4
	VADDPD  Y12, Y4, Y4
	VDIVPD  Y4, Y15, Y4
	VMOVUPD Y4, 32(SI)
	BROADCAST
	VMULPD  Y5, Y0, Y0
	VMULPD  Y6, Y1, Y1
	VMULPD  Y7, Y2, Y2
	VMULPD  Y8, Y3, Y3

	ADDQ $64, SI
	DECQ CX
	JNZ  sweep

	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

// func unroll4AVX2(grad *[16]float64, k, hist *float64, t int)
//
// Rebuilds iterate s at hist + 128·s bytes (s = 1 … 2t) from the kernel at
// k and the factors after it, then G = g∘P and, for s = 2t down to 1, a row
// step (s even) G_i −= M_i·(0 + Σ_j G_ij) or a column step (s odd)
// G_ij −= M_ij·(0 + Σ_i G_ij), M = iterate s.
TEXT ·unroll4AVX2(SB), NOSPLIT, $0-32
	MOVQ grad+0(FP), AX
	MOVQ k+8(FP), BX
	MOVQ hist+16(FP), DI
	MOVQ t+24(FP), CX
	VMOVUPD 0(BX), Y0
	VMOVUPD 32(BX), Y1
	VMOVUPD 64(BX), Y2
	VMOVUPD 96(BX), Y3
	LEAQ    128(BX), SI
	LEAQ    128(DI), R8
	MOVQ    CX, DX

rebuild:
	VMOVUPD      0(SI), Y4
	VMULPD       Y4, Y0, Y0
	VMULPD       Y4, Y1, Y1
	VMULPD       Y4, Y2, Y2
	VMULPD       Y4, Y3, Y3
	VMOVUPD      Y0, 0(R8)
	VMOVUPD      Y1, 32(R8)
	VMOVUPD      Y2, 64(R8)
	VMOVUPD      Y3, 96(R8)
	VBROADCASTSD 32(SI), Y5
	VBROADCASTSD 40(SI), Y6
	VBROADCASTSD 48(SI), Y7
	VBROADCASTSD 56(SI), Y8
	VMULPD       Y5, Y0, Y0
	VMULPD       Y6, Y1, Y1
	VMULPD       Y7, Y2, Y2
	VMULPD       Y8, Y3, Y3
	VMOVUPD      Y0, 128(R8)
	VMOVUPD      Y1, 160(R8)
	VMOVUPD      Y2, 192(R8)
	VMOVUPD      Y3, 224(R8)
	ADDQ         $64, SI
	ADDQ         $256, R8
	DECQ         DX
	JNZ          rebuild

	// G = g∘P, P = iterate 2t (in Y0–Y3).
	VMULPD 0(AX), Y0, Y0
	VMULPD 32(AX), Y1, Y1
	VMULPD 64(AX), Y2, Y2
	VMULPD 96(AX), Y3, Y3
	VXORPD Y14, Y14, Y14

back:
	SUBQ $256, R8 // iterate 2k+1 at R8, iterate 2k+2 at 128(R8)

	// Row step, M = iterate 2k+2.
	TRANSPOSE
	VADDPD Y9, Y14, Y4
	VADDPD Y10, Y4, Y4
	VADDPD Y11, Y4, Y4
	VADDPD Y12, Y4, Y4
	BROADCAST
	VMULPD 128(R8), Y5, Y5
	VMULPD 160(R8), Y6, Y6
	VMULPD 192(R8), Y7, Y7
	VMULPD 224(R8), Y8, Y8
	VSUBPD Y5, Y0, Y0
	VSUBPD Y6, Y1, Y1
	VSUBPD Y7, Y2, Y2
	VSUBPD Y8, Y3, Y3

	// Column step, M = iterate 2k+1.
	VADDPD Y0, Y14, Y4
	VADDPD Y1, Y4, Y4
	VADDPD Y2, Y4, Y4
	VADDPD Y3, Y4, Y4
	VMULPD 0(R8), Y4, Y5
	VMULPD 32(R8), Y4, Y6
	VMULPD 64(R8), Y4, Y7
	VMULPD 96(R8), Y4, Y8
	VSUBPD Y5, Y0, Y0
	VSUBPD Y6, Y1, Y1
	VSUBPD Y7, Y2, Y2
	VSUBPD Y8, Y3, Y3

	DECQ CX
	JNZ  back

	VMOVUPD Y0, 0(AX)
	VMOVUPD Y1, 32(AX)
	VMOVUPD Y2, 64(AX)
	VMOVUPD Y3, 96(AX)
	VZEROUPPER
	RET
