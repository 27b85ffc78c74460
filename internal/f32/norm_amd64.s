//go:build amd64 && !purego

#include "textflag.h"

// func mulScaledAVX2(dst, g, x []float32, s float32)
// Eight elements per iteration: (g·x)·s, two roundings as MulScaledGo.
TEXT ·mulScaledAVX2(SB), NOSPLIT, $0-76
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         x_base+48(FP), DX
	VBROADCASTSS s+72(FP), Y15
	XORQ         AX, AX

msLoop:
	CMPQ    AX, CX
	JGE     msDone
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (DX)(AX*4), Y0, Y0 // g·x
	VMULPS  Y15, Y0, Y0        // ·s
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     msLoop

msDone:
	VZEROUPPER
	RET

// func rmsGradAVX2(dg, g, dy, x []float32, inv float32, s *[Lanes]float64)
// Sixteen elements per iteration: t = (g·dy)·x, widened exactly to float64
// and added to the partial sums of lanes 0–3, 4–7, 8–11 and 12–15 (as
// RMSGradGo's s[i%16] += float64(t)); dg += (dy·x)·inv.
TEXT ·rmsGradAVX2(SB), NOSPLIT, $0-112
	MOVQ         dg_base+0(FP), DI
	MOVQ         dg_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         dy_base+48(FP), DX
	MOVQ         x_base+72(FP), R8
	VBROADCASTSS inv+96(FP), Y15
	MOVQ         s+104(FP), R9
	VMOVUPD      0(R9), Y8
	VMOVUPD      32(R9), Y9
	VMOVUPD      64(R9), Y10
	VMOVUPD      96(R9), Y11
	XORQ         AX, AX

rgLoop:
	CMPQ         AX, CX
	JGE          rgDone
	VMOVUPS      (DX)(AX*4), Y2      // dy
	VMOVUPS      32(DX)(AX*4), Y3
	VMOVUPS      (R8)(AX*4), Y4      // x
	VMOVUPS      32(R8)(AX*4), Y5
	VMULPS       (SI)(AX*4), Y2, Y0  // g·dy
	VMULPS       32(SI)(AX*4), Y3, Y1
	VMULPS       Y4, Y0, Y0          // (g·dy)·x
	VMULPS       Y5, Y1, Y1
	VMULPS       Y4, Y2, Y2          // dy·x
	VMULPS       Y5, Y3, Y3
	VMULPS       Y15, Y2, Y2         // (dy·x)·inv
	VMULPS       Y15, Y3, Y3
	VADDPS       (DI)(AX*4), Y2, Y2  // dg + …
	VADDPS       32(DI)(AX*4), Y3, Y3
	VMOVUPS      Y2, (DI)(AX*4)
	VMOVUPS      Y3, 32(DI)(AX*4)
	VCVTPS2PD    X0, Y6              // terms 0–3
	VEXTRACTF128 $1, Y0, X7
	VCVTPS2PD    X7, Y7              // terms 4–7
	VCVTPS2PD    X1, Y12             // terms 8–11
	VEXTRACTF128 $1, Y1, X13
	VCVTPS2PD    X13, Y13            // terms 12–15
	VADDPD       Y6, Y8, Y8
	VADDPD       Y7, Y9, Y9
	VADDPD       Y12, Y10, Y10
	VADDPD       Y13, Y11, Y11
	ADDQ         $16, AX
	JMP          rgLoop

rgDone:
	VMOVUPD Y8, 0(R9)
	VMOVUPD Y9, 32(R9)
	VMOVUPD Y10, 64(R9)
	VMOVUPD Y11, 96(R9)
	VZEROUPPER
	RET

// func rmsInputGradAVX2(dx, g, dy, x []float32, inv, c float32)
// Eight elements per iteration: inv·((g·dy) − (x·c)), rounding after each
// operation as RMSInputGradGo.
TEXT ·rmsInputGradAVX2(SB), NOSPLIT, $0-104
	MOVQ         dx_base+0(FP), DI
	MOVQ         dx_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         dy_base+48(FP), DX
	MOVQ         x_base+72(FP), R8
	VBROADCASTSS inv+96(FP), Y15
	VBROADCASTSS c+100(FP), Y14
	XORQ         AX, AX

igLoop:
	CMPQ    AX, CX
	JGE     igDone
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (DX)(AX*4), Y0, Y0 // g·dy
	VMOVUPS (R8)(AX*4), Y1
	VMULPS  Y14, Y1, Y1        // x·c
	VSUBPS  Y1, Y0, Y0         // g·dy − x·c
	VMULPS  Y15, Y0, Y0        // inv·(…)
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     igLoop

igDone:
	VZEROUPPER
	RET
