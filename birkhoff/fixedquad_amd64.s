//go:build !purego

#include "textflag.h"

// AVX2 kernels of four Fixed projections at n = 4 at once (see fixedquad.go):
// the matrices are a structure of arrays, element e (row-major) of the four
// at byte 32·e, lane l for matrix l, so the sweeps are those of sweeps4Go and
// unroll4Go lane by lane, in the same order (multiplies, adds, subtracts and
// divides only, no FMA): bit for bit the per-matrix results. A matrix's own
// factors (four lanes of one register) are moved to and from the structure
// of arrays with TRANSPOSE4. Arguments are on the stack (ABI0), so X15 is
// scratch.

DATA quadone<>+0(SB)/8, $0x3ff0000000000000
GLOBL quadone<>(SB), RODATA|NOPTR, $8

// TRANSPOSE4 sets o0–o3 to the columns of the 4×4 matrix whose rows are
// i0–i3 (t0–t3 scratch).
#define TRANSPOSE4(i0, i1, i2, i3, t0, t1, t2, t3, o0, o1, o2, o3) \
	VUNPCKLPD  i1, i0, t0; \
	VUNPCKHPD  i1, i0, t1; \
	VUNPCKLPD  i3, i2, t2; \
	VUNPCKHPD  i3, i2, t3; \
	VPERM2F128 $0x20, t2, t0, o0; \
	VPERM2F128 $0x20, t3, t1, o1; \
	VPERM2F128 $0x31, t2, t0, o2; \
	VPERM2F128 $0x31, t3, t1, o3

// COLSUM sets s to ((a_0j + a_1j) + a_2j) + a_3j, column j at byte off.
#define COLSUM(off, s) \
	VMOVUPD off(DI), s; \
	VADDPD  off+128(DI), s, s; \
	VADDPD  off+256(DI), s, s; \
	VADDPD  off+384(DI), s, s

// CROW multiplies the row at byte off by the column factors Y0–Y3 and sets
// r to 1/rowsum of the result.
#define CROW(off, r) \
	VMULPD  off(DI), Y0, Y4; \
	VMULPD  off+32(DI), Y1, Y5; \
	VMULPD  off+64(DI), Y2, Y6; \
	VMULPD  off+96(DI), Y3, Y7; \
	VMOVUPD Y4, off(DI); \
	VMOVUPD Y5, off+32(DI); \
	VMOVUPD Y6, off+64(DI); \
	VMOVUPD Y7, off+96(DI); \
	VADDPD  Y5, Y4, r; \
	VADDPD  Y6, r, r; \
	VADDPD  Y7, r, r; \
	VDIVPD  r, Y15, r

// RROW multiplies the row at byte off by its factor r and adds it into the
// column sums Y4–Y7.
#define RROW(off, r) \
	VMULPD  off(DI), r, Y0; \
	VMULPD  off+32(DI), r, Y1; \
	VMULPD  off+64(DI), r, Y2; \
	VMULPD  off+96(DI), r, Y3; \
	VMOVUPD Y0, off(DI); \
	VMOVUPD Y1, off+32(DI); \
	VMOVUPD Y2, off+64(DI); \
	VMOVUPD Y3, off+96(DI); \
	VADDPD  Y0, Y4, Y4; \
	VADDPD  Y1, Y5, Y5; \
	VADDPD  Y2, Y6, Y6; \
	VADDPD  Y3, Y7, Y7

// func sweepsQuadAVX2(a *[64]float64, f *[4]*float64, t int)
//
// Per sweep: c = 1/colsums, rows ·= c, f[l][0:4] = lane l of c; then
// r = 1/rowsums, row i ·= r_i, f[l][4:8] = lane l of r.
TEXT ·sweepsQuadAVX2(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), DI
	MOVQ f+8(FP), AX
	MOVQ t+16(FP), CX
	MOVQ 0(AX), R8
	MOVQ 8(AX), R9
	MOVQ 16(AX), R10
	MOVQ 24(AX), R11
	VBROADCASTSD quadone<>(SB), Y15
	COLSUM(0, Y0)
	COLSUM(32, Y1)
	COLSUM(64, Y2)
	COLSUM(96, Y3)

