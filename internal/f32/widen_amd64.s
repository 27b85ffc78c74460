//go:build amd64 && !purego

#include "textflag.h"

// func addTo64AVX2(dst []float64, x []float32)
// Eight elements per iteration: widen x (exact), then one VADDPD, as
// AddTo64Go's dst[i] += float64(x[i]).
TEXT ·addTo64AVX2(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	XORQ AX, AX

addTo64Loop:
	CMPQ AX, CX
	JGE  addTo64Done
	VCVTPS2PD (SI)(AX*4), Y0
	VCVTPS2PD 16(SI)(AX*4), Y1
	VADDPD    (DI)(AX*8), Y0, Y0
	VADDPD    32(DI)(AX*8), Y1, Y1
	VMOVUPD   Y0, (DI)(AX*8)
	VMOVUPD   Y1, 32(DI)(AX*8)
	ADDQ      $8, AX
	JMP       addTo64Loop

addTo64Done:
	VZEROUPPER
	RET
