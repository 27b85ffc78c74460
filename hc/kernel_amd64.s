//go:build !purego

#include "textflag.h"

// AVX kernels of the per-token mixing (see kernel.go): the four functions
// for n = 4, and combAVX, the combinations of any number of rows. They use
// multiplies and adds only, no FMA, and keep the order of every sum of the
// plain loops, so they equal them bit for bit:
//   - combinations (a·v + b·w + …) run over 4 columns at a time, one column
//     per lane, adding one product at a time in the loops' order;
//   - dot products run over one row per lane: a 4×4 block of the four rows
//     is transposed so that lane i accumulates row i's products column
//     after column, the plain dot loop's order.
// Columns left over from the blocks of 4 take the same steps with scalars.
//
// Register conventions in the n = 4 kernels: DX is the byte stride of a
// row (8·C), R12 is 3·DX, so the rows of a 4×C block at SI are (SI),
// (SI)(DX*1), (SI)(DX*2) and (SI)(R12*1). CX counts the columns left.
// Arguments are passed on the stack (ABI0), where X15, Go's zero register
// in ABIInternal, is scratch: the transition back to Go code re-zeroes it.

// func read4AVX(dst, pre, x *float64, c int)
//
// dst = ((pre[0]·x_0 + pre[1]·x_1) + pre[2]·x_2) + pre[3]·x_3.
TEXT ·read4AVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ pre+8(FP), BX
	MOVQ x+16(FP), SI
	MOVQ c+24(FP), CX
	MOVQ CX, DX
	SHLQ $3, DX
	LEAQ (DX)(DX*2), R12
	VBROADCASTSD 0(BX), Y0
	VBROADCASTSD 8(BX), Y1
	VBROADCASTSD 16(BX), Y2
	VBROADCASTSD 24(BX), Y3

read4Loop:
	CMPQ CX, $4
	JLT  read4Tail
	VMULPD  (SI), Y0, Y4
	VMULPD  (SI)(DX*1), Y1, Y5
	VADDPD  Y5, Y4, Y4
	VMULPD  (SI)(DX*2), Y2, Y5
	VADDPD  Y5, Y4, Y4
	VMULPD  (SI)(R12*1), Y3, Y5
	VADDPD  Y5, Y4, Y4
	VMOVUPD Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JMP     read4Loop

read4Tail:
	TESTQ CX, CX
	JEQ   read4Done
	VMULSD (SI), X0, X4
	VMULSD (SI)(DX*1), X1, X5
	VADDSD X5, X4, X4
	VMULSD (SI)(DX*2), X2, X5
	VADDSD X5, X4, X4
	VMULSD (SI)(R12*1), X3, X5
	VADDSD X5, X4, X4
	VMOVSD X4, (DI)
	ADDQ   $8, SI
	ADDQ   $8, DI
	DECQ   CX
	JMP    read4Tail

read4Done:
	VZEROUPPER
	RET

// WROW computes one output row of write4AVX in register R:
// post·f + r0·x0 + r1·x1 + r2·x2 + r3·x3, the coefficients at byte offsets
// P of BX and O0…O3 of R8. F, A0…A3 hold the operands; T, U are scratch.
// LD, MUL and ADD are the packed instructions (VBROADCASTSD, VMULPD,
// VADDPD on Y registers) or the scalar ones (VMOVSD, VMULSD, VADDSD on X).
#define WROW(LD, MUL, ADD, P, O0, O1, O2, O3, F, A0, A1, A2, A3, R, T, U) \
	LD  P(BX), T;  \
	MUL F, T, R;   \
	LD  O0(R8), T; \
	MUL A0, T, U;  \
	ADD U, R, R;   \
	LD  O1(R8), T; \
	MUL A1, T, U;  \
	ADD U, R, R;   \
	LD  O2(R8), T; \
	MUL A2, T, U;  \
	ADD U, R, R;   \
	LD  O3(R8), T; \
	MUL A3, T, U;  \
	ADD U, R, R

