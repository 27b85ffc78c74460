package birkhoff

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/internal/logits"
)

// Tolerances, each with its reason.
const (
	// exact64 is the float64 floor the Exact mode promises for n ≤ 16.
	exact64 = 1e-13
	// exact32 is the float32 floor: a float32 marginal of 16 entries rounds
	// by up to 16·2⁻²⁴ ≈ 1e-6.
	exact32 = 2e-6
	// fdTol is the relative agreement of a backward pass with fourth-order
	// central differences at step fdStep (truncation O(h⁴) ≈ 1e-16, rounding
	// O(ε/h) ≈ 1e-12 plus Exact's own 1e-13 floor divided by h).
	fdTol  = 1e-6
	fdStep = 1e-4
	// zeroSum bounds the row and column sums of the implicit gradient, which
	// vanish in exact arithmetic.
	zeroSum = 1e-12
)

func gaussian(sigma float64) logits.Family { return logits.Gaussian(sigma) }

func toF[F Float](z []float64) []F {
	out := make([]F, len(z))
	for i, v := range z {
		out[i] = F(v)
	}
	return out
}

func TestExactFloors(t *testing.T) {
	t.Run("float64", func(t *testing.T) { testExactFloor[float64](t, exact64) })
	t.Run("float32", func(t *testing.T) { testExactFloor[float32](t, exact32) })
}

func testExactFloor[F Float](t *testing.T, tol float64) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var worst float64
	defer func() { t.Logf("worst deviation over all n and families: %.3g (bound %g)", worst, tol) }()
	for _, n := range []int{2, 3, 4, 8, 16} {
		for _, fam := range logits.Exactness() {
			if n < fam.MinN {
				continue
			}
			for trial := 0; trial < 5; trial++ {
				z := toF[F](fam.Gen(rnd, n))
				dst := make([]F, n*n)
				st, err := Project(dst, z, n, Options{Method: Exact})
				if err != nil {
					t.Fatalf("n=%d %s: %v", n, fam.Name, err)
				}
				worst = math.Max(worst, st.Deviation)
				if !st.Converged || st.Deviation > tol {
					t.Errorf("n=%d %s: %+v, want deviation ≤ %g", n, fam.Name, st, tol)
				}
				if d := Deviation(dst, n); d != st.Deviation {
					t.Errorf("n=%d %s: Stats.Deviation %g != Deviation %g", n, fam.Name, st.Deviation, d)
				}
				for _, v := range dst {
					if !(v >= 0) {
						t.Fatalf("n=%d %s: negative or NaN entry %v", n, fam.Name, v)
					}
				}
			}
		}
	}
}

// TestFixedWorkedExample reproduces the mHC-lite paper's example (SPEC §4):
// exp(Z) = [[0.5,ε,ε],[0.5,ε,ε],[ε,1,1]], ε = 1e-13, 20 paper sweeps. Rows
// are exact, column sums are (1.8197, 0.5901, 0.5901) (measured, SPEC §4).
func TestFixedWorkedExample(t *testing.T) {
	const eps = 1e-13
	e := []float64{0.5, eps, eps, 0.5, eps, eps, eps, 1, 1}
	z := make([]float64, 9)
	for i, v := range e {
		z[i] = math.Log(v)
	}
	p := make([]float64, 9)
	st, err := Project(p, z, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.8197, 0.5901, 0.5901}
	for j := 0; j < 3; j++ {
		c := p[j] + p[3+j] + p[6+j]
		if math.Abs(c-want[j]) > 0.5e-4 {
			t.Errorf("column %d sum %.6f, want %.4f", j, c, want[j])
		}
	}
	for i := 0; i < 3; i++ {
		r := p[3*i] + p[3*i+1] + p[3*i+2]
		if math.Abs(r-1) > 1e-15 {
			t.Errorf("row %d sum %v, want 1", i, r)
		}
	}
	if st.Converged || st.Iterations != 20 || math.Abs(st.Deviation-0.8197) > 1e-4 {
		t.Errorf("stats %+v: want 20 iterations, deviation ≈ 0.8197, not converged", st)
	}
}

