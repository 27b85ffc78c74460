package hcgomlx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// Tolerances of the projection tests.
const (
	// projTol bounds |GoMLX − birkhoff| for a projection's value: both reach
	// the float64 floor (≤ 1e-13 in the marginals) by different
	// iterations, and the scaling is well conditioned for these logits.
	projTol = 1e-12
	// dsTol is acceptance line 1's bound on the exact projection's DS
	// deviation in the graph.
	dsTol = 1e-13
	// gradTol bounds |GoMLX − birkhoff| for a gradient (acceptance line 1).
	gradTol = 1e-9
	// fdStep and fdTol: central differences on a loss of order 1; the
	// truncation h²·|f'''| and rounding 1e-16/h stay below 1e-8, plus the
	// projection's floor 1e-13/h = 1e-8.
	fdStep = 1e-5
	fdTol  = 1e-7
)

var (
	backendOnce sync.Once
	backendErr  error
	theBackend  compute.Backend
)

// testBackend returns the pure-Go backend, created once.
func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	backendOnce.Do(func() { theBackend, backendErr = gobackend.New("ops_sequential") })
	if backendErr != nil {
		t.Fatalf("gobackend: %v", backendErr)
	}
	return theBackend
}

// logitsCase returns tokens n×n logits: the reference init (0 on the
// diagonal, −8 off it) when scale is 0, N(0, scale²) otherwise.
func logitsCase(rnd *rand.Rand, tokens, n int, scale float64) []float64 {
	z := make([]float64, tokens*n*n)
	for i := range z {
		if scale == 0 {
			if i%(n*n)%(n+1) != 0 {
				z[i] = -8
			}
			continue
		}
		z[i] = scale * rnd.NormFloat64()
	}
	return z
}

func flat(t *tensors.Tensor) []float64 { return tensors.MustCopyFlatData[float64](t) }

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("lengths %d and %d", len(a), len(b)))
	}
	var d float64
	for i := range a {
		if e := math.Abs(a[i] - b[i]); e > d || math.IsNaN(e) {
			d = e
		}
	}
	return d
}

// projectGraph returns an executable that projects [T, n, n] logits and
// returns P, the per-token deviation and ∂⟨G, P⟩/∂z for the upstream G.
func projectGraph(t testing.TB, exact bool) *graph.Exec {
	return graph.MustNewExec(testBackend(t), func(z, up *graph.Node) []*graph.Node {
		var p *graph.Node
		steps := graph.Scalar(z.Graph(), dtypes.Int32, 0)
		if exact {
			p, steps = projectExact(z, DefaultWarmSweeps, DefaultNewtonSteps)
		} else {
			p = sinkhornFixed(z, birkhoff.DefaultIterations)
		}
		loss := graph.ReduceAllSum(graph.Mul(p, up))
		return []*graph.Node{p, deviation(p, 1), graph.Gradient(loss, z)[0], steps}
	})
}

func TestProjectExactGraph(t *testing.T) {
	const tokens = 16
	rnd := rand.New(rand.NewPCG(1, 2))
	exec := projectGraph(t, true)
	var worstDev, worstP, worstG float64
	var maxSteps int32
	for _, n := range []int{2, 3, 4, 8} {
		ws := birkhoff.NewWorkspace[float64](n)
		for _, scale := range []float64{0, 0.5, 1, 2, 3, 5, 8} {
			z := logitsCase(rnd, tokens, n, scale)
			up := logitsCase(rnd, tokens, n, 1)
			out := exec.MustExec(tensors.FromFlatDataAndDimensions(z, tokens, n, n),
				tensors.FromFlatDataAndDimensions(up, tokens, n, n))
			p, dev, dz := flat(out[0]), flat(out[1]), flat(out[2])
			maxSteps = max(maxSteps, tensors.ToScalar[int32](out[3]))
			want := make([]float64, n*n)
			wdz := make([]float64, n*n)
			for tk := range tokens {
				zz := z[tk*n*n : (tk+1)*n*n]
				if _, err := ws.Project(want, zz, birkhoff.Options{Method: birkhoff.Exact}); err != nil {
					t.Fatal(err)
				}
				ws.BackwardAt(wdz, want, up[tk*n*n:(tk+1)*n*n])
				dp := maxAbsDiff(p[tk*n*n:(tk+1)*n*n], want)
				dg := maxAbsDiff(dz[tk*n*n:(tk+1)*n*n], wdz)
				own := birkhoff.Deviation(p[tk*n*n:(tk+1)*n*n], n)
				worstDev, worstP, worstG = max(worstDev, dev[tk], own), max(worstP, dp), max(worstG, dg)
				if !(dev[tk] <= dsTol && own <= dsTol && dp <= projTol && dg <= gradTol) {
					t.Errorf("n = %d, scale %g, token %d: deviation %.3g (recomputed %.3g), |P − birkhoff| %.3g, |∂z − birkhoff| %.3g",
						n, scale, tk, dev[tk], own, dp, dg)
				}
				if math.Abs(dev[tk]-own) > 1e-15 {
					t.Errorf("n = %d, scale %g, token %d: reported deviation %g, recomputed %g", n, scale, tk, dev[tk], own)
				}
			}
		}
	}
	t.Logf("exact projection in the graph: worst DS deviation %.3g, |P − birkhoff| %.3g, |∂z − birkhoff| %.3g, at most %d Newton steps",
		worstDev, worstP, worstG, maxSteps)
}