sweep:
	VDIVPD Y0, Y15, Y0
	VDIVPD Y1, Y15, Y1
	VDIVPD Y2, Y15, Y2
	VDIVPD Y3, Y15, Y3
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVUPD Y8, 0(R8)
	VMOVUPD Y9, 0(R9)
	VMOVUPD Y10, 0(R10)
	VMOVUPD Y11, 0(R11)
	CROW(0, Y8)
	CROW(128, Y9)
	CROW(256, Y10)
	CROW(384, Y11)
	TRANSPOSE4(Y8, Y9, Y10, Y11, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7)
	VMOVUPD Y4, 32(R8)
	VMOVUPD Y5, 32(R9)
	VMOVUPD Y6, 32(R10)
	VMOVUPD Y7, 32(R11)

	// Row 0 starts the next sweep's column sums in Y4–Y7.
	VMULPD  0(DI), Y8, Y4
	VMULPD  32(DI), Y8, Y5
	VMULPD  64(DI), Y8, Y6
	VMULPD  96(DI), Y8, Y7
	VMOVUPD Y4, 0(DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	RROW(128, Y9)
	RROW(256, Y10)
	RROW(384, Y11)
	VMOVAPD Y4, Y0
	VMOVAPD Y5, Y1
	VMOVAPD Y6, Y2
	VMOVAPD Y7, Y3

	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ CX
	JNZ  sweep

	VZEROUPPER
	RET

// KROW moves row i of the four kernels (byte src of each) to the structure
// of arrays at byte dst of hist.
#define KROW(src, dst) \
	VMOVUPD src(R8), Y0; \
	VMOVUPD src(R9), Y1; \
	VMOVUPD src(R10), Y2; \
	VMOVUPD src(R11), Y3; \
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11); \
	VMOVUPD Y8, dst(DI); \
	VMOVUPD Y9, dst+32(DI); \
	VMOVUPD Y10, dst+64(DI); \
	VMOVUPD Y11, dst+96(DI)

// BROW rebuilds the row at byte off of the next two iterates from that of
// the iterate at SI: times the column factors Y8–Y11, then times r.
#define BROW(off, r) \
	VMULPD  off(SI), Y8, Y0; \
	VMULPD  off+32(SI), Y9, Y1; \
	VMULPD  off+64(SI), Y10, Y2; \
	VMULPD  off+96(SI), Y11, Y3; \
	VMOVUPD Y0, off+512(SI); \
	VMOVUPD Y1, off+544(SI); \
	VMOVUPD Y2, off+576(SI); \
	VMOVUPD Y3, off+608(SI); \
	VMULPD  Y0, r, Y0; \
	VMULPD  Y1, r, Y1; \
	VMULPD  Y2, r, Y2; \
	VMULPD  Y3, r, Y3; \
	VMOVUPD Y0, off+1024(SI); \
	VMOVUPD Y1, off+1056(SI); \
	VMOVUPD Y2, off+1088(SI); \
	VMOVUPD Y3, off+1120(SI)

// GP sets G = g∘P for the elements at byte off and off+32.
#define GP(off) \
	VMOVUPD off(AX), Y0; \
	VMOVUPD off+32(AX), Y1; \
	VMULPD  off(SI), Y0, Y0; \
	VMULPD  off+32(SI), Y1, Y1; \
	VMOVUPD Y0, off(AX); \
	VMOVUPD Y1, off+32(AX)

// RSTEP is the row step on row off of G (in Y0–Y3 after it, stored), M the
// iterate at 512(SI): G_i −= M_i·(0 + Σ_j G_ij).
#define RSTEP(off) \
	VMOVUPD off(AX), Y0; \
	VMOVUPD off+32(AX), Y1; \
	VMOVUPD off+64(AX), Y2; \
	VMOVUPD off+96(AX), Y3; \
	VADDPD  Y0, Y15, Y4; \
	VADDPD  Y1, Y4, Y4; \
	VADDPD  Y2, Y4, Y4; \
	VADDPD  Y3, Y4, Y4; \
	VMULPD  off+512(SI), Y4, Y5; \
	VMULPD  off+544(SI), Y4, Y6; \
	VMULPD  off+576(SI), Y4, Y7; \
	VMULPD  off+608(SI), Y4, Y4; \
	VSUBPD  Y5, Y0, Y0; \
	VSUBPD  Y6, Y1, Y1; \
	VSUBPD  Y7, Y2, Y2; \
	VSUBPD  Y4, Y3, Y3; \
	VMOVUPD Y0, off(AX); \
	VMOVUPD Y1, off+32(AX); \
	VMOVUPD Y2, off+64(AX); \
	VMOVUPD Y3, off+96(AX)

