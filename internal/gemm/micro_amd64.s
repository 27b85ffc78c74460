//go:build amd64 && !purego

#include "textflag.h"

// The micro-kernels. Each computes one MR×NR tile of C from a packed
// micro-panel of A (k steps of MR values, a column of op(A) each) and one
// of B (k steps of NR values, a row of op(B) each): the tile's MR·NR
// accumulators stay in vector registers for the whole inner sum, one row
// of the tile in two registers, and every step broadcasts the MR values of
// A and multiply-adds them with the two vectors of B (fused, one rounding
// per term). Then each row is written as alpha·acc (load = 0: C is not
// read) or alpha·acc + beta·C (load ≠ 0). k ≥ 1.

// Rows of a 512-bit float32 step: broadcast a[off], multiply-add with Z0, Z1.
#define S512(off, bc, c0, c1) \
	VBROADCASTSS off(SI), bc; \
	VFMADD231PS  Z0, bc, c0; \
	VFMADD231PS  Z1, bc, c1

// A 512-bit tile row, scaled by alpha (Z2), plus beta (Z3) times C.
#define S512BETA(c0, c1) \
	VMULPS      Z2, c0, c0; \
	VFMADD231PS (DX), Z3, c0; \
	VMOVUPS     c0, (DX); \
	VMULPS      Z2, c1, c1; \
	VFMADD231PS 64(DX), Z3, c1; \
	VMOVUPS     c1, 64(DX); \
	ADDQ        R8, DX

// A 512-bit tile row, scaled by alpha (Z2), C not read.
#define S512STORE(c0, c1) \
	VMULPS  Z2, c0, c0; \
	VMOVUPS c0, (DX); \
	VMULPS  Z2, c1, c1; \
	VMOVUPS c1, 64(DX); \
	ADDQ    R8, DX

