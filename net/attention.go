package net

import (
	"math"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// Float is the element type of the layers written once for both
// precisions.
type Float interface{ float32 | float64 }

// Attention is the core of causal multi-head self-attention over batches
// of sequences: for every sequence b and head h, with the head's queries,
// keys and values Q, K, V (T×D each),
//
//	S = Q·Kᵀ/√D,  P = softmax of each row of S over the columns j ≤ i,
//	O = P·V,
//
// so token i attends to tokens 0..i of its own sequence only. The heads'
// outputs sit side by side: O of head h fills columns h·D…(h+1)·D−1 of the
// output's rows.
//
// # Storage
//
// A batch of B sequences of T tokens is B·T rows, sequence b in rows
// b·T…(b+1)·T−1. The input qkv is B·T rows of 3·C values, C = Heads·D:
// [q | k | v], each C wide, head h at offset h·D inside each (the layout of
// one Linear C→3C). The output is B·T rows of C values.
//
// Every product is one GEMM over a whole (sequence, head) pair, with the
// heads read in place through leading dimensions (no copies, no per-token
// loops); the pairs run in parallel on gemm's helper goroutines (gemm.Parts),
// each pair's work serial, so results do not depend on the thread count.
// Forward keeps the probabilities P (B·Heads·T·T values) for Backward.
type Attention[F Float] struct {
	Heads, Dim, Seq int

	p  []F // B·Heads blocks of T×T probabilities, row-major; upper triangle 0
	dp []F // Backward's scratch, the same shape

	// the current call, read by Part
	backward      bool
	qkv, out, dy  []F
	dqkv          []F
	batch, stride int
}

// NewAttention returns the core of causal self-attention with the given
// number of heads of width dim over sequences of seq tokens. It panics
// with ErrShape if any is below 1.
func NewAttention[F Float](heads, dim, seq int) *Attention[F] {
	if heads < 1 || dim < 1 || seq < 1 {
		panic(ErrShape)
	}
	return &Attention[F]{Heads: heads, Dim: dim, Seq: seq}
}

// Width is C = Heads·Dim, the width of the output rows.
func (a *Attention[F]) Width() int { return a.Heads * a.Dim }

// grow makes room for batch sequences' probabilities (no allocation once a
// batch of that size has been seen).
func (a *Attention[F]) grow(batch int) {
	k := batch * a.Heads * a.Seq * a.Seq
	if cap(a.p) < k {
		a.p = make([]F, k)
		a.dp = make([]F, k)
	}
	a.p, a.dp = a.p[:k], a.dp[:k]
}

// check panics with ErrShape unless x holds batch·Seq rows of width w.
func (a *Attention[F]) check(x []F, batch, w int) {
	if batch < 0 || len(x) != batch*a.Seq*w {
		panic(ErrShape)
	}
}

// Forward writes the attention output of batch sequences into dst (B·T×C)
// from qkv (B·T×3C) and keeps the probabilities for Backward. Lengths that
// do not match panic with ErrShape; dst must not overlap qkv. Cost:
// ≈ 4·B·T²·C flops (half of them on the masked upper triangle).
func (a *Attention[F]) Forward(dst, qkv []F, batch int) {
	c := a.Width()
	a.check(qkv, batch, 3*c)
	a.check(dst, batch, c)
	a.grow(batch)
	a.backward, a.qkv, a.out, a.batch = false, qkv, dst, batch
	gemm.Parts(batch*a.Heads, a)
	a.qkv, a.out = nil, nil
}

// Backward takes the forward input qkv again and the gradient dy of the
// loss with respect to the output (B·T×C), and overwrites dqkv (B·T×3C)
// with the gradient with respect to qkv. It reads the probabilities of the
// last Forward, which must have been called with the same qkv and batch.
// Lengths that do not match panic with ErrShape; dqkv must not overlap dy
// or qkv. Cost: ≈ 8·B·T²·C flops.
func (a *Attention[F]) Backward(dqkv, dy, qkv []F, batch int) {
	c := a.Width()
	a.check(qkv, batch, 3*c)
	a.check(dqkv, batch, 3*c)
	a.check(dy, batch, c)
	if len(a.p) != batch*a.Heads*a.Seq*a.Seq {
		panic(ErrSequence)
	}
	a.backward, a.qkv, a.dy, a.dqkv, a.batch = true, qkv, dy, dqkv, batch
	gemm.Parts(batch*a.Heads, a)
	a.qkv, a.dy, a.dqkv = nil, nil, nil
}

// Part runs the forward or backward pass of one (sequence, head) pair;
// gemm.Parts calls it. It is not for other callers.
func (a *Attention[F]) Part(part int) {
	b, h := part/a.Heads, part%a.Heads
	t, d, c := a.Seq, a.Dim, a.Width()
	ld := 3 * c
	base := b * t * ld
	q := a.qkv[base+h*d:]
	k := a.qkv[base+c+h*d:]
	v := a.qkv[base+2*c+h*d:]
	p := a.p[part*t*t : (part+1)*t*t]
	scale := 1 / math.Sqrt(float64(d))
	if !a.backward {
		o := a.out[b*t*c+h*d:]
		mul(blas.NoTrans, blas.Trans, t, t, d, F(scale), q, ld, k, ld, 0, p, t)
		causalSoftmax(p, t)
		mul(blas.NoTrans, blas.NoTrans, t, d, t, 1, p, t, v, ld, 0, o, c)
		return
	}
	dout := a.dy[b*t*c+h*d:]
	dq := a.dqkv[base+h*d:]
	dk := a.dqkv[base+c+h*d:]
	dv := a.dqkv[base+2*c+h*d:]
	ds := a.dp[part*t*t : (part+1)*t*t]
	// dV = Pᵀ·dO, dP = dO·Vᵀ.
	mul(blas.Trans, blas.NoTrans, t, d, t, 1, p, t, dout, c, 0, dv, ld)
	mul(blas.NoTrans, blas.Trans, t, t, d, 1, dout, c, v, ld, 0, ds, t)
	// dS_ij = P_ij·(dP_ij − Σ_k P_ik·dP_ik), on and below the diagonal.
	for i := range t {
		pr, dr := p[i*t:i*t+i+1], ds[i*t:i*t+t]
		softmaxBackRow(pr, dr[:len(pr)])
		clear(dr[i+1:])
	}
	// dQ = dS·K/√D, dK = dSᵀ·Q/√D.
	mul(blas.NoTrans, blas.NoTrans, t, d, t, F(scale), ds, t, k, ld, 0, dq, ld)
	mul(blas.Trans, blas.NoTrans, t, d, t, F(scale), ds, t, q, ld, 0, dk, ld)
}

// causalSoftmax replaces each row i of the t×t row-major s by the softmax
// of its entries 0..i (max-shifted, sums in float64) and zeros the rest.
// In float32 the exponentials are f32.ExpSum's (Exp's polynomial, relative
// error below 1e-5, eight at a time with AVX2) and the row is scaled by
// the float32 reciprocal of the sum; in float64 they are math.Exp's.
func causalSoftmax[F Float](s []F, t int) {
	if s32, ok := any(s).([]float32); ok {
		causalSoftmax32(s32, t)
		return
	}
	for i := range t {
		row := s[i*t : i*t+i+1]
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, float64(v))
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v) - mx)
			row[j] = F(e)
			sum += e
		}
		inv := 1 / sum
		for j, v := range row {
			row[j] = F(float64(v) * inv)
		}
		clear(s[i*t+i+1 : (i+1)*t])
	}
}