// UACC adds the row in Y0–Y3 into the column sums Y8–Y11.
#define UACC \
	VADDPD Y0, Y8, Y8; \
	VADDPD Y1, Y9, Y9; \
	VADDPD Y2, Y10, Y10; \
	VADDPD Y3, Y11, Y11

// CSTEP is the column step on row off of G, M the iterate at SI:
// G_ij −= M_ij·u_j, u in Y8–Y11.
#define CSTEP(off) \
	VMOVUPD off(AX), Y0; \
	VMOVUPD off+32(AX), Y1; \
	VMOVUPD off+64(AX), Y2; \
	VMOVUPD off+96(AX), Y3; \
	VMULPD  off(SI), Y8, Y4; \
	VMULPD  off+32(SI), Y9, Y5; \
	VMULPD  off+64(SI), Y10, Y6; \
	VMULPD  off+96(SI), Y11, Y7; \
	VSUBPD  Y4, Y0, Y0; \
	VSUBPD  Y5, Y1, Y1; \
	VSUBPD  Y6, Y2, Y2; \
	VSUBPD  Y7, Y3, Y3; \
	VMOVUPD Y0, off(AX); \
	VMOVUPD Y1, off+32(AX); \
	VMOVUPD Y2, off+64(AX); \
	VMOVUPD Y3, off+96(AX)

// func unrollQuadAVX2(grad *[64]float64, k *[4]*float64, hist *float64, t int)
//
// Moves the kernels to iterate 0 at hist and rebuilds iterate s at
// hist + 512·s bytes (s = 1 … 2t) from the factors, then G = g∘P and, for
// s = 2t down to 1, a row step (s even) or a column step (s odd) with
// M = iterate s, as unroll4Go.
TEXT ·unrollQuadAVX2(SB), NOSPLIT, $0-32
	MOVQ grad+0(FP), AX
	MOVQ k+8(FP), BX
	MOVQ hist+16(FP), DI
	MOVQ t+24(FP), CX
	MOVQ 0(BX), R8
	MOVQ 8(BX), R9
	MOVQ 16(BX), R10
	MOVQ 24(BX), R11
	KROW(0, 0)
	KROW(32, 128)
	KROW(64, 256)
	KROW(96, 384)
	ADDQ $128, R8
	ADDQ $128, R9
	ADDQ $128, R10
	ADDQ $128, R11
	MOVQ DI, SI
	MOVQ CX, DX

rebuild:
	VMOVUPD 0(R8), Y0
	VMOVUPD 0(R9), Y1
	VMOVUPD 0(R10), Y2
	VMOVUPD 0(R11), Y3
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)
	VMOVUPD 32(R8), Y0
	VMOVUPD 32(R9), Y1
	VMOVUPD 32(R10), Y2
	VMOVUPD 32(R11), Y3
	TRANSPOSE4(Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y12, Y13, Y14, Y15)
	BROW(0, Y12)
	BROW(128, Y13)
	BROW(256, Y14)
	BROW(384, Y15)
	ADDQ $1024, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	DECQ DX
	JNZ  rebuild

	// G = g∘P, P = iterate 2t at SI.
	GP(0)
	GP(64)
	GP(128)
	GP(192)
	GP(256)
	GP(320)
	GP(384)
	GP(448)
	VXORPD Y15, Y15, Y15
	SUBQ   $512, SI // iterate 2k+1 at SI, iterate 2k+2 at 512(SI)

back:
	RSTEP(0)
	VADDPD Y0, Y15, Y8
	VADDPD Y1, Y15, Y9
	VADDPD Y2, Y15, Y10
	VADDPD Y3, Y15, Y11
	RSTEP(128)
	UACC
	RSTEP(256)
	UACC
	RSTEP(384)
	UACC
	CSTEP(0)
	CSTEP(128)
	CSTEP(256)
	CSTEP(384)
	SUBQ $1024, SI
	DECQ CX
	JNZ  back

	VZEROUPPER
	RET
