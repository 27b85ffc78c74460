package spectral

import (
	"fmt"
	"math"
)

// Power estimates σ₁ by power iteration on AᵀA with a vector that persists
// between calls. Warm-started across a sequence of slowly changing matrices
// (the weights of one layer during training) a single step per call tracks
// σ₁ closely; started cold it does not.
//
// Every estimate is from below: with u = A·v, the estimate ‖Aᵀu‖/‖u‖ never
// exceeds σ₁ (up to rounding), and it increases monotonically to σ₁ while the
// matrix is fixed: the vector's angle to v₁ shrinks by (σ₂/σ₁)² per step and
// the estimate's error, quadratic in that angle, by (σ₂/σ₁)⁴. Dividing by an
// underestimate overshoots the spectral sphere, which is why Normalizer uses
// the exact Norm.
//
// The zero value is ready to use; the first call (or a call with a new shape)
// starts from a fixed vector, so results are deterministic.
type Power[F Float] struct {
	cols int
	v, u []float64
	a    []float64
}

// Reset forgets the warm-start vector.
func (p *Power[F]) Reset() { p.cols = 0 }

// Estimate runs steps ≥ 1 power-iteration steps on the rows×cols row-major m
// from the stored vector, stores the new vector and returns the estimate of
// σ₁ after the last step. It is 0 if m·v = 0 (m = 0, say); the stored vector
// is then restarted. It returns an error wrapping ErrNonFinite, with the
// stored vector untouched, if m holds a NaN or an infinity. It panics with
// ErrShape if the dimensions do not match or steps < 1. Cost: 4·rows·cols
// flops per step; no allocation once the buffers have grown to the shape.
func (p *Power[F]) Estimate(m []F, rows, cols, steps int) (float64, error) {
	checkDims(len(m), rows, cols)
	if steps < 1 {
		panic(ErrShape)
	}
	maxAbs, nan, inf := scan(m)
	if nan || inf {
		return 0, fmt.Errorf("%w: matrix of the power iteration", ErrNonFinite)
	}
	if p.cols != cols {
		p.v = grow(p.v, cols)
		p.start()
		p.cols = cols
	}
	if maxAbs == 0 {
		return 0, nil
	}
	// Work on the matrix scaled by a power of two so that nothing overflows.
	e := exponent(maxAbs)
	p.a = grow(p.a, rows*cols)
	for i, x := range m {
		p.a[i] = math.Ldexp(float64(x), -e)
	}
	p.u = grow(p.u, rows)
	a, u, v := p.a, p.u, p.v
	var est float64
	for s := 0; s < steps; s++ {
		// u = A·v
		for i := 0; i < rows; i++ {
			var sum float64
			for j, x := range a[i*cols : i*cols+cols] {
				sum += x * v[j]
			}
			u[i] = sum
		}
		nu := nrm2(u)
		if nu == 0 {
			p.start()
			return 0, nil
		}
		// v = Aᵀ·u
		clear(v)
		for i := 0; i < rows; i++ {
			ui := u[i]
			for j, x := range a[i*cols : i*cols+cols] {
				v[j] += x * ui
			}
		}
		nv := nrm2(v)
		est = nv / nu
		for j := range v {
			v[j] /= nv
		}
	}
	return math.Ldexp(est, e), nil
}

// start sets v to a fixed unit vector with positive entries of distinct
// magnitudes, so that it is not orthogonal to the leading singular vector of
// the structured matrices met in practice: a nonnegative Perron vector, or 1
// for a mixer.
func (p *Power[F]) start() {
	var s float64
	for j := range p.v {
		x := 1 + 0.5*math.Sin(float64(3*j+1))
		p.v[j] = x
		s += x * x
	}
	s = math.Sqrt(s)
	for j := range p.v {
		p.v[j] /= s
	}
}
