//go:build !purego

#include "textflag.h"

// AVX kernels of rows.go: multiplies and adds only, no FMA, in the orders
// that rows.go documents and its pure-Go twins follow. Offsets into rows
// are in bytes (AX); arguments come on the stack (ABI0).

// DOTSTEP adds the products of the x block in Y7 with the block of row R
// at offset AX into the accumulator A, through the scratch T.
#define DOTSTEP(R, A, T) \
	VMULPD (R)(AX*1), Y7, T; \
	VADDPD T, A, A

// DOTTAIL is DOTSTEP for one column in the low lanes.
#define DOTTAIL(R, A, T) \
	VMULSD (R)(AX*1), X7, T; \
	VADDSD T, A, A

// HSUM leaves (a_0+a_2) + (a_1+a_3) of the lanes of Y in the low lane of
// X, through the scratch T.
#define HSUM(Y, X, T) \
	VEXTRACTF128 $1, Y, T; \
	VADDPD       T, X, X;  \
	VHADDPD      X, X, X

// func dots7AVX(d *[7]float64, x *float64, y *[7]*float64, c int)
//
// Lane l of Y0…Y6 sums the columns k ≡ l (mod 4) of x·y[i]; the lanes are
// combined, then the last c mod 4 columns are added one by one.
TEXT ·dots7AVX(SB), NOSPLIT, $0-32
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ c+24(FP), CX
	MOVQ 0(DI), BX
	MOVQ 8(DI), R8
	MOVQ 16(DI), R9
	MOVQ 24(DI), R10
	MOVQ 32(DI), R11
	MOVQ 40(DI), R12
	MOVQ 48(DI), R13
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	MOVQ   CX, DX
	ANDQ   $-4, DX
	SHLQ   $3, DX      // bytes of the whole blocks of 4
	SHLQ   $3, CX      // bytes of the row
	XORQ   AX, AX

dotsLoop:
	CMPQ    AX, DX
	JGE     dotsReduce
	VMOVUPD (SI)(AX*1), Y7
	DOTSTEP(BX, Y0, Y8)
	DOTSTEP(R8, Y1, Y9)
	DOTSTEP(R9, Y2, Y10)
	DOTSTEP(R10, Y3, Y11)
	DOTSTEP(R11, Y4, Y12)
	DOTSTEP(R12, Y5, Y13)
	DOTSTEP(R13, Y6, Y14)
	ADDQ    $32, AX
	JMP     dotsLoop

dotsReduce:
	HSUM(Y0, X0, X8)
	HSUM(Y1, X1, X9)
	HSUM(Y2, X2, X10)
	HSUM(Y3, X3, X11)
	HSUM(Y4, X4, X12)
	HSUM(Y5, X5, X13)
	HSUM(Y6, X6, X14)

dotsTail:
	CMPQ   AX, CX
	JGE    dotsDone
	VMOVSD (SI)(AX*1), X7
	DOTTAIL(BX, X0, X8)
	DOTTAIL(R8, X1, X9)
	DOTTAIL(R9, X2, X10)
	DOTTAIL(R10, X3, X11)
	DOTTAIL(R11, X4, X12)
	DOTTAIL(R12, X5, X13)
	DOTTAIL(R13, X6, X14)
	ADDQ   $8, AX
	JMP    dotsTail

dotsDone:
	MOVQ   d+0(FP), DI
	VMOVSD X0, 0(DI)
	VMOVSD X1, 8(DI)
	VMOVSD X2, 16(DI)
	VMOVSD X3, 24(DI)
	VMOVSD X4, 32(DI)
	VMOVSD X5, 40(DI)
	VMOVSD X6, 48(DI)
	VZEROUPPER
	RET

// COMBSTEP adds a_i·w_i to the accumulator A for the block of w_i at
// offset O of R12, a_i broadcast in Y8, through the scratch T.
#define COMBSTEP(O, A, T) \
	VMULPD O(R12), Y8, T; \
	VADDPD T, A, A

// COMBX adds b·x (b in Y15) to the accumulator A for the block of x at
// offset O of SI+AX, through the scratch T.
#define COMBX(O, A, T) \
	VMULPD O(SI)(AX*1), Y15, T; \
	VADDPD T, A, A

