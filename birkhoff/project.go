package birkhoff

import (
	"fmt"
	"math"
)

// MaxScalingRange is the largest logit range (max − min over the whole
// matrix) for which the projection works in the scaling domain with
// exp(logits − max). Above it, exp would underflow (float64 reaches 0 below
// e^−745), so Project switches to the log domain, which computes the same map.
const MaxScalingRange = 600

// maxRange is the largest logit range Project accepts at all: beyond it the
// dual potentials cannot be represented with useful precision.
const maxRange = 1e150

// Workspace holds the scratch memory of Project and what Backward needs, for
// one matrix size n. After its first use at a given number of Fixed sweeps it
// does not allocate. A Workspace must not be used by two goroutines at once.
type Workspace[F Float] struct {
	n int

	method Method
	log    bool // the last projection ran in the log domain
	sweeps int  // Fixed: sweeps of the last projection

	z    []float64 // logits as float64
	k    []float64 // kernel exp(z − rowmax), or z − rowmax in the log domain
	p    []float64 // the result in float64
	hist []float64 // Fixed: the matrix after each of the 2·sweeps steps

	fhist []float64 // ProjectFixed and BackwardFixed: scratch iterates
	qhist []float64 // BackwardFixed4: scratch iterates of four matrices

	// Newton and implicit-backward scratch.
	u, r, c, grad, step, trial, diag []float64
	h                                []float64 // n×n system matrix
	a, b, x, y                       []float64
	g                                []float64 // upstream gradient in float64
	uf                               []int     // support components: 4n
}

// NewWorkspace returns a workspace for n×n projections. It panics with
// ErrShape if n < 1.
func NewWorkspace[F Float](n int) *Workspace[F] {
	if n < 1 {
		panic(ErrShape)
	}
	nn := n * n
	w := &Workspace[F]{n: n}
	buf := make([]float64, 4*nn+13*n)
	w.z, buf = buf[:nn], buf[nn:]
	w.k, buf = buf[:nn], buf[nn:]
	w.p, buf = buf[:nn], buf[nn:]
	w.h, buf = buf[:nn], buf[nn:]
	for _, s := range []*[]float64{&w.u, &w.r, &w.c, &w.grad, &w.step, &w.trial, &w.diag, &w.a, &w.b, &w.x, &w.y} {
		*s, buf = buf[:n], buf[n:]
	}
	w.g = make([]float64, nn)
	w.uf = make([]int, 4*n)
	return w
}

// N returns the matrix size of the workspace.
func (w *Workspace[F]) N() int { return w.n }

// Project writes into dst the doubly stochastic scaling of exp(logits); both
// are n×n row-major. It returns the certificate of the result.
//
// A NaN or infinite logit, or a logit range too wide to represent (above
// 1e150), returns an error wrapping ErrNonFinite, and dst is left untouched.
// Invalid options return an error wrapping ErrMethod. Mismatched lengths or
// n < 1 panic with ErrShape. Project allocates scratch on every call; use a
// Workspace in hot loops.
func Project[F Float](dst, logits []F, n int, opt Options) (Stats, error) {
	checkSquare(len(logits), n)
	checkSquare(len(dst), n)
	return NewWorkspace[F](n).Project(dst, logits, opt)
}

// Project is the allocation-free form of the package-level Project; see
// there. dst and logits may be the same slice. Backward differentiates the
// last successful call.
func (w *Workspace[F]) Project(dst, logits []F, opt Options) (Stats, error) {
	n := w.n
	checkSquare(len(logits), n)
	checkSquare(len(dst), n)
	if err := checkOptions(opt); err != nil {
		return Stats{}, err
	}
	lo, hi, err := scan(logits, n)
	if err != nil {
		return Stats{}, err
	}
	for i, v := range logits {
		w.z[i] = float64(v)
	}
	w.method = opt.Method
	w.log = hi-lo > MaxScalingRange
	tol := opt.Tol
	if tol == 0 {
		tol = floor[F]()
	}

	var iters int
	switch opt.Method {
	case Fixed:
		t := opt.Iterations
		if t == 0 {
			t = DefaultIterations
		}
		w.fixed(t)
		iters = t
	case Tolerance:
		iters = w.tolerance(internalTol[F](tol), maxIter(opt))
	case Exact:
		iters = w.exact(internalTol[F](tol), maxIter(opt))
	}
	for i, v := range w.p {
		dst[i] = F(v)
	}
	dev := Deviation(dst, n)
	comps := support(dst, n, supportTol(dev), w.uf)
	return Stats{Iterations: iters, Deviation: dev, Converged: dev <= tol, Components: comps}, nil
}

// scan returns the least and the largest logit, or an error wrapping
// ErrNonFinite for a NaN or infinite logit or a range above maxRange.
func scan[F Float](logits []F, n int) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, v := range logits {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, 0, fmt.Errorf("%w: logit %d (row %d, column %d) is %v", ErrNonFinite, i, i/n, i%n, f)
		}
		if f < lo {
			lo = f
		}
		if f > hi {
			hi = f
		}
	}
	if hi-lo > maxRange {
		return 0, 0, fmt.Errorf("%w: logit range %g exceeds %g", ErrNonFinite, hi-lo, maxRange)
	}
	return lo, hi, nil
}

func checkOptions(opt Options) error {
	switch {
	case opt.Method < Fixed || opt.Method > Exact:
		return fmt.Errorf("%w: unknown method %d", ErrMethod, int(opt.Method))
	case opt.Iterations < 0:
		return fmt.Errorf("%w: negative Iterations %d", ErrMethod, opt.Iterations)
	case opt.MaxIter < 0:
		return fmt.Errorf("%w: negative MaxIter %d", ErrMethod, opt.MaxIter)
	case opt.Tol < 0 || math.IsNaN(opt.Tol):
		return fmt.Errorf("%w: Tol %v is not a non-negative number", ErrMethod, opt.Tol)
	}
	return nil
}

