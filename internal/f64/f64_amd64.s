//go:build !purego

#include "textflag.h"

// func adamWAVX2(val, grad, m, v []float64, t *[8]float64)
// The operations and their order are AdamWGo's; no fused multiply-adds.
TEXT ·adamWAVX2(SB), NOSPLIT, $0-104
	MOVQ val_base+0(FP), DI
	MOVQ val_len+8(FP), CX
	MOVQ grad_base+24(FP), SI
	MOVQ m_base+48(FP), R8
	MOVQ v_base+72(FP), R9
	MOVQ t+96(FP), R10
	VBROADCASTSD 0(R10), Y8   // β₁
	VBROADCASTSD 8(R10), Y9   // 1−β₁
	VBROADCASTSD 16(R10), Y10 // β₂
	VBROADCASTSD 24(R10), Y11 // 1−β₂
	VBROADCASTSD 32(R10), Y12 // StepSize
	VBROADCASTSD 40(R10), Y13 // InvSqrtBC2
	VBROADCASTSD 48(R10), Y14 // Eps
	VBROADCASTSD 56(R10), Y15 // Decay
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (SI)(AX*8), Y0      // g
	VMULPD  (R8)(AX*8), Y8, Y1  // β₁·m
	VMULPD  Y9, Y0, Y2          // (1−β₁)·g
	VADDPD  Y2, Y1, Y1          // m
	VMOVUPD Y1, (R8)(AX*8)
	VMULPD  Y11, Y0, Y3         // (1−β₂)·g
	VMULPD  Y0, Y3, Y3          // ((1−β₂)·g)·g
	VMULPD  (R9)(AX*8), Y10, Y2 // β₂·v
	VADDPD  Y3, Y2, Y2          // v
	VMOVUPD Y2, (R9)(AX*8)
	VSQRTPD Y2, Y4
	VMULPD  Y13, Y4, Y4         // √v·InvSqrtBC2
	VADDPD  Y14, Y4, Y4         // + Eps
	VMULPD  Y12, Y1, Y5         // StepSize·m
	VDIVPD  Y4, Y5, Y5
	VMULPD  (DI)(AX*8), Y15, Y6 // val·Decay
	VSUBPD  Y5, Y6, Y6
	VMOVUPD Y6, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     loop

done:
	VZEROUPPER
	RET