func TestProjectFixedGraph(t *testing.T) {
	const tokens = 8
	rnd := rand.New(rand.NewPCG(3, 4))
	exec := projectGraph(t, false)
	var worstP, worstG float64
	for _, n := range []int{2, 3, 4, 8} {
		ws := birkhoff.NewWorkspace[float64](n)
		rec := make([]float64, birkhoff.FixedRecordLen(n, 0))
		for _, scale := range []float64{0, 1, 3} {
			z := logitsCase(rnd, tokens, n, scale)
			up := logitsCase(rnd, tokens, n, 1)
			out := exec.MustExec(tensors.FromFlatDataAndDimensions(z, tokens, n, n),
				tensors.FromFlatDataAndDimensions(up, tokens, n, n))
			p, dev, dz := flat(out[0]), flat(out[1]), flat(out[2])
			want := make([]float64, n*n)
			wdz := make([]float64, n*n)
			for tk := range tokens {
				st, err := ws.ProjectFixed(want, rec, z[tk*n*n:(tk+1)*n*n], 0)
				if err != nil {
					t.Fatal(err)
				}
				ws.BackwardFixed(wdz, up[tk*n*n:(tk+1)*n*n], rec)
				dp := maxAbsDiff(p[tk*n*n:(tk+1)*n*n], want)
				dg := maxAbsDiff(dz[tk*n*n:(tk+1)*n*n], wdz)
				worstP, worstG = max(worstP, dp), max(worstG, dg)
				if !(dp <= projTol && dg <= gradTol) || math.Abs(dev[tk]-st.Deviation) > 1e-14 {
					t.Errorf("n = %d, scale %g, token %d: |P − birkhoff| %.3g, |∂z − birkhoff| %.3g, deviation %.3g vs birkhoff %.3g",
						n, scale, tk, dp, dg, dev[tk], st.Deviation)
				}
			}
		}
	}
	t.Logf("Fixed-20 in the graph: |P − birkhoff| %.3g, |∂z − birkhoff| %.3g", worstP, worstG)
}

// TestImplicitGradientFD checks the graph's implicit gradient against
// central differences of the graph's own forward, with a random upstream
// gradient.
func TestImplicitGradientFD(t *testing.T) {
	const tokens = 2
	rnd := rand.New(rand.NewPCG(5, 6))
	exec := projectGraph(t, true)
	for _, n := range []int{2, 3, 4} {
		z := logitsCase(rnd, tokens, n, 1.5)
		up := logitsCase(rnd, tokens, n, 1)
		upT := tensors.FromFlatDataAndDimensions(up, tokens, n, n)
		loss := func(z []float64) float64 {
			p := flat(exec.MustExec(tensors.FromFlatDataAndDimensions(z, tokens, n, n), upT)[0])
			var s float64
			for i := range p {
				s += p[i] * up[i]
			}
			return s
		}
		dz := flat(exec.MustExec(tensors.FromFlatDataAndDimensions(z, tokens, n, n), upT)[2])
		for i := range z {
			zz := append([]float64(nil), z...)
			zz[i] += fdStep
			lp := loss(zz)
			zz[i] -= 2 * fdStep
			fd := (lp - loss(zz)) / (2 * fdStep)
			if math.Abs(fd-dz[i]) > fdTol*max(1, math.Abs(dz[i])) {
				t.Errorf("n = %d, ∂z[%d] = %.12g, central difference %.12g", n, i, dz[i], fd)
			}
		}
	}
}

// TestProjectExactCap checks that a projection stopped by the step cap
// reports its true deviation: one Newton step from one sweep leaves logits of
// scale 3 far from doubly stochastic, and the certificate says so.
func TestProjectExactCap(t *testing.T) {
	const tokens, n = 16, 4
	rnd := rand.New(rand.NewPCG(7, 8))
	z := logitsCase(rnd, tokens, n, 3)
	for _, cap := range []int{0, 1, DefaultNewtonSteps} {
		exec := graph.MustNewExec(testBackend(t), func(z *graph.Node) []*graph.Node {
			p, steps := projectExact(z, DefaultWarmSweeps, cap)
			return []*graph.Node{p, graph.ReduceAllMax(deviation(p, 1)), steps}
		})
		out := exec.MustExec(tensors.FromFlatDataAndDimensions(z, tokens, n, n))
		p, dev := flat(out[0]), tensors.ToScalar[float64](out[1])
		var own float64
		for tk := range tokens {
			own = max(own, birkhoff.Deviation(p[tk*n*n:(tk+1)*n*n], n))
		}
		steps := tensors.ToScalar[int32](out[2])
		t.Logf("cap %d: %d Newton steps, certificate %.3g", cap, steps, dev)
		if dev != own || int(steps) > cap {
			t.Errorf("cap %d: certificate %.3g, recomputed %.3g, %d steps", cap, dev, own, steps)
		}
		if converged := dev <= dsTol; converged != (cap == DefaultNewtonSteps) {
			t.Errorf("cap %d: deviation %.3g", cap, dev)
		}
	}
}