// softmaxBackRow overwrites d with p ⊙ (d − ⟨p, d⟩), the gradient of one
// softmax row p given the gradient d of its outputs (same length). The dot
// product is accumulated in float64; in float32 in four partial sums, so
// that the additions do not wait on each other.
func softmaxBackRow[F Float](p, d []F) {
	if p32, ok := any(p).([]float32); ok {
		d32 := any(d).([]float32)[:len(p32)]
		var s [4]float64
		j := 0
		for ; j+4 <= len(p32); j += 4 {
			s[0] += float64(p32[j]) * float64(d32[j])
			s[1] += float64(p32[j+1]) * float64(d32[j+1])
			s[2] += float64(p32[j+2]) * float64(d32[j+2])
			s[3] += float64(p32[j+3]) * float64(d32[j+3])
		}
		for ; j < len(p32); j++ {
			s[0] += float64(p32[j]) * float64(d32[j])
		}
		dot := (s[0] + s[1]) + (s[2] + s[3])
		for j, pv := range p32 {
			d32[j] = float32(float64(pv) * (float64(d32[j]) - dot))
		}
		return
	}
	var dot float64
	for j, pv := range p {
		dot += float64(pv) * float64(d[j])
	}
	for j, pv := range p {
		d[j] = F(float64(pv) * (float64(d[j]) - dot))
	}
}

// causalSoftmax32 is causalSoftmax in float32. A first pass over the rows
// takes each row's maximum and sets its masked entries up to a multiple of
// f32.Lanes to −∞, whose exponential is 0, so that ExpSum's vector loop
// covers the whole row; the second pass exponentiates, scales and clears.
// (Two passes, so that ExpSum's vector loads do not wait on the element
// stores of the padding.)
func causalSoftmax32(s []float32, t int) {
	negInf := float32(math.Inf(-1))
	var mxs [256]float32 // the rows' maxima, for t ≤ 256
	var mxRow []float32
	if t <= len(mxs) {
		mxRow = mxs[:t]
	} else {
		mxRow = make([]float32, t)
	}
	for i := range t {
		row := s[i*t : i*t+i+1]
		mx := row[0]
		for _, v := range row[1:] {
			if v > mx { // (the builtin max is several times slower) a NaN
				mx = v // is skipped here but makes its row NaN in ExpSum
			}
		}
		mxRow[i] = mx
		pad := s[i*t : i*t+min(t, (i+f32.Lanes)&^(f32.Lanes-1))]
		for j := i + 1; j < len(pad); j++ {
			pad[j] = negInf
		}
	}
	for i := range t {
		pad := s[i*t : i*t+min(t, (i+f32.Lanes)&^(f32.Lanes-1))]
		inv := float32(1 / f32.ExpSum(pad, mxRow[i]))
		row := s[i*t : i*t+i+1]
		for j := range row {
			row[j] *= inv
		}
		clear(s[i*t+i+1 : (i+1)*t])
	}
}

// mul is gemm.Mul or gemm.Mul32, by element type.
func mul[F Float](tA, tB blas.Transpose, m, n, k int, alpha F, a []F, lda int, b []F, ldb int, beta F, c []F, ldc int) {
	switch a := any(a).(type) {
	case []float64:
		gemm.Mul(tA, tB, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	case []float32:
		gemm.Mul32(tA, tB, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	}
}
