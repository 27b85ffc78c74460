package spectral

import (
	"fmt"
	"math"
)

// checkDims panics with ErrShape unless rows, cols ≥ 1 and l == rows·cols.
func checkDims(l, rows, cols int) {
	if rows < 1 || cols < 1 || l != rows*cols {
		panic(ErrShape)
	}
}

// Norm is the largest singular value of the rows×cols row-major m.
//
// It is exact to a few units of roundoff: the closed form at 2×2, the
// Euclidean norm for a single row or column, and one-sided Jacobi above,
// computed in float64 whatever F is. It does not allocate when
// rows·cols ≤ 256. Note that gonum's mat.Norm(A, 2) is the Frobenius norm,
// not this one.
//
// Special cases are
//
//	Norm(m) = NaN   if any element of m is NaN
//	Norm(m) = +Inf  if any element of m is ±Inf and none is NaN
//	Norm(m) = +Inf  if m is finite but σ₁ exceeds math.MaxFloat64
//
// Norm panics with ErrShape if rows < 1, cols < 1 or len(m) != rows·cols.
func Norm[F Float](m []F, rows, cols int) float64 {
	checkDims(len(m), rows, cols)
	_, nan, inf := scan(m)
	switch {
	case nan:
		return math.NaN()
	case inf:
		return math.Inf(1)
	}
	var buf [16]float64
	var sv []float64
	if k := min(rows, cols); k <= len(buf) {
		sv = buf[:k]
	} else {
		sv = make([]float64, k)
	}
	singular(sv, m, rows, cols)
	return sv[0]
}

// Values writes the min(rows, cols) singular values of the rows×cols
// row-major m into dst in descending order and returns dst. If dst is nil a
// new slice is allocated; otherwise it must have length min(rows, cols). If m
// holds a NaN or an infinity every value is NaN.
//
// Values panics with ErrShape if the dimensions do not match.
func Values[F Float](dst []float64, m []F, rows, cols int) []float64 {
	checkDims(len(m), rows, cols)
	dst = use(dst, min(rows, cols))
	if _, nan, inf := scan(m); nan || inf {
		for i := range dst {
			dst[i] = math.NaN()
		}
		return dst
	}
	singular(dst, m, rows, cols)
	return dst
}

// smallValues writes the descending singular values of m into buf when they
// fit (allocating otherwise) and returns them, or nil if m is not finite.
func smallValues[F Float](buf *[16]float64, m []F, rows, cols int) []float64 {
	checkDims(len(m), rows, cols)
	if _, nan, inf := scan(m); nan || inf {
		return nil
	}
	var sv []float64
	if k := min(rows, cols); k <= len(buf) {
		sv = buf[:k]
	} else {
		sv = make([]float64, k)
	}
	singular(sv, m, rows, cols)
	return sv
}

// MinValue is the smallest of the min(rows, cols) singular values of the
// rows×cols row-major m: zero when m has deficient rank. Its absolute error is
// a few units of roundoff times Norm(m), so a small σ_min carries little
// relative accuracy. MinValue returns NaN if m holds a NaN or an infinity and
// panics with ErrShape if the dimensions do not match.
func MinValue[F Float](m []F, rows, cols int) float64 {
	var buf [16]float64
	sv := smallValues(&buf, m, rows, cols)
	if sv == nil {
		return math.NaN()
	}
	return sv[len(sv)-1]
}

// EffectiveRank is exp(−Σ pᵢ log pᵢ) with pᵢ = σᵢ/Σⱼσⱼ over the singular values
// of the rows×cols row-major m (Roy and Vetterli's effective rank): 1 for a
// rank-one matrix, min(rows, cols) for a multiple of an orthogonal matrix, and
// in between otherwise. Terms with pᵢ = 0 contribute 0. EffectiveRank is 0 for
// the zero matrix, NaN if m holds a NaN or an infinity, and panics with
// ErrShape if the dimensions do not match.
func EffectiveRank[F Float](m []F, rows, cols int) float64 {
	var buf [16]float64
	sv := smallValues(&buf, m, rows, cols)
	if sv == nil {
		return math.NaN()
	}
	return effectiveRank(sv)
}

func effectiveRank(sv []float64) float64 {
	// Normalise by the largest value first so that the sum cannot overflow.
	if sv[0] == 0 {
		return 0
	}
	var sum float64
	for _, s := range sv {
		sum += s / sv[0]
	}
	var h float64
	for _, s := range sv {
		if p := s / sv[0] / sum; p > 0 {
			h -= p * math.Log(p)
		}
	}
	return math.Exp(h)
}

// DistJ is ‖M − J‖₂, the spectral distance of the n×n row-major m from
// J = 11ᵀ/n, the projector onto the all-ones direction: the depth diagnostic
// that measures how far a composite mixer is from averaging all streams.
// For an sHC mixer H = J + U_z·K·U_zᵀ it equals ‖K‖₂ = max|σᵢ|. DistJ returns
// NaN if m holds a NaN and +Inf if it holds an infinity, and panics with
// ErrShape if n < 1 or len(m) != n².
func DistJ[F Float](m []F, n int) float64 {
	checkDims(len(m), n, n)
	_, nan, inf := scan(m)
	switch {
	case nan:
		return math.NaN()
	case inf:
		return math.Inf(1)
	}
	var buf [stackLen]float64
	var d []float64
	if n*n <= stackLen {
		d = buf[:n*n]
	} else {
		d = make([]float64, n*n)
	}
	jn := 1 / float64(n)
	for i, v := range m {
		d[i] = float64(v) - jn
	}
	return Norm(d, n, n)
}

