//go:build amd64 && !purego

#include "textflag.h"

// func adamWAVX2(val, grad, m, v []float32, t *[9][8]float32)
// The operations and their order are AdamWGo's; no fused multiply-adds.
TEXT ·adamWAVX2(SB), NOSPLIT, $0-104
	MOVQ val_base+0(FP), DI
	MOVQ val_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ t+96(FP), R10
	VMOVUPS 0(R10), Y8   // Scale
	VMOVUPS 32(R10), Y9  // β₁
	VMOVUPS 64(R10), Y10 // 1−β₁
	VMOVUPS 96(R10), Y11 // β₂
	VMOVUPS 128(R10), Y12 // 1−β₂
	VMOVUPS 160(R10), Y13 // StepSize
	VMOVUPS 192(R10), Y14 // InvSqrtBC2
	VMOVUPS 224(R10), Y15 // Eps
	XORQ AX, AX

adamLoop:
	CMPQ AX, CX
	JGE  adamDone
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  Y8, Y0, Y0         // g = grad·Scale
	VMULPS  (R8)(AX*4), Y9, Y1 // β₁·m
	VMULPS  Y10, Y0, Y2        // (1−β₁)·g
	VADDPS  Y2, Y1, Y1         // m
	VMOVUPS Y1, (R8)(AX*4)
	VMULPS  Y0, Y0, Y3         // g·g
	VMULPS  Y12, Y3, Y3        // (1−β₂)·(g·g)
	VMULPS  (R9)(AX*4), Y11, Y2 // β₂·v
	VADDPS  Y3, Y2, Y2         // v
	VMOVUPS Y2, (R9)(AX*4)
	VSQRTPS Y2, Y4
	VMULPS  Y14, Y4, Y4        // √v·InvSqrtBC2
	VADDPS  Y15, Y4, Y4        // + Eps
	VMULPS  Y13, Y1, Y5        // StepSize·m
	VDIVPS  Y4, Y5, Y5         // (StepSize·m) / den
	VMOVUPS (DI)(AX*4), Y6
	VMULPS  256(R10), Y6, Y6   // val·Decay
	VSUBPS  Y5, Y6, Y6
	VMOVUPS Y6, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     adamLoop

adamDone:
	VZEROUPPER
	RET

// func geluAVX2(a, cdf, x []float32, t *table)
// The operations and their order are GELUGo's (rows of t: see geluTab).
TEXT ·geluAVX2(SB), NOSPLIT, $0-80
	MOVQ a_base+0(FP), DI
	MOVQ a_len+8(FP), CX
	MOVQ cdf_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	MOVQ t+72(FP), R10
	XORQ AX, AX

geluLoop:
	CMPQ AX, CX
	JGE  geluDone
	VMOVUPS (DX)(AX*4), Y0
	VMULPS  0(R10), Y0, Y1  // u = x/√2
	VMOVUPS 32(R10), Y2
	VMAXPS  Y1, Y2, Y1      // max(−4, u), NaN stays
	VMOVUPS 64(R10), Y2
	VMINPS  Y1, Y2, Y1      // min(4, ·), NaN stays
	VMULPS  Y1, Y1, Y3      // u²
	VMOVUPS 96(R10), Y4     // P
	VMULPS  Y3, Y4, Y4
	VADDPS  128(R10), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  160(R10), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  192(R10), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  224(R10), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  256(R10), Y4, Y4
	VMULPS  Y3, Y4, Y4
	VADDPS  288(R10), Y4, Y4
	VMOVUPS 320(R10), Y5    // Q
	VMULPS  Y3, Y5, Y5
	VADDPS  352(R10), Y5, Y5
	VMULPS  Y3, Y5, Y5
	VADDPS  384(R10), Y5, Y5
	VMULPS  Y3, Y5, Y5
	VADDPS  416(R10), Y5, Y5
	VMULPS  Y3, Y5, Y5
	VADDPS  448(R10), Y5, Y5
	VMULPS  Y4, Y1, Y6      // u·P
	VDIVPS  Y5, Y6, Y6      // erf = u·P / Q
	VADDPS  480(R10), Y6, Y6 // 1 + erf
	VMULPS  512(R10), Y6, Y6 // ½(1 + erf)
	VMOVUPS Y6, (SI)(AX*4)
	VMULPS  Y6, Y0, Y7      // x·Φ
	VMOVUPS Y7, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     geluLoop

geluDone:
	VZEROUPPER
	RET

// func geluBackAVX2(dx, dy, x, cdf []float32, t *table)
// The operations and their order are GELUBackwardGo's and Exp's.
TEXT ·geluBackAVX2(SB), NOSPLIT, $0-104
	MOVQ dx_base+0(FP), DI
	MOVQ dx_len+8(FP), CX
	MOVQ dy_base+24(FP), SI
	MOVQ x_base+48(FP), DX
	MOVQ cdf_base+72(FP), R8
	MOVQ t+96(FP), R10
	XORQ AX, AX