// func addCombAVX(dst *float64, b float64, x, a *float64, as int, w *float64, m, c int)
//
// Per block of 32 columns (then 4, then 1): dst in registers, plus b·x
// unless x is nil, plus a[i·as]·w_i for i = 0 … m−1, then stored.
TEXT ·addCombAVX(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	VBROADCASTSD b+8(FP), Y15
	MOVQ         x+16(FP), SI
	MOVQ         a+24(FP), BX
	MOVQ         as+32(FP), CX
	SHLQ         $3, CX         // byte stride of a
	MOVQ         w+40(FP), R8
	MOVQ         m+48(FP), R9
	IMULQ        CX, R9
	ADDQ         BX, R9         // end of a
	MOVQ         c+56(FP), R10
	MOVQ         R10, DX
	ANDQ         $-32, DX
	SHLQ         $3, DX         // bytes of the blocks of 32
	MOVQ         R10, R11
	ANDQ         $-4, R11
	SHLQ         $3, R11        // bytes of the blocks of 4
	SHLQ         $3, R10        // bytes of a row: the stride of w
	XORQ         AX, AX

comb32:
	CMPQ    AX, DX
	JGE     comb4
	VMOVUPD (DI)(AX*1), Y0
	VMOVUPD 32(DI)(AX*1), Y1
	VMOVUPD 64(DI)(AX*1), Y2
	VMOVUPD 96(DI)(AX*1), Y3
	VMOVUPD 128(DI)(AX*1), Y4
	VMOVUPD 160(DI)(AX*1), Y5
	VMOVUPD 192(DI)(AX*1), Y6
	VMOVUPD 224(DI)(AX*1), Y7
	TESTQ   SI, SI
	JEQ     comb32Rows
	COMBX(0, Y0, Y9)
	COMBX(32, Y1, Y10)
	COMBX(64, Y2, Y11)
	COMBX(96, Y3, Y12)
	COMBX(128, Y4, Y13)
	COMBX(160, Y5, Y14)
	COMBX(192, Y6, Y9)
	COMBX(224, Y7, Y10)

comb32Rows:
	MOVQ BX, R13
	LEAQ (R8)(AX*1), R12

comb32Row:
	CMPQ         R13, R9
	JGE          comb32Store
	VBROADCASTSD (R13), Y8
	COMBSTEP(0, Y0, Y9)
	COMBSTEP(32, Y1, Y10)
	COMBSTEP(64, Y2, Y11)
	COMBSTEP(96, Y3, Y12)
	COMBSTEP(128, Y4, Y13)
	COMBSTEP(160, Y5, Y14)
	COMBSTEP(192, Y6, Y9)
	COMBSTEP(224, Y7, Y10)
	ADDQ         R10, R12
	ADDQ         CX, R13
	JMP          comb32Row

comb32Store:
	VMOVUPD Y0, (DI)(AX*1)
	VMOVUPD Y1, 32(DI)(AX*1)
	VMOVUPD Y2, 64(DI)(AX*1)
	VMOVUPD Y3, 96(DI)(AX*1)
	VMOVUPD Y4, 128(DI)(AX*1)
	VMOVUPD Y5, 160(DI)(AX*1)
	VMOVUPD Y6, 192(DI)(AX*1)
	VMOVUPD Y7, 224(DI)(AX*1)
	ADDQ    $256, AX
	JMP     comb32

comb4:
	CMPQ    AX, R11
	JGE     comb1
	VMOVUPD (DI)(AX*1), Y0
	TESTQ   SI, SI
	JEQ     comb4Rows
	COMBX(0, Y0, Y9)

comb4Rows:
	MOVQ BX, R13
	LEAQ (R8)(AX*1), R12

comb4Row:
	CMPQ         R13, R9
	JGE          comb4Store
	VBROADCASTSD (R13), Y8
	COMBSTEP(0, Y0, Y9)
	ADDQ         R10, R12
	ADDQ         CX, R13
	JMP          comb4Row

comb4Store:
	VMOVUPD Y0, (DI)(AX*1)
	ADDQ    $32, AX
	JMP     comb4

comb1:
	CMPQ   AX, R10
	JGE    combDone
	VMOVSD (DI)(AX*1), X0
	TESTQ  SI, SI
	JEQ    comb1Rows
	VMULSD (SI)(AX*1), X15, X9
	VADDSD X9, X0, X0

comb1Rows:
	MOVQ BX, R13
	LEAQ (R8)(AX*1), R12

comb1Row:
	CMPQ   R13, R9
	JGE    comb1Store
	VMOVSD (R13), X8
	VMULSD (R12), X8, X9
	VADDSD X9, X0, X0
	ADDQ   R10, R12
	ADDQ   CX, R13
	JMP    comb1Row

comb1Store:
	VMOVSD X0, (DI)(AX*1)
	ADDQ   $8, AX
	JMP    comb1

combDone:
	VZEROUPPER
	RET

// FINSTEP adds 0·V to the accumulator A.
#define FINSTEP(V, A) \
	VMULPD Y15, V, V; \
	VADDPD V, A, A

// func finiteAVX(dst, s *float64, n int) float64
//
// 16 values at a time: four running sums of v·0, one per register.
TEXT ·finiteAVX(SB), NOSPLIT, $0-32
	MOVQ   dst+0(FP), DI
	MOVQ   s+8(FP), SI
	MOVQ   n+16(FP), CX
	SHLQ   $3, CX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y15, Y15, Y15
	XORQ   AX, AX
	TESTQ  DI, DI
	JEQ    finCheck

finCopy:
	CMPQ    AX, CX
	JGE     finDone
	VMOVUPD (SI)(AX*1), Y4
	VMOVUPD 32(SI)(AX*1), Y5
	VMOVUPD 64(SI)(AX*1), Y6
	VMOVUPD 96(SI)(AX*1), Y7
	VMOVUPD Y4, (DI)(AX*1)
	VMOVUPD Y5, 32(DI)(AX*1)
	VMOVUPD Y6, 64(DI)(AX*1)
	VMOVUPD Y7, 96(DI)(AX*1)
	FINSTEP(Y4, Y0)
	FINSTEP(Y5, Y1)
	FINSTEP(Y6, Y2)
	FINSTEP(Y7, Y3)
	ADDQ    $128, AX
	JMP     finCopy

finCheck:
	CMPQ    AX, CX
	JGE     finDone
	VMOVUPD (SI)(AX*1), Y4
	VMOVUPD 32(SI)(AX*1), Y5
	VMOVUPD 64(SI)(AX*1), Y6
	VMOVUPD 96(SI)(AX*1), Y7
	FINSTEP(Y4, Y0)
	FINSTEP(Y5, Y1)
	FINSTEP(Y6, Y2)
	FINSTEP(Y7, Y3)
	ADDQ    $128, AX
	JMP     finCheck

finDone:
	VADDPD       Y1, Y0, Y0
	VADDPD       Y3, Y2, Y2
	VADDPD       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPD       X1, X0, X0
	VHADDPD      X0, X0, X0
	VMOVSD       X0, ret+24(FP)
	VZEROUPPER
	RET