// TestFixedInit reproduces the reference-code init of mHC (SPEC §3.2):
// logits 0 on the diagonal and −8 off it, n = 4, 20 sweeps give diag
// 0.998995 and off-diagonal 3.351e-4 (measured).
func TestFixedInit(t *testing.T) {
	const n = 4
	z := make([]float64, n*n)
	for i := range z {
		if i%(n+1) != 0 {
			z[i] = -8
		}
	}
	p := make([]float64, n*n)
	if _, err := Project(p, z, n, Options{}); err != nil {
		t.Fatal(err)
	}
	for i, v := range p {
		want, tol := 3.351e-4, 0.5e-7
		if i%(n+1) == 0 {
			want, tol = 0.998995, 0.5e-6
		}
		if math.Abs(v-want) > tol {
			t.Errorf("entry %d = %.7g, want %g", i, v, want)
		}
	}
}

// TestFixedMatchesNaive checks the scaling-domain and log-domain sweeps
// against a literal transcription of the paper's algorithm.
func TestFixedMatchesNaive(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 5, 8} {
		for _, iters := range []int{1, 3, 20} {
			z := gaussian(2).Gen(rnd, n)
			want := naiveSinkhorn(z, n, iters)
			got := make([]float64, n*n)
			if _, err := Project(got, z, n, Options{Iterations: iters}); err != nil {
				t.Fatal(err)
			}
			// Force the log domain with the same map shifted per column by a
			// constant: Fixed is invariant to column shifts.
			zl := append([]float64(nil), z...)
			for i := 0; i < n; i++ {
				zl[i*n] += 0 // column 0 unchanged
			}
			zl[0] -= 0
			for j := 0; j < n; j++ {
				for i := 0; i < n; i++ {
					zl[i*n+j] += 700 * float64(j)
				}
			}
			gotLog := make([]float64, n*n)
			if _, err := Project(gotLog, zl, n, Options{Iterations: iters}); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-14 || math.Abs(gotLog[i]-want[i]) > 1e-13 {
					t.Fatalf("n=%d iters=%d entry %d: scaling %v log %v, want %v", n, iters, i, got[i], gotLog[i], want[i])
				}
			}
		}
	}
}

// naiveSinkhorn is the mHC paper's Sinkhorn-Knopp written out: M⁰ = exp(Z),
// then sweeps of column- then row-normalisation.
func naiveSinkhorn(z []float64, n, sweeps int) []float64 {
	m := make([]float64, n*n)
	for i, v := range z {
		m[i] = math.Exp(v)
	}
	for s := 0; s < sweeps; s++ {
		for j := 0; j < n; j++ {
			var c float64
			for i := 0; i < n; i++ {
				c += m[i*n+j]
			}
			for i := 0; i < n; i++ {
				m[i*n+j] /= c
			}
		}
		for i := 0; i < n; i++ {
			var r float64
			for j := 0; j < n; j++ {
				r += m[i*n+j]
			}
			for j := 0; j < n; j++ {
				m[i*n+j] /= r
			}
		}
	}
	return m
}

func TestTolerance(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, tol := range []float64{1e-3, 1e-8, 1e-12} {
		for _, n := range []int{2, 4, 8} {
			z := gaussian(1).Gen(rnd, n)
			p := make([]float64, n*n)
			st, err := Project(p, z, n, Options{Method: Tolerance, Tol: tol})
			if err != nil {
				t.Fatal(err)
			}
			if !st.Converged || st.Deviation > tol {
				t.Errorf("tol=%g n=%d: %+v", tol, n, st)
			}
		}
	}
	// A capped run reports honestly that it did not converge.
	z := logits.NoMatching(30).Gen(rnd, 4)
	p := make([]float64, 16)
	st, err := Project(p, z, 4, Options{Method: Tolerance, Tol: 1e-12, MaxIter: 5})
	if err != nil {
		t.Fatal(err)
	}
	if st.Converged || st.Iterations != 5 || st.Deviation <= 1e-12 {
		t.Errorf("capped run: %+v, want 5 iterations, not converged", st)
	}
}

