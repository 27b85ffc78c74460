package birkhoff

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances of the disconnected-support tests, each with its reason.
const (
	// fdTol32 is the agreement of a float32 backward with the float64
	// central differences of the same map: the float32 result is doubly
	// stochastic to Float32Floor and rounded to 2⁻²⁴, which the implicit
	// system carries into the gradient with a factor of order one.
	fdTol32 = 1e-4
	// zeroSum32 bounds the row and column sums of a float32 implicit
	// gradient: 16 entries rounded to float32.
	zeroSum32 = 1e-5
)

// blockLogits returns n×n logits whose rows and columns are split into
// blocks of random sizes (at least two blocks for n ≥ 2), with N(0,1)
// logits inside a block and −scale between blocks, rows and columns then
// permuted at random. It returns the number of blocks too.
func blockLogits(rnd *rand.Rand, n int, scale float64) ([]float64, int) {
	lab := make([]int, n)
	blocks := 1
	for i := 1; i < n; i++ {
		if i == n/2 || rnd.IntN(3) == 0 { // a cut at n/2 keeps two blocks at least
			blocks++
		}
		lab[i] = blocks - 1
	}
	rp, cp := rnd.Perm(n), rnd.Perm(n)
	z := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := -scale
			if lab[i] == lab[j] {
				v = rnd.NormFloat64()
			}
			z[rp[i]*n+cp[j]] = v
		}
	}
	return z, blocks
}

// permLogits is scale·Q + N(0,1) for a random permutation matrix Q: the
// projection is Q up to entries of order e^−scale.
func permLogits(rnd *rand.Rand, n int, scale float64) []float64 {
	z := make([]float64, n*n)
	for i := range z {
		z[i] = rnd.NormFloat64()
	}
	for i, j := range rnd.Perm(n) {
		z[i*n+j] += scale
	}
	return z
}

// sparseLogits is N(0,1) with about half the entries set to −scale, except
// on two random permutations that keep the support connected and of full
// matching: the entries at −scale underflow (or nearly) and the support
// stays one component for n ≥ 2.
func sparseLogits(rnd *rand.Rand, n int) func(scale float64) []float64 {
	q := rnd.Perm(n)
	keep := make([]bool, n*n)
	for i := 0; i < n; i++ {
		// A cycle through all columns: row i links columns q[i] and q[i+1].
		keep[i*n+q[i]] = true
		keep[i*n+q[(i+1)%n]] = true
	}
	z := make([]float64, n*n)
	drop := make([]bool, n*n)
	for i := range z {
		z[i] = rnd.NormFloat64()
		drop[i] = !keep[i] && rnd.IntN(2) == 0
	}
	return func(scale float64) []float64 {
		out := append([]float64(nil), z...)
		for i, d := range drop {
			if d {
				out[i] = -scale
			}
		}
		return out
	}
}

func TestSupport(t *testing.T) {
	// Two blocks {rows 0,2; columns 1,2} and {row 1; column 0}.
	p := []float64{
		0, 0.5, 0.5,
		1, 0, 0,
		0, 0.5, 0.5,
	}
	uf := make([]int, 12)
	if got := support(p, 3, supportFloor, uf); got != 2 {
		t.Fatalf("components = %d, want 2", got)
	}
	lab, size := uf[3:6], uf[6:12]
	if lab[1] != lab[2] || lab[0] == lab[1] {
		t.Errorf("column labels %v: want columns 1 and 2 together, 0 apart", lab)
	}
	if size[lab[0]] != 1 || size[lab[1]] != 2 {
		t.Errorf("column counts %d, %d; want 1, 2", size[lab[0]], size[lab[1]])
	}
	// Every entry in the support: one component, every column in it.
	full := []float64{0.5, 0.25, 0.25, 0.25, 0.5, 0.25, 0.25, 0.25, 0.5}
	if got := support(full, 3, supportFloor, uf); got != 1 || lab[0] != lab[1] || lab[1] != lab[2] || size[lab[0]] != 3 {
		t.Errorf("positive matrix: %d components, labels %v, %d columns; want 1, equal, 3", got, lab, size[lab[0]])
	}
	// A link at the threshold is no link; just above it is.
	p[1*3+1] = supportFloor
	if got := support(p, 3, supportFloor, uf); got != 2 {
		t.Errorf("entry at the threshold: components = %d, want 2", got)
	}
	p[1*3+1] = 2 * supportFloor
	if got := support(p, 3, supportFloor, uf); got != 1 {
		t.Errorf("entry above the threshold: components = %d, want 1", got)
	}
}

