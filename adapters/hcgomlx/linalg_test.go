package hcgomlx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"gonum.org/v1/gonum/mat"
)

// solveTol bounds |x_GJ − x_LU| relative to max(1, |x|) for the well-conditioned
// systems below (condition numbers ≲ 1e3): rounding 1e-16 × condition.
const solveTol = 1e-11

// TestSolveGJ compares the graph's Gauss–Jordan solve with gonum's LU
// solve, for the two kinds of systems the adapter solves: symmetric
// positive definite (the exact projection's Newton and implicit-gradient
// systems) and I + A with A skew-symmetric (the Cayley transform).
func TestSolveGJ(t *testing.T) {
	const tokens, r = 5, 3
	rnd := rand.New(rand.NewPCG(11, 12))
	exec := graph.MustNewExec(testBackend(t), func(a, b *graph.Node) *graph.Node { return solveGJ(a, b) })
	for _, k := range []int{1, 2, 3, 4, 7} {
		for _, kind := range []string{"spd", "cayley"} {
			as := make([]float64, tokens*k*k)
			bs := make([]float64, tokens*k*r)
			for tk := range tokens {
				m := randSlice(rnd, k*k)
				a := as[tk*k*k : (tk+1)*k*k]
				for i := range k {
					for j := range k {
						if kind == "spd" { // MᵀM + 0.1·I
							for l := range k {
								a[i*k+j] += m[l*k+i] * m[l*k+j]
							}
							if i == j {
								a[i*k+j] += 0.1
							}
						} else { // I + (M − Mᵀ)
							a[i*k+j] = m[i*k+j] - m[j*k+i]
							if i == j {
								a[i*k+j] = 1
							}
						}
					}
				}
				copy(bs[tk*k*r:], randSlice(rnd, k*r))
			}
			x := flat(exec.MustExec1(tensors.FromFlatDataAndDimensions(as, tokens, k, k),
				tensors.FromFlatDataAndDimensions(bs, tokens, k, r)))
			for tk := range tokens {
				var want mat.Dense
				if err := want.Solve(mat.NewDense(k, k, as[tk*k*k:(tk+1)*k*k]), mat.NewDense(k, r, bs[tk*k*r:(tk+1)*k*r])); err != nil {
					t.Fatal(err)
				}
				for i := range k {
					for j := range r {
						g, w := x[tk*k*r+i*r+j], want.At(i, j)
						if math.Abs(g-w) > solveTol*max(1, math.Abs(w)) {
							t.Errorf("k = %d, %s, token %d: x[%d][%d] = %.15g, LU %.15g", k, kind, tk, i, j, g, w)
						}
					}
				}
			}
		}
	}
}
