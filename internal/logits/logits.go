// Package logits generates the families of n×n logit matrices on which the
// projections are tested, benchmarked and reported: Gaussian logits of
// several scales, a near-identity matrix (the mixers' init regime), a
// pattern with no perfect matching on its large entries (the hardest case
// for Sinkhorn), and a range wider than exp can represent (the log domain).
package logits

import (
	"fmt"
	"math/rand/v2"
)

// Family is a named generator of n×n row-major logits.
type Family struct {
	Name string
	// MinN is the smallest n for which the family means what its name says.
	MinN int
	Gen  func(rnd *rand.Rand, n int) []float64
}

// Gaussian draws every logit from N(0, σ²).
func Gaussian(sigma float64) Family {
	return Family{Name: fmt.Sprintf("N(0,%g²)", sigma), MinN: 1, Gen: func(rnd *rand.Rand, n int) []float64 {
		z := make([]float64, n*n)
		for i := range z {
			z[i] = sigma * rnd.NormFloat64()
		}
		return z
	}}
}

// NearIdentity is 8I + N(0,1): strongly diagonal, the regime of a mixer at
// its init.
func NearIdentity() Family {
	return Family{Name: "8I+N(0,1)", MinN: 1, Gen: func(rnd *rand.Rand, n int) []float64 {
		z := Gaussian(1).Gen(rnd, n)
		for i := 0; i < n; i++ {
			z[i*n+i] += 8
		}
		return z
	}}
}

// NoMatching has no perfect matching on its large entries: rows 0 and 1 put
// their 0 in column 0, row i ≥ 2 in column i, every other entry is −s. The
// doubly stochastic scaling must move mass of order e^−s into column 1, and
// Sinkhorn's contraction rate approaches 1.
func NoMatching(s float64) Family {
	return Family{Name: fmt.Sprintf("no-matching(s=%g)", s), MinN: 3, Gen: func(_ *rand.Rand, n int) []float64 {
		z := make([]float64, n*n)
		for i := range z {
			z[i] = -s
		}
		for i := 0; i < n; i++ {
			c := i
			if i == 1 {
				c = 0
			}
			z[i*n+c] = 0
		}
		return z
	}}
}

// WideRange spreads logits uniformly over [−r, 0], with both ends present:
// for r above about 700, exp(logits) underflows and a projection must work in
// the log domain.
func WideRange(r float64) Family {
	return Family{Name: fmt.Sprintf("range-%g", r), MinN: 2, Gen: func(rnd *rand.Rand, n int) []float64 {
		z := make([]float64, n*n)
		for i := range z {
			z[i] = -r * rnd.Float64()
		}
		z[0], z[1] = 0, -r
		return z
	}}
}

// Exactness returns the families on which the exact projection is held to
// the precision floor: N(0,σ²) for σ ∈ {1,3,5,10}, 8I + N(0,1), the
// no-matching pattern for s ∈ {30,40}, and a range of 1000.
func Exactness() []Family {
	return []Family{Gaussian(1), Gaussian(3), Gaussian(5), Gaussian(10), NearIdentity(),
		NoMatching(30), NoMatching(40), WideRange(1000)}
}