// SVD is a reusable workspace for the singular value decomposition
// A = U·Σ·Vᵀ of small dense matrices by one-sided Jacobi, computed in float64.
// The zero value is ready to use; Factorize reuses the buffers of earlier
// calls, so a steady state of equal or smaller shapes does not allocate.
type SVD[F Float] struct {
	rows, cols int
	p, q       int
	trans      bool // the work matrix is Aᵀ
	e          int  // A was scaled by 2⁻ᵉ
	a          []float64
	v          []float64
	sv         []float64
	order      []int
	ok         bool
}

// Factorize computes the singular value decomposition of the rows×cols
// row-major m. It returns an error wrapping ErrNonFinite, and leaves the
// receiver unchanged, if m holds a NaN or an infinity. It panics with ErrShape
// if the dimensions do not match. Cost: with p = max(rows, cols) and
// q = min(rows, cols), about 4q²p flops per sweep plus 3q³ for the right
// vectors, and 5–10 sweeps for n ≤ 64.
func (s *SVD[F]) Factorize(m []F, rows, cols int) error {
	checkDims(len(m), rows, cols)
	maxAbs, nan, inf := scan(m)
	if nan || inf {
		return fmt.Errorf("%w: matrix to factorize", ErrNonFinite)
	}
	s.rows, s.cols = rows, cols
	s.e = 0
	if maxAbs > 0 {
		s.e = exponent(maxAbs)
	}
	s.a = grow(s.a, rows*cols)
	s.p, s.q, s.trans = load(s.a, m, rows, cols, s.e)
	q := s.q
	s.v = grow(s.v, q*q)
	clear(s.v)
	for i := 0; i < q; i++ {
		s.v[i*q+i] = 1
	}
	s.sv = grow(s.sv, q)
	jacobi(s.a, s.p, q, s.v, s.sv)
	colNorms(s.sv, s.a, s.p, q)
	s.order = grow(s.order, q)
	orderDesc(s.order, s.sv)
	s.ok = true
	return nil
}

func (s *SVD[F]) check() {
	if !s.ok {
		panic(ErrNoForward)
	}
}

// Norm returns σ₁ of the factorized matrix. It panics with ErrNoForward if
// Factorize has not succeeded.
func (s *SVD[F]) Norm() float64 {
	s.check()
	return math.Ldexp(s.sv[s.order[0]], s.e)
}

// Values writes the min(rows, cols) singular values in descending order into
// dst and returns it; a nil dst allocates, any other must have that length.
func (s *SVD[F]) Values(dst []float64) []float64 {
	s.check()
	dst = use(dst, s.q)
	for i, o := range s.order {
		dst[i] = math.Ldexp(s.sv[o], s.e)
	}
	return dst
}

// LeftTo writes the left singular vector uᵢ (length rows) of the i-th largest
// singular value into dst and returns it; a nil dst allocates, any other must
// have length rows. The vectors are orthonormal, except that when σᵢ = 0 the
// vector on the longer side (uᵢ if rows ≥ cols, vᵢ otherwise) is not
// determined by A and is returned as zero. It panics with ErrShape if i is out
// of range and with ErrNoForward if Factorize has not succeeded.
func (s *SVD[F]) LeftTo(dst []float64, i int) []float64 {
	s.check()
	if i < 0 || i >= s.q {
		panic(ErrShape)
	}
	dst = use(dst, s.rows)
	if s.trans {
		s.vcol(dst, i)
	} else {
		s.acol(dst, i)
	}
	return dst
}

// RightTo writes the right singular vector vᵢ (length cols) of the i-th
// largest singular value into dst and returns it, with the same conventions as
// LeftTo; A·vᵢ = σᵢ·uᵢ.
func (s *SVD[F]) RightTo(dst []float64, i int) []float64 {
	s.check()
	if i < 0 || i >= s.q {
		panic(ErrShape)
	}
	dst = use(dst, s.cols)
	if s.trans {
		s.acol(dst, i)
	} else {
		s.vcol(dst, i)
	}
	return dst
}

// acol writes the normalised work column of the i-th value into dst.
func (s *SVD[F]) acol(dst []float64, i int) {
	o := s.order[i]
	col := s.a[o*s.p : o*s.p+s.p]
	sig := s.sv[o]
	if sig == 0 {
		clear(dst)
		return
	}
	for k, x := range col {
		dst[k] = x / sig
	}
}

// vcol writes column i (in sorted order) of the accumulated rotations.
func (s *SVD[F]) vcol(dst []float64, i int) {
	o := s.order[i]
	copy(dst, s.v[o*s.q:o*s.q+s.q])
}