func TestStatsComponents(t *testing.T) {
	rnd := rand.New(rand.NewPCG(31, 32))
	for _, n := range []int{2, 5, 9, 16} {
		z, blocks := blockLogits(rnd, n, 1000)
		for _, opt := range []Options{{}, {Method: Tolerance}, {Method: Exact}} {
			st, err := Project(make([]float64, n*n), z, n, opt)
			if err != nil {
				t.Fatal(err)
			}
			if st.Components != blocks || !st.Disconnected() {
				t.Errorf("n=%d %v, %d blocks: Components = %d, Disconnected = %v", n, opt.Method, blocks, st.Components, st.Disconnected())
			}
		}
		st, err := Project(make([]float64, n*n), gaussian(1).Gen(rnd, n), n, Options{Method: Exact})
		if err != nil {
			t.Fatal(err)
		}
		if st.Components != 1 || st.Disconnected() {
			t.Errorf("n=%d gaussian: Components = %d, want 1", n, st.Components)
		}
	}
	// The batched n = 4 path reports the same.
	w := NewWorkspace[float64](4)
	z := permLogits(rnd, 4, 1000)
	rec := make([]float64, FixedRecordLen(4, 0))
	st, err := w.ProjectFixed(make([]float64, 16), rec, z, 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Components != 4 {
		t.Errorf("ProjectFixed near a permutation: Components = %d, want 4", st.Components)
	}
}

// disconnectedCase is one input of the disconnected-support gradient tests.
type disconnectedCase struct {
	name  string
	n     int
	scale float64
	z     []float64
	comps int // the components Stats must report; 0: do not check
}

func disconnectedCases() []disconnectedCase {
	rnd := rand.New(rand.NewPCG(33, 34))
	var cs []disconnectedCase
	for n := 2; n <= 16; n++ {
		sparse := sparseLogits(rnd, n)
		for _, s := range []float64{50, 200, 1000} {
			z, blocks := blockLogits(rnd, n, s)
			cs = append(cs,
				disconnectedCase{"block", n, s, z, blocks},
				disconnectedCase{"near-permutation", n, s, permLogits(rnd, n, s), n},
				disconnectedCase{"underflowing", n, s, sparse(s), 1})
		}
	}
	return cs
}

// TestBackwardDisconnected checks the implicit gradient where the support of
// the projection falls apart into blocks (or single entries), or loses
// entries to underflow, against central differences of ⟨G, P(z)⟩ with a
// random G. The step keeps the support: the smallest gap between a support
// logit and an off-support one is about scale − 6 ≫ 2·fdStep.
func TestBackwardDisconnected(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 36))
	var worst, worstSum float64
	defer func() {
		t.Logf("worst error against finite differences (relative to max(‖∇‖∞, 1)): %.2g; worst |row or column sum|: %.2g", worst, worstSum)
	}()
	for _, c := range disconnectedCases() {
		st, err := Project(make([]float64, c.n*c.n), c.z, c.n, Options{Method: Exact})
		if err != nil {
			t.Fatal(err)
		}
		if c.comps != 0 && st.Components != c.comps {
			t.Errorf("n=%d %s scale %g: Components = %d, want %d", c.n, c.name, c.scale, st.Components, c.comps)
		}
		if !st.Converged {
			t.Errorf("n=%d %s scale %g: forward not converged (deviation %g)", c.n, c.name, c.scale, st.Deviation)
		}
		dz, rel := checkGradAbs(t, c.z, c.n, rnd)
		worst = math.Max(worst, rel)
		if !(rel <= fdTol) {
			t.Errorf("n=%d %s scale %g: error %.3g against finite differences", c.n, c.name, c.scale, rel)
		}
		worstSum = math.Max(worstSum, maxLineSum(dz, c.n))
		if s := maxLineSum(dz, c.n); !(s <= zeroSum) {
			t.Errorf("n=%d %s scale %g: a row or column of the gradient sums to %g", c.n, c.name, c.scale, s)
		}
	}
}

