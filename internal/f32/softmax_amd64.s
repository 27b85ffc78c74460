//go:build amd64 && !purego

#include "textflag.h"

// EXP8 replaces the eight float32 in Y1 (t) by Exp(t) in Y5, with the
// operations and their order of Exp (constants in geluTab at R10: 480 1,
// 512 ½, 608 −87, 640 log₂e, 672 ln 2, 704… the Taylor coefficients, 832
// the exponent bias; Y12 holds −87); it uses Y2–Y7 and Y13. The polynomial
// runs on max(t, −87) (NaN stays): a t below −87, whose result is masked
// to 0 as Exp returns 0, would otherwise make 2^k a subnormal or garbage
// and the multiplication by it take a slow microcode path.
#define EXP8 \
	VMAXPS  Y1, Y12, Y13     \ // max(−87, t), NaN stays
	VMULPS  640(R10), Y13, Y2 \ // t·log₂e
	VADDPS  512(R10), Y2, Y3 \ // + ½
	VROUNDPS $1, Y3, Y3      \ // k = floor(·)
	VSUBPS  Y3, Y2, Y4       \
	VMULPS  672(R10), Y4, Y4 \ // f = (t·log₂e − k)·ln 2
	VMOVUPS 704(R10), Y5     \ // 1/720
	VMULPS  Y4, Y5, Y5       \
	VADDPS  736(R10), Y5, Y5 \ // 1/120
	VMULPS  Y4, Y5, Y5       \
	VADDPS  768(R10), Y5, Y5 \ // 1/24
	VMULPS  Y4, Y5, Y5       \
	VADDPS  800(R10), Y5, Y5 \ // 1/6
	VMULPS  Y4, Y5, Y5       \
	VADDPS  512(R10), Y5, Y5 \ // ½
	VMULPS  Y4, Y5, Y5       \
	VADDPS  480(R10), Y5, Y5 \ // 1
	VMULPS  Y4, Y5, Y5       \
	VADDPS  480(R10), Y5, Y5 \ // 1
	VCVTTPS2DQ Y3, Y6        \
	VPADDD  832(R10), Y6, Y6 \ // k + 127
	VPSLLD  $23, Y6, Y6      \ // 2^k
	VMULPS  Y6, Y5, Y5       \
	VCMPPS  $1, 608(R10), Y1, Y7 \ // t < −87
	VANDNPS Y5, Y7, Y5           // … gives 0

// func expSumAVX2(x []float32, shift float32, t *table, s *[Lanes]float64)
// The operations and their order are ExpSumGo's: sixteen elements per
// round, the exponentials stored back, then widened and added four at a
// time to the partial sums 0–3, 4–7, 8–11, 12–15, as SumSquares does.
TEXT ·expSumAVX2(SB), NOSPLIT, $0-48
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	VBROADCASTSS shift+24(FP), Y15
	MOVQ t+32(FP), R10
	MOVQ s+40(FP), DI
	VMOVUPS 608(R10), Y12 // −87
	VMOVUPD 0(DI), Y8
	VMOVUPD 32(DI), Y9
	VMOVUPD 64(DI), Y10
	VMOVUPD 96(DI), Y11
	XORQ AX, AX

expLoop:
	CMPQ AX, CX
	JGE  expDone
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  Y15, Y0, Y1 // t = x − shift
	EXP8
	VMOVUPS Y5, (SI)(AX*4)
	VMOVUPS 32(SI)(AX*4), Y0
	VSUBPS  Y15, Y0, Y1
	EXP8
	VMOVUPS Y5, 32(SI)(AX*4)
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VCVTPS2PD 32(SI)(AX*4), Y2
	VCVTPS2PD 48(SI)(AX*4), Y3
	VADDPD  Y0, Y8, Y8
	VADDPD  Y1, Y9, Y9
	VADDPD  Y2, Y10, Y10
	VADDPD  Y3, Y11, Y11
	ADDQ    $16, AX
	JMP     expLoop

expDone:
	VMOVUPD Y8, 0(DI)
	VMOVUPD Y9, 32(DI)
	VMOVUPD Y10, 64(DI)
	VMOVUPD Y11, 96(DI)
	VZEROUPPER
	RET
