//go:build amd64 && !purego

#include "textflag.h"

// func from64SumSquaresAVX2(dst []float32, src []float64, s *[Lanes]float64)
// Sixteen elements per iteration: round each group of four to float32
// (VCVTPD2PS, as float32(v)) and add its squares to the partial sums of
// lanes 0–3, 4–7, 8–11 and 12–15 (one VMULPD, one VADDPD: no FMA), as
// From64SumSquaresGo's s[i%16] += v*v.
TEXT ·from64SumSquaresAVX2(SB), NOSPLIT, $0-56
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ src_base+24(FP), SI
	MOVQ s+48(FP), DX
	VMOVUPD 0(DX), Y8
	VMOVUPD 32(DX), Y9
	VMOVUPD 64(DX), Y10
	VMOVUPD 96(DX), Y11
	XORQ AX, AX

fssLoop:
	CMPQ AX, CX
	JGE  fssDone
	VMOVUPD    (SI)(AX*8), Y0
	VMOVUPD    32(SI)(AX*8), Y1
	VMOVUPD    64(SI)(AX*8), Y2
	VMOVUPD    96(SI)(AX*8), Y3
	VCVTPD2PSY Y0, X4
	VCVTPD2PSY Y1, X5
	VCVTPD2PSY Y2, X6
	VCVTPD2PSY Y3, X7
	VMOVUPS    X4, (DI)(AX*4)
	VMOVUPS    X5, 16(DI)(AX*4)
	VMOVUPS    X6, 32(DI)(AX*4)
	VMOVUPS    X7, 48(DI)(AX*4)
	VMULPD     Y0, Y0, Y0
	VMULPD     Y1, Y1, Y1
	VMULPD     Y2, Y2, Y2
	VMULPD     Y3, Y3, Y3
	VADDPD     Y0, Y8, Y8
	VADDPD     Y1, Y9, Y9
	VADDPD     Y2, Y10, Y10
	VADDPD     Y3, Y11, Y11
	ADDQ       $16, AX
	JMP        fssLoop

fssDone:
	VMOVUPD Y8, 0(DX)
	VMOVUPD Y9, 32(DX)
	VMOVUPD Y10, 64(DX)
	VMOVUPD Y11, 96(DX)
	VZEROUPPER
	RET

// func addTo64ScaledAVX2(dst []float64, a float64, x []float64, g []float32)
// Eight elements per iteration: a·x (VMULPD), plus dst (VADDPD), plus g
// widened exactly (VCVTPS2PD, VADDPD), rounding after each operation as
// AddTo64ScaledGo does (no FMA).
TEXT ·addTo64ScaledAVX2(SB), NOSPLIT, $0-80
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	VBROADCASTSD a+24(FP), Y15
	MOVQ         x_base+32(FP), SI
	MOVQ         g_base+56(FP), DX
	XORQ         AX, AX

atsLoop:
	CMPQ      AX, CX
	JGE       atsDone
	VMULPD    (SI)(AX*8), Y15, Y0
	VMULPD    32(SI)(AX*8), Y15, Y1
	VADDPD    (DI)(AX*8), Y0, Y0
	VADDPD    32(DI)(AX*8), Y1, Y1
	VCVTPS2PD (DX)(AX*4), Y2
	VCVTPS2PD 16(DX)(AX*4), Y3
	VADDPD    Y2, Y0, Y0
	VADDPD    Y3, Y1, Y1
	VMOVUPD   Y0, (DI)(AX*8)
	VMOVUPD   Y1, 32(DI)(AX*8)
	ADDQ      $8, AX
	JMP       atsLoop

atsDone:
	VZEROUPPER
	RET