// func write4AVX(dst, post, res, x, f *float64, c int)
//
// Row i of dst = post[i]·f + Σ_j res[4i+j]·x_j, j in order.
TEXT ·write4AVX(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ post+8(FP), BX
	MOVQ res+16(FP), R8
	MOVQ x+24(FP), SI
	MOVQ f+32(FP), R9
	MOVQ c+40(FP), CX
	MOVQ CX, DX
	SHLQ $3, DX
	LEAQ (DX)(DX*2), R12

write4Loop:
	CMPQ    CX, $4
	JLT     write4Tail
	VMOVUPD (R9), Y0
	VMOVUPD (SI), Y1
	VMOVUPD (SI)(DX*1), Y2
	VMOVUPD (SI)(DX*2), Y3
	VMOVUPD (SI)(R12*1), Y4
	WROW(VBROADCASTSD, VMULPD, VADDPD, 0, 0, 8, 16, 24, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	VMOVUPD Y5, (DI)
	WROW(VBROADCASTSD, VMULPD, VADDPD, 8, 32, 40, 48, 56, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	VMOVUPD Y5, (DI)(DX*1)
	WROW(VBROADCASTSD, VMULPD, VADDPD, 16, 64, 72, 80, 88, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	VMOVUPD Y5, (DI)(DX*2)
	WROW(VBROADCASTSD, VMULPD, VADDPD, 24, 96, 104, 112, 120, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	VMOVUPD Y5, (DI)(R12*1)
	ADDQ    $32, R9
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JMP     write4Loop

write4Tail:
	TESTQ  CX, CX
	JEQ    write4Done
	VMOVSD (R9), X0
	VMOVSD (SI), X1
	VMOVSD (SI)(DX*1), X2
	VMOVSD (SI)(DX*2), X3
	VMOVSD (SI)(R12*1), X4
	WROW(VMOVSD, VMULSD, VADDSD, 0, 0, 8, 16, 24, X0, X1, X2, X3, X4, X5, X6, X7)
	VMOVSD X5, (DI)
	WROW(VMOVSD, VMULSD, VADDSD, 8, 32, 40, 48, 56, X0, X1, X2, X3, X4, X5, X6, X7)
	VMOVSD X5, (DI)(DX*1)
	WROW(VMOVSD, VMULSD, VADDSD, 16, 64, 72, 80, 88, X0, X1, X2, X3, X4, X5, X6, X7)
	VMOVSD X5, (DI)(DX*2)
	WROW(VMOVSD, VMULSD, VADDSD, 24, 96, 104, 112, 120, X0, X1, X2, X3, X4, X5, X6, X7)
	VMOVSD X5, (DI)(R12*1)
	ADDQ   $8, R9
	ADDQ   $8, SI
	ADDQ   $8, DI
	DECQ   CX
	JMP    write4Tail

write4Done:
	VZEROUPPER
	RET

// BCOL computes in R one combination of the rows G0…G3 with the
// coefficients at byte offsets O0…O3 of base B: ((o0·g0 + o1·g1) + o2·g2)
// + o3·g3. T, U are scratch; LD, MUL, ADD as for WROW.
#define BCOL(LD, MUL, ADD, B, O0, O1, O2, O3, G0, G1, G2, G3, R, T, U) \
	LD  O0(B), T; \
	MUL G0, T, R; \
	LD  O1(B), T; \
	MUL G1, T, U; \
	ADD U, R, R;  \
	LD  O2(B), T; \
	MUL G2, T, U; \
	ADD U, R, R;  \
	LD  O3(B), T; \
	MUL G3, T, U; \
	ADD U, R, R

// DOTSTEP adds G·v[k] to accumulator A for lane-per-row block G and the
// scalar at address V: A += G·broadcast(V). T, U are scratch.
#define DOTSTEP(V, G, A, T, U) \
	VBROADCASTSD V, T;    \
	VMULPD       G, T, U; \
	VADDPD       U, A, A

// DOTCOL adds column G (one entry per row of dout) times f[k] and x_j[k] to
// the accumulators Y0 (dpost) and Y1…Y4 (dres column j), where R9 points at
// f[k] and SI at x_0[k] plus the byte offset OFF.
#define DOTCOL(OFF, G) \
	DOTSTEP(OFF(R9), G, Y0, Y5, Y6);       \
	DOTSTEP(OFF(SI), G, Y1, Y5, Y6);       \
	DOTSTEP(OFF(SI)(DX*1), G, Y2, Y5, Y6); \
	DOTSTEP(OFF(SI)(DX*2), G, Y3, Y5, Y6); \
	DOTSTEP(OFF(SI)(R12*1), G, Y4, Y5, Y6)

// TRANS2 loads columns k+OFF/8 and k+OFF/8+1 of the four rows at B as two
// lane-per-row vectors G0 and G1, using T, U (X forms TX, UX) as scratch.
#define TRANS2(B, OFF, G0, G1, TX, T, UX, U) \
	VMOVUPD     OFF(B), TX;              \
	VINSERTF128 $1, OFF(B)(DX*2), T, T;  \
	VMOVUPD     OFF(B)(DX*1), UX;        \
	VINSERTF128 $1, OFF(B)(R12*1), U, U; \
	VUNPCKLPD   U, T, G0;                \
	VUNPCKHPD   U, T, G1

// GATHER1 loads column k of the four rows at B as one lane-per-row vector G
// (X form GX), using the X register T as scratch.
#define GATHER1(B, GX, G, T) \
	VMOVSD      (B), GX;            \
	VMOVHPD     (B)(DX*1), GX, GX;  \
	VMOVSD      (B)(DX*2), T;       \
	VMOVHPD     (B)(R12*1), T, T;   \
	VINSERTF128 $1, T, G, G

// func writeBack4AVX(dx, df, dpost, dres, post, res, x, f, dout *float64, c int)
//
// dx_j = Σ_i res[4i+j]·dout_i and df = Σ_i post[i]·dout_i (i in order),
// dpost[i] = dout_i·f and dres[4i+j] = dout_i·x_j (columns in order).
TEXT ·writeBack4AVX(SB), NOSPLIT, $0-80
	MOVQ c+72(FP), CX
	MOVQ CX, DX
	SHLQ $3, DX
	LEAQ (DX)(DX*2), R12

	// dx and df: combinations of the rows of dout.
	MOVQ dx+0(FP), DI
	MOVQ df+8(FP), R11
	MOVQ post+32(FP), BX
	MOVQ res+40(FP), R8
	MOVQ dout+64(FP), SI

wb4CombLoop:
	CMPQ    CX, $4
	JLT     wb4CombTail
	VMOVUPD (SI), Y0
	VMOVUPD (SI)(DX*1), Y1
	VMOVUPD (SI)(DX*2), Y2
	VMOVUPD (SI)(R12*1), Y3
	BCOL(VBROADCASTSD, VMULPD, VADDPD, R8, 0, 32, 64, 96, Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	VMOVUPD Y4, (DI)
	BCOL(VBROADCASTSD, VMULPD, VADDPD, R8, 8, 40, 72, 104, Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	VMOVUPD Y4, (DI)(DX*1)
	BCOL(VBROADCASTSD, VMULPD, VADDPD, R8, 16, 48, 80, 112, Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	VMOVUPD Y4, (DI)(DX*2)
	BCOL(VBROADCASTSD, VMULPD, VADDPD, R8, 24, 56, 88, 120, Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	VMOVUPD Y4, (DI)(R12*1)
	BCOL(VBROADCASTSD, VMULPD, VADDPD, BX, 0, 8, 16, 24, Y0, Y1, Y2, Y3, Y4, Y5, Y6)
	VMOVUPD Y4, (R11)
	ADDQ    $32, SI
	ADDQ    $32, DI
	ADDQ    $32, R11
	SUBQ    $4, CX
	JMP     wb4CombLoop

wb4CombTail:
	TESTQ  CX, CX
	JEQ    wb4Dots
	VMOVSD (SI), X0
	VMOVSD (SI)(DX*1), X1
	VMOVSD (SI)(DX*2), X2
	VMOVSD (SI)(R12*1), X3
	BCOL(VMOVSD, VMULSD, VADDSD, R8, 0, 32, 64, 96, X0, X1, X2, X3, X4, X5, X6)
	VMOVSD X4, (DI)
	BCOL(VMOVSD, VMULSD, VADDSD, R8, 8, 40, 72, 104, X0, X1, X2, X3, X4, X5, X6)
	VMOVSD X4, (DI)(DX*1)
	BCOL(VMOVSD, VMULSD, VADDSD, R8, 16, 48, 80, 112, X0, X1, X2, X3, X4, X5, X6)
	VMOVSD X4, (DI)(DX*2)
	BCOL(VMOVSD, VMULSD, VADDSD, R8, 24, 56, 88, 120, X0, X1, X2, X3, X4, X5, X6)
	VMOVSD X4, (DI)(R12*1)
	BCOL(VMOVSD, VMULSD, VADDSD, BX, 0, 8, 16, 24, X0, X1, X2, X3, X4, X5, X6)
	VMOVSD X4, (R11)
	ADDQ   $8, SI
	ADDQ   $8, DI
	ADDQ   $8, R11
	DECQ   CX
	JMP    wb4CombTail

	// dpost and dres: lane i accumulates the dot products of dout_i.
wb4Dots:
	MOVQ   c+72(FP), CX
	MOVQ   dout+64(FP), R10
	MOVQ   x+48(FP), SI
	MOVQ   f+56(FP), R9
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4

wb4DotLoop:
	CMPQ CX, $4
	JLT  wb4DotTail
	TRANS2(R10, 0, Y7, Y8, X11, Y11, X12, Y12)
	TRANS2(R10, 16, Y9, Y10, X11, Y11, X12, Y12)
	DOTCOL(0, Y7)
	DOTCOL(8, Y8)
	DOTCOL(16, Y9)
	DOTCOL(24, Y10)
	ADDQ $32, R10
	ADDQ $32, SI
	ADDQ $32, R9
	SUBQ $4, CX
	JMP  wb4DotLoop

wb4DotTail:
	TESTQ CX, CX
	JEQ   wb4Store
	GATHER1(R10, X7, Y7, X11)
	DOTCOL(0, Y7)
	ADDQ  $8, R10
	ADDQ  $8, SI
	ADDQ  $8, R9
	DECQ  CX
	JMP   wb4DotTail

wb4Store:
	MOVQ    dpost+16(FP), DI
	VMOVUPD Y0, (DI)
	// Y1…Y4 hold the columns of dres (lane i = row i): transpose to rows.
	MOVQ       dres+24(FP), DI
	VUNPCKLPD  Y2, Y1, Y5
	VUNPCKHPD  Y2, Y1, Y6
	VUNPCKLPD  Y4, Y3, Y7
	VUNPCKHPD  Y4, Y3, Y8
	VPERM2F128 $0x20, Y7, Y5, Y9
	VPERM2F128 $0x20, Y8, Y6, Y10
	VPERM2F128 $0x31, Y7, Y5, Y11
	VPERM2F128 $0x31, Y8, Y6, Y12
	VMOVUPD    Y9, 0(DI)
	VMOVUPD    Y10, 32(DI)
	VMOVUPD    Y11, 64(DI)
	VMOVUPD    Y12, 96(DI)
	VZEROUPPER
	RET

// func readBack4AVX(dx, dpre, pre, x, din *float64, c int)
//
// dpre[i] = din·x_i (columns in order) and dx_i += pre[i]·din.
TEXT ·readBack4AVX(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ pre+16(FP), BX
	MOVQ x+24(FP), SI
	MOVQ din+32(FP), R9
	MOVQ c+40(FP), CX
	MOVQ CX, DX
	SHLQ $3, DX
	LEAQ (DX)(DX*2), R12
	VBROADCASTSD 0(BX), Y12
	VBROADCASTSD 8(BX), Y13
	VBROADCASTSD 16(BX), Y14
	VBROADCASTSD 24(BX), Y15
	VXORPD       Y0, Y0, Y0

rb4Loop:
	CMPQ    CX, $4
	JLT     rb4Tail
	VMOVUPD (R9), Y1
	VMULPD  Y1, Y12, Y2
	VADDPD  (DI), Y2, Y2
	VMOVUPD Y2, (DI)
	VMULPD  Y1, Y13, Y2
	VADDPD  (DI)(DX*1), Y2, Y2
	VMOVUPD Y2, (DI)(DX*1)
	VMULPD  Y1, Y14, Y2
	VADDPD  (DI)(DX*2), Y2, Y2
	VMOVUPD Y2, (DI)(DX*2)
	VMULPD  Y1, Y15, Y2
	VADDPD  (DI)(R12*1), Y2, Y2
	VMOVUPD Y2, (DI)(R12*1)
	TRANS2(SI, 0, Y6, Y7, X4, Y4, X5, Y5)
	TRANS2(SI, 16, Y8, Y9, X4, Y4, X5, Y5)
	DOTSTEP(0(R9), Y6, Y0, Y3, Y2)
	DOTSTEP(8(R9), Y7, Y0, Y3, Y2)
	DOTSTEP(16(R9), Y8, Y0, Y3, Y2)
	DOTSTEP(24(R9), Y9, Y0, Y3, Y2)
	ADDQ    $32, R9
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $4, CX
	JMP     rb4Loop

rb4Tail:
	TESTQ  CX, CX
	JEQ    rb4Done
	VMOVSD (R9), X1
	VMULSD X1, X12, X2
	VADDSD (DI), X2, X2
	VMOVSD X2, (DI)
	VMULSD X1, X13, X2
	VADDSD (DI)(DX*1), X2, X2
	VMOVSD X2, (DI)(DX*1)
	VMULSD X1, X14, X2
	VADDSD (DI)(DX*2), X2, X2
	VMOVSD X2, (DI)(DX*2)
	VMULSD X1, X15, X2
	VADDSD (DI)(R12*1), X2, X2
	VMOVSD X2, (DI)(R12*1)
	GATHER1(SI, X6, Y6, X4)
	DOTSTEP(0(R9), Y6, Y0, Y3, Y2)
	ADDQ   $8, R9
	ADDQ   $8, SI
	ADDQ   $8, DI
	DECQ   CX
	JMP    rb4Tail

rb4Done:
	MOVQ    dpre+8(FP), DI
	VMOVUPD Y0, (DI)
	VZEROUPPER
	RET

// func combAVX(dst *float64, c int, a0 float64, v0, a *float64, astride int, x *float64, m int)
//
// dst = a0·v0 + Σ_{t<m} a[t·astride]·x_t, x_t the rows of x (length c), the
// products added one at a time in order of t. A nil v0 drops the first
// term: dst starts from a[0]·x_0. m ≥ 1.
//
// Y15 holds the first coefficient and R10 walks the first vector; SI walks
// the first row still to add, BX points at its coefficient and R13 counts
// those rows; R11 and R12 walk the rows and coefficients of one block.
TEXT ·combAVX(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         c+8(FP), CX
	VBROADCASTSD a0+16(FP), Y15
	MOVQ         v0+24(FP), R10
	MOVQ         a+32(FP), BX
	MOVQ         astride+40(FP), R9
	SHLQ         $3, R9
	MOVQ         x+48(FP), SI
	MOVQ         m+56(FP), R13
	MOVQ         CX, DX
	SHLQ         $3, DX
	TESTQ        R10, R10
	JNE          combLoop
	VBROADCASTSD (BX), Y15
	MOVQ         SI, R10
	DECQ         R13
	ADDQ         DX, SI
	ADDQ         R9, BX

combLoop:
	CMPQ   CX, $4
	JLT    combTail
	VMULPD (R10), Y15, Y0
	MOVQ   R13, AX
	MOVQ   SI, R11
	MOVQ   BX, R12
	TESTQ  AX, AX
	JEQ    combStore

combTerm:
	VBROADCASTSD (R12), Y1
	VMULPD       (R11), Y1, Y2
	VADDPD       Y2, Y0, Y0
	ADDQ         DX, R11
	ADDQ         R9, R12
	DECQ         AX
	JNE          combTerm

combStore:
	VMOVUPD Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, R10
	ADDQ    $32, SI
	SUBQ    $4, CX
	JMP     combLoop

combTail:
	TESTQ  CX, CX
	JEQ    combDone
	VMULSD (R10), X15, X0
	MOVQ   R13, AX
	MOVQ   SI, R11
	MOVQ   BX, R12
	TESTQ  AX, AX
	JEQ    combTailStore

combTailTerm:
	VMOVSD (R12), X1
	VMULSD (R11), X1, X2
	VADDSD X2, X0, X0
	ADDQ   DX, R11
	ADDQ   R9, R12
	DECQ   AX
	JNE    combTailTerm

combTailStore:
	VMOVSD X0, (DI)
	ADDQ   $8, DI
	ADDQ   $8, R10
	ADDQ   $8, SI
	DECQ   CX
	JMP    combTail

combDone:
	VZEROUPPER
	RET