// func sgemmAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)
// MR = 12, NR = 32.
TEXT ·sgemmAVX512(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	VPXORD Z28, Z28, Z28
	VPXORD Z29, Z29, Z29
	VPXORD Z30, Z30, Z30
	VPXORD Z31, Z31, Z31

sloop512:
	VMOVUPS (DI), Z0
	VMOVUPS 64(DI), Z1
	S512(0, Z2, Z8, Z9)
	S512(4, Z3, Z10, Z11)
	S512(8, Z4, Z12, Z13)
	S512(12, Z5, Z14, Z15)
	S512(16, Z6, Z16, Z17)
	S512(20, Z7, Z18, Z19)
	S512(24, Z2, Z20, Z21)
	S512(28, Z3, Z22, Z23)
	S512(32, Z4, Z24, Z25)
	S512(36, Z5, Z26, Z27)
	S512(40, Z6, Z28, Z29)
	S512(44, Z7, Z30, Z31)
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  sloop512

	VBROADCASTSS alpha+40(FP), Z2
	MOVQ         load+48(FP), AX
	TESTQ        AX, AX
	JZ           sstore512
	VBROADCASTSS beta+44(FP), Z3
	S512BETA(Z8, Z9)
	S512BETA(Z10, Z11)
	S512BETA(Z12, Z13)
	S512BETA(Z14, Z15)
	S512BETA(Z16, Z17)
	S512BETA(Z18, Z19)
	S512BETA(Z20, Z21)
	S512BETA(Z22, Z23)
	S512BETA(Z24, Z25)
	S512BETA(Z26, Z27)
	S512BETA(Z28, Z29)
	S512BETA(Z30, Z31)
	VZEROUPPER
	RET

sstore512:
	S512STORE(Z8, Z9)
	S512STORE(Z10, Z11)
	S512STORE(Z12, Z13)
	S512STORE(Z14, Z15)
	S512STORE(Z16, Z17)
	S512STORE(Z18, Z19)
	S512STORE(Z20, Z21)
	S512STORE(Z22, Z23)
	S512STORE(Z24, Z25)
	S512STORE(Z26, Z27)
	S512STORE(Z28, Z29)
	S512STORE(Z30, Z31)
	VZEROUPPER
	RET

// Rows of a 512-bit float64 step: broadcast a[off], multiply-add with Z0, Z1.
#define D512(off, bc, c0, c1) \
	VBROADCASTSD off(SI), bc; \
	VFMADD231PD  Z0, bc, c0; \
	VFMADD231PD  Z1, bc, c1

#define D512BETA(c0, c1) \
	VMULPD      Z2, c0, c0; \
	VFMADD231PD (DX), Z3, c0; \
	VMOVUPD     c0, (DX); \
	VMULPD      Z2, c1, c1; \
	VFMADD231PD 64(DX), Z3, c1; \
	VMOVUPD     c1, 64(DX); \
	ADDQ        R8, DX

#define D512STORE(c0, c1) \
	VMULPD  Z2, c0, c0; \
	VMOVUPD c0, (DX); \
	VMULPD  Z2, c1, c1; \
	VMOVUPD c1, 64(DX); \
	ADDQ    R8, DX

// func dgemmAVX512(k int, a, b, c *float64, ldc int, alpha, beta float64, load int)
// MR = 12, NR = 16.
TEXT ·dgemmAVX512(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $3, R8
	VPXORQ Z8, Z8, Z8
	VPXORQ Z9, Z9, Z9
	VPXORQ Z10, Z10, Z10
	VPXORQ Z11, Z11, Z11
	VPXORQ Z12, Z12, Z12
	VPXORQ Z13, Z13, Z13
	VPXORQ Z14, Z14, Z14
	VPXORQ Z15, Z15, Z15
	VPXORQ Z16, Z16, Z16
	VPXORQ Z17, Z17, Z17
	VPXORQ Z18, Z18, Z18
	VPXORQ Z19, Z19, Z19
	VPXORQ Z20, Z20, Z20
	VPXORQ Z21, Z21, Z21
	VPXORQ Z22, Z22, Z22
	VPXORQ Z23, Z23, Z23
	VPXORQ Z24, Z24, Z24
	VPXORQ Z25, Z25, Z25
	VPXORQ Z26, Z26, Z26
	VPXORQ Z27, Z27, Z27
	VPXORQ Z28, Z28, Z28
	VPXORQ Z29, Z29, Z29
	VPXORQ Z30, Z30, Z30
	VPXORQ Z31, Z31, Z31

dloop512:
	VMOVUPD (DI), Z0
	VMOVUPD 64(DI), Z1
	D512(0, Z2, Z8, Z9)
	D512(8, Z3, Z10, Z11)
	D512(16, Z4, Z12, Z13)
	D512(24, Z5, Z14, Z15)
	D512(32, Z6, Z16, Z17)
	D512(40, Z7, Z18, Z19)
	D512(48, Z2, Z20, Z21)
	D512(56, Z3, Z22, Z23)
	D512(64, Z4, Z24, Z25)
	D512(72, Z5, Z26, Z27)
	D512(80, Z6, Z28, Z29)
	D512(88, Z7, Z30, Z31)
	ADDQ $96, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  dloop512

	VBROADCASTSD alpha+40(FP), Z2
	MOVQ         load+56(FP), AX
	TESTQ        AX, AX
	JZ           dstore512
	VBROADCASTSD beta+48(FP), Z3
	D512BETA(Z8, Z9)
	D512BETA(Z10, Z11)
	D512BETA(Z12, Z13)
	D512BETA(Z14, Z15)
	D512BETA(Z16, Z17)
	D512BETA(Z18, Z19)
	D512BETA(Z20, Z21)
	D512BETA(Z22, Z23)
	D512BETA(Z24, Z25)
	D512BETA(Z26, Z27)
	D512BETA(Z28, Z29)
	D512BETA(Z30, Z31)
	VZEROUPPER
	RET

dstore512:
	D512STORE(Z8, Z9)
	D512STORE(Z10, Z11)
	D512STORE(Z12, Z13)
	D512STORE(Z14, Z15)
	D512STORE(Z16, Z17)
	D512STORE(Z18, Z19)
	D512STORE(Z20, Z21)
	D512STORE(Z22, Z23)
	D512STORE(Z24, Z25)
	D512STORE(Z26, Z27)
	D512STORE(Z28, Z29)
	D512STORE(Z30, Z31)
	VZEROUPPER
	RET

// Rows of a 256-bit float32 step: broadcast a[off], multiply-add with Y0, Y1.
#define S256(off, bc, c0, c1) \
	VBROADCASTSS off(SI), bc; \
	VFMADD231PS  Y0, bc, c0; \
	VFMADD231PS  Y1, bc, c1

// A 256-bit tile row, scaled by alpha (Y0), plus beta (Y1) times C.
#define S256BETA(c0, c1) \
	VMULPS      Y0, c0, c0; \
	VFMADD231PS (DX), Y1, c0; \
	VMOVUPS     c0, (DX); \
	VMULPS      Y0, c1, c1; \
	VFMADD231PS 32(DX), Y1, c1; \
	VMOVUPS     c1, 32(DX); \
	ADDQ        R8, DX

#define S256STORE(c0, c1) \
	VMULPS  Y0, c0, c0; \
	VMOVUPS c0, (DX); \
	VMULPS  Y0, c1, c1; \
	VMOVUPS c1, 32(DX); \
	ADDQ    R8, DX

// func sgemmAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32, load int)
// MR = 6, NR = 16.
TEXT ·sgemmAVX2(SB), NOSPLIT, $0-56
	MOVQ  k+0(FP), CX
	MOVQ  a+8(FP), SI
	MOVQ  b+16(FP), DI
	MOVQ  c+24(FP), DX
	MOVQ  ldc+32(FP), R8
	SHLQ  $2, R8
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15

sloop256:
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	S256(0, Y2, Y4, Y5)
	S256(4, Y3, Y6, Y7)
	S256(8, Y2, Y8, Y9)
	S256(12, Y3, Y10, Y11)
	S256(16, Y2, Y12, Y13)
	S256(20, Y3, Y14, Y15)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  sloop256

	VBROADCASTSS alpha+40(FP), Y0
	MOVQ         load+48(FP), AX
	TESTQ        AX, AX
	JZ           sstore256
	VBROADCASTSS beta+44(FP), Y1
	S256BETA(Y4, Y5)
	S256BETA(Y6, Y7)
	S256BETA(Y8, Y9)
	S256BETA(Y10, Y11)
	S256BETA(Y12, Y13)
	S256BETA(Y14, Y15)
	VZEROUPPER
	RET

sstore256:
	S256STORE(Y4, Y5)
	S256STORE(Y6, Y7)
	S256STORE(Y8, Y9)
	S256STORE(Y10, Y11)
	S256STORE(Y12, Y13)
	S256STORE(Y14, Y15)
	VZEROUPPER
	RET

// Rows of a 256-bit float64 step: broadcast a[off], multiply-add with Y0, Y1.
#define D256(off, bc, c0, c1) \
	VBROADCASTSD off(SI), bc; \
	VFMADD231PD  Y0, bc, c0; \
	VFMADD231PD  Y1, bc, c1

#define D256BETA(c0, c1) \
	VMULPD      Y0, c0, c0; \
	VFMADD231PD (DX), Y1, c0; \
	VMOVUPD     c0, (DX); \
	VMULPD      Y0, c1, c1; \
	VFMADD231PD 32(DX), Y1, c1; \
	VMOVUPD     c1, 32(DX); \
	ADDQ        R8, DX

#define D256STORE(c0, c1) \
	VMULPD  Y0, c0, c0; \
	VMOVUPD c0, (DX); \
	VMULPD  Y0, c1, c1; \
	VMOVUPD c1, 32(DX); \
	ADDQ    R8, DX

// func dgemmAVX2(k int, a, b, c *float64, ldc int, alpha, beta float64, load int)
// MR = 6, NR = 8.
TEXT ·dgemmAVX2(SB), NOSPLIT, $0-64
	MOVQ  k+0(FP), CX
	MOVQ  a+8(FP), SI
	MOVQ  b+16(FP), DI
	MOVQ  c+24(FP), DX
	MOVQ  ldc+32(FP), R8
	SHLQ  $3, R8
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15

dloop256:
	VMOVUPD (DI), Y0
	VMOVUPD 32(DI), Y1
	D256(0, Y2, Y4, Y5)
	D256(8, Y3, Y6, Y7)
	D256(16, Y2, Y8, Y9)
	D256(24, Y3, Y10, Y11)
	D256(32, Y2, Y12, Y13)
	D256(40, Y3, Y14, Y15)
	ADDQ $48, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  dloop256

	VBROADCASTSD alpha+40(FP), Y0
	MOVQ         load+56(FP), AX
	TESTQ        AX, AX
	JZ           dstore256
	VBROADCASTSD beta+48(FP), Y1
	D256BETA(Y4, Y5)
	D256BETA(Y6, Y7)
	D256BETA(Y8, Y9)
	D256BETA(Y10, Y11)
	D256BETA(Y12, Y13)
	D256BETA(Y14, Y15)
	VZEROUPPER
	RET

dstore256:
	D256STORE(Y4, Y5)
	D256STORE(Y6, Y7)
	D256STORE(Y8, Y9)
	D256STORE(Y10, Y11)
	D256STORE(Y12, Y13)
	D256STORE(Y14, Y15)
	VZEROUPPER
	RET