// TestBackwardDisconnected32 is TestBackwardDisconnected in float32, through
// Backward and through BackwardAt on the float32 result (the path mhc's
// exact mixer takes), against central differences of the float64 map at
// the same logits.
func TestBackwardDisconnected32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(37, 38))
	var worst float64
	defer func() { t.Logf("worst error against float64 finite differences: %.2g", worst) }()
	for _, c := range disconnectedCases() {
		n := c.n
		z32 := toF[float32](c.z)
		z := make([]float64, n*n)
		for i, v := range z32 {
			z[i] = float64(v)
		}
		g := make([]float64, n*n)
		for i := range g {
			g[i] = rnd.NormFloat64()
		}
		g32 := toF[float32](g)
		for i, v := range g32 {
			g[i] = float64(v)
		}
		want, scale := fdGrad(z, g, n)
		w := NewWorkspace[float32](n)
		p := make([]float32, n*n)
		st, err := w.Project(p, z32, Options{Method: Exact})
		if err != nil {
			t.Fatal(err)
		}
		if c.comps != 0 && st.Components != c.comps {
			t.Errorf("n=%d %s scale %g: float32 Components = %d, want %d", n, c.name, c.scale, st.Components, c.comps)
		}
		if !st.Converged {
			t.Errorf("n=%d %s scale %g: float32 forward not converged (deviation %g)", n, c.name, c.scale, st.Deviation)
		}
		back := make([]float32, n*n)
		w.Backward(back, g32)
		at := make([]float32, n*n)
		w.BackwardAt(at, p, g32)
		for name, got := range map[string][]float32{"Backward": back, "BackwardAt": at} {
			var e float64
			for i, v := range got {
				e = math.Max(e, math.Abs(float64(v)-want[i])/scale)
			}
			worst = math.Max(worst, e)
			if !(e <= fdTol32) {
				t.Errorf("n=%d %s scale %g: float32 %s error %.3g", n, c.name, c.scale, name, e)
			}
			if s := maxLineSum(got, n); !(s <= zeroSum32) {
				t.Errorf("n=%d %s scale %g: float32 %s: a row or column sums to %g", n, c.name, c.scale, name, s)
			}
		}
	}
}

// checkGradAbs is checkGrad with the error measured against
// max(‖∇‖∞, 1): near a permutation the true gradient is of order e^−scale,
// and a relative error of it would measure the finite differences' rounding.
func checkGradAbs(t *testing.T, z []float64, n int, rnd *rand.Rand) (dz []float64, rel float64) {
	t.Helper()
	g := make([]float64, n*n)
	for i := range g {
		g[i] = rnd.NormFloat64()
	}
	w := NewWorkspace[float64](n)
	if _, err := w.Project(make([]float64, n*n), z, Options{Method: Exact}); err != nil {
		t.Fatal(err)
	}
	dz = make([]float64, n*n)
	w.Backward(dz, g)
	want, scale := fdGrad(z, g, n)
	for i := range dz {
		rel = math.Max(rel, math.Abs(want[i]-dz[i])/scale)
	}
	return dz, rel
}

// fdGrad returns the fourth-order central differences of ⟨G, P(z)⟩ for
// Exact's float64 map, and max(their largest magnitude, 1).
func fdGrad(z, g []float64, n int) (fd []float64, scale float64) {
	fd = make([]float64, n*n)
	zp := append([]float64(nil), z...)
	at := func(i int, h float64) float64 {
		zp[i] = z[i] + h
		defer func() { zp[i] = z[i] }()
		return loss(zp, g, n, Options{Method: Exact})
	}
	scale = 1
	for i := range z {
		fd[i] = (8*(at(i, fdStep)-at(i, -fdStep)) - (at(i, 2*fdStep) - at(i, -2*fdStep))) / (12 * fdStep)
		scale = math.Max(scale, math.Abs(fd[i]))
	}
	return fd, scale
}

// maxLineSum returns the largest |row or column sum| of the n×n m.
func maxLineSum[F Float](m []F, n int) float64 {
	var worst float64
	for i := 0; i < n; i++ {
		var r, c float64
		for j := 0; j < n; j++ {
			r += float64(m[i*n+j])
			c += float64(m[j*n+i])
		}
		worst = math.Max(worst, math.Max(math.Abs(r), math.Abs(c)))
	}
	return worst
}