// TestExactMatchesLongSinkhorn: the Newton solution is the Sinkhorn limit.
func TestExactMatchesLongSinkhorn(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{2, 4, 8} {
		z := gaussian(1).Gen(rnd, n)
		a := make([]float64, n*n)
		b := make([]float64, n*n)
		if _, err := Project(a, z, n, Options{Method: Exact}); err != nil {
			t.Fatal(err)
		}
		if _, err := Project(b, z, n, Options{Method: Tolerance, Tol: 1e-15}); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 1e-13 {
				t.Fatalf("n=%d entry %d: exact %v, sinkhorn limit %v", n, i, a[i], b[i])
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		z := []float64{0, 1, 2, bad}
		dst := []float64{7, 7, 7, 7}
		for _, m := range []Method{Fixed, Tolerance, Exact} {
			_, err := Project(dst, z, 2, Options{Method: m})
			if !errors.Is(err, ErrNonFinite) {
				t.Errorf("%v logit, %v: err = %v, want ErrNonFinite", bad, m, err)
			}
			for _, v := range dst {
				if v != 7 {
					t.Fatalf("dst touched on error: %v", dst)
				}
			}
		}
	}
	z := []float64{-1e308, 1e308, 0, 0}
	if _, err := Project(make([]float64, 4), z, 2, Options{}); !errors.Is(err, ErrNonFinite) {
		t.Errorf("range 2e308: err = %v, want ErrNonFinite", err)
	}
	for _, opt := range []Options{{Method: 7}, {Iterations: -1}, {MaxIter: -1}, {Tol: -1}, {Tol: math.NaN()}} {
		if _, err := Project(make([]float64, 4), make([]float64, 4), 2, opt); !errors.Is(err, ErrMethod) {
			t.Errorf("%+v: err = %v, want ErrMethod", opt, err)
		}
	}
	for _, c := range []struct {
		dst, z []float64
		n      int
	}{{make([]float64, 4), make([]float64, 3), 2}, {make([]float64, 3), make([]float64, 4), 2}, {nil, nil, 0}} {
		func() {
			defer func() {
				if r := recover(); r != ErrShape {
					t.Errorf("len %d/%d n=%d: recovered %v, want ErrShape", len(c.dst), len(c.z), c.n, r)
				}
			}()
			_, _ = Project(c.dst, c.z, c.n, Options{})
		}()
	}
}

func TestAllocs(t *testing.T) {
	const n = 8
	rnd := rand.New(rand.NewPCG(9, 10))
	z := gaussian(2).Gen(rnd, n)
	g := gaussian(1).Gen(rnd, n)
	dst := make([]float64, n*n)
	dz := make([]float64, n*n)
	for _, m := range []Method{Fixed, Tolerance, Exact} {
		w := NewWorkspace[float64](n)
		opt := Options{Method: m}
		if _, err := w.Project(dst, z, opt); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			_, _ = w.Project(dst, z, opt)
			w.Backward(dz, g)
		})
		if allocs != 0 {
			t.Errorf("%v: %v allocs per Project+Backward, want 0", m, allocs)
		}
	}
}

// TestExactSteps checks the Newton phase converges quadratically: SPEC §4
// measured a median of 3–5 steps to 1e-14 for n ≤ 16.
func TestExactSteps(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	for _, n := range []int{2, 4, 8, 16} {
		var steps []int
		for _, fam := range []logits.Family{gaussian(1), gaussian(3), gaussian(5), logits.NearIdentity()} {
			for trial := 0; trial < 20; trial++ {
				p := make([]float64, n*n)
				st, err := Project(p, fam.Gen(rnd, n), n, Options{Method: Exact})
				if err != nil {
					t.Fatal(err)
				}
				steps = append(steps, st.Iterations)
			}
		}
		slices.Sort(steps)
		med := steps[len(steps)/2]
		t.Logf("n=%d: iterations (1 sweep + Newton steps) median %d, max %d", n, med, steps[len(steps)-1])
		if med > 6 {
			t.Errorf("n=%d: median %d iterations, want ≤ 6 (1 sweep + ≤ 5 Newton steps)", n, med)
		}
	}
}