func maxIter(opt Options) int {
	if opt.MaxIter == 0 {
		return DefaultMaxIter
	}
	return opt.MaxIter
}

// internalTol is the float64 target that makes the stored result meet tol:
// rounding to float32 adds up to about n·2⁻²⁴ to a marginal, so the float64
// iterate is taken further.
func internalTol[F Float](tol float64) float64 {
	if is32[F]() {
		return tol / 8
	}
	return tol
}

// shift writes into k the logits minus a max, exponentiated unless in the
// log domain. Fixed and Tolerance subtract each column's max: the first
// column normalisation cancels any column scaling exactly, so this is the
// paper's map with exp(H̃) (and no column underflows to zero). Exact
// subtracts each row's max, which its semi-dual cancels likewise.
func (w *Workspace[F]) shift(cols bool) {
	n := w.n
	m := w.c
	for a := 0; a < n; a++ {
		m[a] = math.Inf(-1)
	}
	for i := 0; i < n; i++ {
		for j, v := range w.z[i*n : i*n+n] {
			a := i
			if cols {
				a = j
			}
			if v > m[a] {
				m[a] = v
			}
		}
	}
	for i := 0; i < n; i++ {
		out := w.k[i*n : i*n+n]
		for j, v := range w.z[i*n : i*n+n] {
			if cols {
				v -= m[j]
			} else {
				v -= m[i]
			}
			if !w.log {
				v = math.Exp(v)
			}
			out[j] = v
		}
	}
}

// fixed runs t paper sweeps, recording every iterate for the unrolled
// backward.
func (w *Workspace[F]) fixed(t int) {
	n := w.n
	nn := n * n
	if need := (2*t + 1) * nn; cap(w.hist) < need {
		w.hist = make([]float64, need)
	}
	w.hist = w.hist[:(2*t+1)*nn]
	w.sweeps = t
	w.shift(true)
	cur := w.hist[:nn]
	copy(cur, w.k)
	for s := 0; s < 2*t; s++ {
		next := w.hist[(s+1)*nn : (s+2)*nn]
		if w.log {
			logNormalize(next, cur, w.c, n, s%2 == 0)
		} else {
			normalize(next, cur, w.c, n, s%2 == 0)
		}
		cur = next
	}
	if w.log {
		// The history holds log-iterates; the backward wants the iterates.
		for i := nn; i < len(w.hist); i++ {
			w.hist[i] = math.Exp(w.hist[i])
		}
	}
	copy(w.p, cur)
}

// normalize writes into dst the matrix src with its columns (cols true) or
// rows divided by their sums, and into s (length n) the factors used, the
// reciprocals of those sums. dst may be src.
func normalize(dst, src, s []float64, n int, cols bool) {
	if cols {
		for j := range s {
			s[j] = 0
		}
		for i := 0; i < n; i++ {
			for j, v := range src[i*n : i*n+n] {
				s[j] += v
			}
		}
		for j := range s {
			s[j] = 1 / s[j]
		}
		for i := 0; i < n; i++ {
			row := dst[i*n : i*n+n]
			for j, v := range src[i*n : i*n+n] {
				row[j] = v * s[j]
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		src := src[i*n : i*n+n]
		var sum float64
		for _, v := range src {
			sum += v
		}
		inv := 1 / sum
		s[i] = inv
		row := dst[i*n : i*n+n]
		for j, v := range src {
			row[j] = v * inv
		}
	}
}

// logNormalize is normalize in the log domain: it subtracts the
// log-sum-exp of every column (cols true) or row. dst may be src.
func logNormalize(dst, src, _ []float64, n int, cols bool) {
	if cols {
		for j := 0; j < n; j++ {
			m := math.Inf(-1)
			for i := 0; i < n; i++ {
				m = math.Max(m, src[i*n+j])
			}
			var s float64
			for i := 0; i < n; i++ {
				s += math.Exp(src[i*n+j] - m)
			}
			lse := m + math.Log(s)
			for i := 0; i < n; i++ {
				dst[i*n+j] = src[i*n+j] - lse
			}
		}
		return
	}
	for i := 0; i < n; i++ {
		lse := logSumExp(src[i*n : i*n+n])
		for j := 0; j < n; j++ {
			dst[i*n+j] = src[i*n+j] - lse
		}
	}
}

func logSumExp(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		m = math.Max(m, x)
	}
	var s float64
	for _, x := range v {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

// tolerance sweeps until the column error of the row-normalised iterate is
// at most tol (rows are exact after each sweep), or until maxIter sweeps.
func (w *Workspace[F]) tolerance(tol float64, maxIter int) int {
	n := w.n
	w.shift(true)
	copy(w.p, w.k)
	norm := normalize
	if w.log {
		norm = logNormalize
	}
	it := 0
	for it < maxIter {
		norm(w.p, w.p, w.c, n, true)
		norm(w.p, w.p, w.c, n, false)
		it++
		if w.colError() <= tol {
			break
		}
	}
	if w.log {
		for i, v := range w.p {
			w.p[i] = math.Exp(v)
		}
	}
	return it
}

// colError returns the max |column sum − 1| of w.p, exponentiating first in
// the log domain.
func (w *Workspace[F]) colError() float64 {
	n := w.n
	var dev float64
	for j := 0; j < n; j++ {
		var s float64
		for i := 0; i < n; i++ {
			v := w.p[i*n+j]
			if w.log {
				v = math.Exp(v)
			}
			s += v
		}
		dev = math.Max(dev, math.Abs(s-1))
	}
	return dev
}