backLoop:
	CMPQ AX, CX
	JGE  backDone
	VMOVUPS (DX)(AX*4), Y0
	VMULPS  544(R10), Y0, Y1 // −½·x
	VMULPS  Y0, Y1, Y1       // t = (−½x)·x
	VMULPS  640(R10), Y1, Y2 // t·log₂e
	VADDPS  512(R10), Y2, Y3 // + ½
	VROUNDPS $1, Y3, Y3      // k = floor(·)
	VSUBPS  Y3, Y2, Y4
	VMULPS  672(R10), Y4, Y4 // f = (t·log₂e − k)·ln 2
	VMOVUPS 704(R10), Y5     // 1/720
	VMULPS  Y4, Y5, Y5
	VADDPS  736(R10), Y5, Y5 // 1/120
	VMULPS  Y4, Y5, Y5
	VADDPS  768(R10), Y5, Y5 // 1/24
	VMULPS  Y4, Y5, Y5
	VADDPS  800(R10), Y5, Y5 // 1/6
	VMULPS  Y4, Y5, Y5
	VADDPS  512(R10), Y5, Y5 // ½
	VMULPS  Y4, Y5, Y5
	VADDPS  480(R10), Y5, Y5 // 1
	VMULPS  Y4, Y5, Y5
	VADDPS  480(R10), Y5, Y5 // 1
	VCVTTPS2DQ Y3, Y6
	VPADDD  832(R10), Y6, Y6 // k + 127
	VPSLLD  $23, Y6, Y6      // 2^k
	VMULPS  Y6, Y5, Y5
	VCMPPS  $1, 608(R10), Y1, Y7 // t < −87
	VANDNPS Y5, Y7, Y5       // … gives 0
	VMULPS  576(R10), Y0, Y8 // x/√(2π)
	VMULPS  Y5, Y8, Y8       // φ·x
	VADDPS  (R8)(AX*4), Y8, Y8 // Φ + x·φ
	VMULPS  (SI)(AX*4), Y8, Y8 // dy·(…)
	VMOVUPS Y8, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     backLoop

backDone:
	VZEROUPPER
	RET

// func sumSquaresAVX2(x []float32, s *[Lanes]float64)
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-32
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ s+24(FP), DI
	VMOVUPD 0(DI), Y8
	VMOVUPD 32(DI), Y9
	VMOVUPD 64(DI), Y10
	VMOVUPD 96(DI), Y11
	XORQ AX, AX

ssLoop:
	CMPQ AX, CX
	JGE  ssDone
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VCVTPS2PD 32(SI)(AX*4), Y2
	VCVTPS2PD 48(SI)(AX*4), Y3
	VMULPD  Y0, Y0, Y0
	VMULPD  Y1, Y1, Y1
	VMULPD  Y2, Y2, Y2
	VMULPD  Y3, Y3, Y3
	VADDPD  Y0, Y8, Y8
	VADDPD  Y1, Y9, Y9
	VADDPD  Y2, Y10, Y10
	VADDPD  Y3, Y11, Y11
	ADDQ    $16, AX
	JMP     ssLoop

ssDone:
	VMOVUPD Y8, 0(DI)
	VMOVUPD Y9, 32(DI)
	VMOVUPD Y10, 64(DI)
	VMOVUPD Y11, 96(DI)
	VZEROUPPER
	RET

// func addAVX2(dst, x []float32)
TEXT ·addAVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	XORQ AX, AX

addLoop:
	CMPQ AX, CX
	JGE  addDone
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     addLoop

addDone:
	VZEROUPPER
	RET

// func from64AVX2(dst []float32, src []float64)
TEXT ·from64AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX

fromLoop:
	CMPQ AX, CX
	JGE  fromDone
	VCVTPD2PSY (SI)(AX*8), X0
	VCVTPD2PSY 32(SI)(AX*8), X1
	VMOVUPS X0, (DI)(AX*4)
	VMOVUPS X1, 16(DI)(AX*4)
	ADDQ    $8, AX
	JMP     fromLoop

fromDone:
	VZEROUPPER
	RET

// func to64AVX2(dst []float64, src []float32)
TEXT ·to64AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	XORQ AX, AX

toLoop:
	CMPQ AX, CX
	JGE  toDone
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VMOVUPD Y0, (DI)(AX*8)
	VMOVUPD Y1, 32(DI)(AX*8)
	ADDQ    $8, AX
	JMP     toLoop

toDone:
	VZEROUPPER
	RET
