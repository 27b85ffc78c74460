package spectral

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// shapes of the random matrices compared with gonum.
var shapes = [][2]int{
	{1, 1}, {1, 2}, {1, 7}, {2, 1}, {9, 1}, {2, 2}, {2, 3}, {3, 2}, {3, 3},
	{4, 4}, {5, 3}, {3, 8}, {8, 8}, {16, 16}, {7, 16}, {20, 6}, {33, 33},
}

func TestNormAgainstGonum(t *testing.T) {
	rng := newRand(1)
	for _, sh := range shapes {
		r, c := sh[0], sh[1]
		for trial := 0; trial < 20; trial++ {
			var m []float64
			switch trial % 4 {
			case 0, 1: // dense Gaussian
				m = randn(rng, r*c, 1)
			case 2: // rank-deficient: a product through a rank-k bottleneck
				k := max(1, min(r, c)/2)
				a, b := randn(rng, r*k, 1), randn(rng, k*c, 1)
				m = make([]float64, r*c)
				mul(m, a, b, r, k, c)
			case 3: // graded scales, far from 1
				m = randn(rng, r*c, math.Pow(10, float64(rng.IntN(400)-200)))
			}
			checkValues(t, m, r, c)
		}
		checkValues(t, make([]float64, r*c), r, c) // the zero matrix
	}
}

func checkValues(t *testing.T, m []float64, r, c int) {
	t.Helper()
	want := gonumValues(t, m, r, c)
	got := Values(nil, m, r, c)
	norm := Norm(m, r, c)
	if want[0] == 0 {
		if norm != 0 || maxAbs(got) != 0 {
			t.Errorf("%d×%d zero matrix: Norm = %g, Values = %v", r, c, norm, got)
		}
		return
	}
	if e := math.Abs(norm-want[0]) / want[0]; e > gonumRelTol {
		t.Errorf("%d×%d: Norm = %v, gonum σ₁ = %v, rel err %.2g", r, c, norm, want[0], e)
	}
	for i := range want {
		if e := math.Abs(got[i]-want[i]) / want[0]; e > valuesAbsTol {
			t.Errorf("%d×%d: σ[%d] = %v, gonum %v, err/σ₁ %.2g", r, c, i, got[i], want[i], e)
		}
	}
	if mv := MinValue(m, r, c); math.Abs(mv-want[len(want)-1]) > valuesAbsTol*want[0] {
		t.Errorf("%d×%d: MinValue = %v, gonum %v", r, c, mv, want[len(want)-1])
	}
	var s SVD[float64]
	if err := s.Factorize(m, r, c); err != nil {
		t.Fatal(err)
	}
	if e := math.Abs(s.Norm()-want[0]) / want[0]; e > gonumRelTol {
		t.Errorf("%d×%d: SVD.Norm rel err %.2g", r, c, e)
	}
}

func TestNormSpecialCases(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name string
		m    []float64
		want float64 // source: Norm's documented special cases, and hand values
	}{
		{"nan", []float64{1, nan, 2, 3}, nan},
		{"inf", []float64{1, -inf, 2, 3}, inf},
		{"nan and inf", []float64{inf, nan, 2, 3, 4, 5}, nan},
		{"zero", []float64{0, 0, 0, 0}, 0},
		// σ₁([[a, a], [a, a]]) = 2a overflows for a = 1e308.
		{"overflow", []float64{1e308, 1e308, 1e308, 1e308}, inf},
		// σ₁ of diag(3e-310, 1e-310) is the larger subnormal, exactly.
		{"subnormal", []float64{3e-310, 0, 0, 1e-310}, 3e-310},
		// σ₁ of 1e300·[[3, 0, 0], [0, 4, 0], [0, 0, 1]] is 4e300: no overflow in
		// the squares.
		{"huge", []float64{3e300, 0, 0, 0, 4e300, 0, 0, 0, 1e300}, 4e300},
	} {
		rows := 2
		if len(tc.m) == 9 {
			rows = 3
		}
		got := Norm(tc.m, rows, len(tc.m)/rows)
		if !(got == tc.want || math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("%s: Norm = %v, want %v", tc.name, got, tc.want)
		}
	}
	if v := Values(nil, []float64{1, math.Inf(-1)}, 1, 2); !math.IsNaN(v[0]) {
		t.Errorf("Values of a non-finite matrix = %v, want NaN", v)
	}
	if v := MinValue([]float64{1, math.NaN()}, 2, 1); !math.IsNaN(v) {
		t.Errorf("MinValue of a non-finite matrix = %v, want NaN", v)
	}
}

func TestNormHandValues(t *testing.T) {
	for _, tc := range []struct {
		m          []float64
		rows, cols int
		want       float64 // source: closed forms stated per case
	}{
		// [[1, 1], [0, 1]]: σ₁ = (1+√5)/2, the golden ratio.
		{[]float64{1, 1, 0, 1}, 2, 2, (1 + math.Sqrt(5)) / 2},
		// A row vector: its Euclidean norm, 13.
		{[]float64{3, 4, 12}, 1, 3, 13},
		// A column vector: its Euclidean norm, 5.
		{[]float64{-3, 4}, 2, 1, 5},
		// The 3×3 all-ones matrix: 3 (rank one, 11ᵀ, ‖1‖² = 3).
		{[]float64{1, 1, 1, 1, 1, 1, 1, 1, 1}, 3, 3, 3},
	} {
		if got := Norm(tc.m, tc.rows, tc.cols); math.Abs(got-tc.want) > gonumRelTol*tc.want {
			t.Errorf("Norm(%v) = %v, want %v", tc.m, got, tc.want)
		}
	}
	// The mHC Fig. 8 HC matrix (SPEC §6): Norm(M) = Norm(Mᵀ), and gonum agrees.
	fig8 := []float64{5.43, 4.43, 4.43, 4.43, -4.07, -3.07, -4.07, -4.07, -3.95, -3.95, -2.95, -3.95, -4.22, -4.22, -4.22, -3.22}
	tr := make([]float64, 16)
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			tr[j*4+i] = fig8[i*4+j]
		}
	}
	if a, b := Norm(fig8, 4, 4), Norm(tr, 4, 4); math.Abs(a-b) > gonumRelTol*a {
		t.Errorf("Norm(M) = %v ≠ Norm(Mᵀ) = %v", a, b)
	}
	checkValues(t, fig8, 4, 4)
}

func TestNormFloat32(t *testing.T) {
	rng := newRand(2)
	for _, sh := range shapes {
		m32 := to32(randn(rng, sh[0]*sh[1], 1))
		got, want := Norm(m32, sh[0], sh[1]), Norm(to64(m32), sh[0], sh[1])
		if got != want {
			t.Errorf("%v: Norm[float32] = %v, Norm of the same values in float64 = %v", sh, got, want)
		}
	}
}

func TestSVDVectors(t *testing.T) {
	rng := newRand(3)
	for _, sh := range shapes {
		r, c := sh[0], sh[1]
		m := randn(rng, r*c, 1)
		var s SVD[float64]
		if err := s.Factorize(m, r, c); err != nil {
			t.Fatal(err)
		}
		k := min(r, c)
		sv := s.Values(nil)
		us, vs := make([][]float64, k), make([][]float64, k)
		for i := 0; i < k; i++ {
			us[i], vs[i] = s.LeftTo(nil, i), s.RightTo(nil, i)
			// A·vᵢ = σᵢ·uᵢ
			av := make([]float64, r)
			mul(av, m, vs[i], r, c, 1)
			for j := range av {
				if d := math.Abs(av[j] - sv[i]*us[i][j]); d > vectorTol*sv[0] {
					t.Errorf("%d×%d: (A·v%d − σu%d)[%d] = %.2g", r, c, i, i, j, d)
				}
			}
		}
		for i := 0; i < k; i++ {
			for j := 0; j < k; j++ {
				want := 0.0
				if i == j {
					want = 1
				}
				if d := math.Abs(dot(us[i], us[j]) - want); d > vectorTol {
					t.Errorf("%d×%d: u%d·u%d off by %.2g", r, c, i, j, d)
				}
				if d := math.Abs(dot(vs[i], vs[j]) - want); d > vectorTol {
					t.Errorf("%d×%d: v%d·v%d off by %.2g", r, c, i, j, d)
				}
			}
		}
	}
}

func TestSVDErrors(t *testing.T) {
	var s SVD[float64]
	mustPanic(t, ErrNoForward, func() { s.Norm() })
	if err := s.Factorize([]float64{1, 2, 3, 4}, 2, 2); err != nil {
		t.Fatal(err)
	}
	before := s.Values(nil)
	err := s.Factorize([]float64{1, math.NaN(), 3}, 3, 1)
	if !errors.Is(err, ErrNonFinite) {
		t.Fatalf("Factorize(NaN) error = %v, want ErrNonFinite", err)
	}
	if after := s.Values(nil); relErr(after, before) != 0 {
		t.Errorf("failed Factorize changed the receiver: %v → %v", before, after)
	}
	mustPanic(t, ErrShape, func() { s.LeftTo(nil, 2) })
	mustPanic(t, ErrShape, func() { s.Values(make([]float64, 3)) })
	mustPanic(t, ErrShape, func() { Norm([]float64{1, 2, 3}, 2, 2) })
	mustPanic(t, ErrShape, func() { Norm([]float64{}, 0, 0) })
	mustPanic(t, ErrShape, func() { DistJ([]float64{1, 2}, 1) })
}

func TestEffectiveRank(t *testing.T) {
	// Sources: the definition exp(−Σ pᵢ log pᵢ), pᵢ = σᵢ/Σσ, evaluated by hand.
	p := []float64{0.75, 0.25}
	diag31 := math.Exp(-(p[0]*math.Log(p[0]) + p[1]*math.Log(p[1]))) // 1.7548…
	for _, tc := range []struct {
		name string
		m    []float64
		n    int
		want float64
	}{
		{"identity", []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3},
		{"rotation·5", []float64{0, -5, 5, 0}, 2, 2},
		{"rank one", []float64{1, 2, 3, 2, 4, 6, -1, -2, -3}, 3, 1},
		{"diag(3,1)", []float64{3, 0, 0, 1}, 2, diag31},
		{"diag(1,1,0)", []float64{1, 0, 0, 0, 1, 0, 0, 0, 0}, 3, 2},
		{"zero", []float64{0, 0, 0, 0}, 2, 0},
	} {
		if got := EffectiveRank(tc.m, tc.n, tc.n); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: EffectiveRank = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := EffectiveRank([]float64{math.Inf(1), 0, 0, 1}, 2, 2); !math.IsNaN(got) {
		t.Errorf("EffectiveRank(Inf) = %v, want NaN", got)
	}
}

func TestDistJ(t *testing.T) {
	for n := 1; n <= 6; n++ {
		id := make([]float64, n*n)
		j := make([]float64, n*n)
		for i := range j {
			j[i] = 1 / float64(n)
		}
		for i := 0; i < n; i++ {
			id[i*n+i] = 1
		}
		// I − J is the projector onto 1^⊥: norm 1 for n ≥ 2 and 0 for n = 1.
		want := 1.0
		if n == 1 {
			want = 0
		}
		if got := DistJ(id, n); math.Abs(got-want) > 1e-15 {
			t.Errorf("n=%d: DistJ(I) = %v, want %v", n, got, want)
		}
		if got := DistJ(j, n); got > 1e-15 {
			t.Errorf("n=%d: DistJ(J) = %v, want 0", n, got)
		}
	}
	if got := DistJ([]float64{math.NaN()}, 1); !math.IsNaN(got) {
		t.Errorf("DistJ(NaN) = %v", got)
	}
}

func TestNormAllocs(t *testing.T) {
	rng := newRand(4)
	for _, n := range []int{2, 4, 16} {
		m := randn(rng, n*n, 1)
		dst := make([]float64, n)
		var s SVD[float64]
		_ = s.Factorize(m, n, n)
		u := make([]float64, n)
		for name, f := range map[string]func(){
			"Norm":          func() { Norm(m, n, n) },
			"Values":        func() { Values(dst, m, n, n) },
			"MinValue":      func() { MinValue(m, n, n) },
			"EffectiveRank": func() { EffectiveRank(m, n, n) },
			"DistJ":         func() { DistJ(m, n) },
			"SVD":           func() { _ = s.Factorize(m, n, n); s.LeftTo(u, 0); s.RightTo(u, 0) },
		} {
			if a := testing.AllocsPerRun(20, f); a != 0 {
				t.Errorf("%s n=%d: %v allocs per run, want 0", name, n, a)
			}
		}
	}
}

func TestJacobiSweeps(t *testing.T) {
	// The sweep count is the cost model in SVD.Factorize's doc comment.
	rng := newRand(5)
	for _, n := range []int{4, 16, 64} {
		a := randn(rng, n*n, 1)
		if s := jacobi(a, n, n, nil, nil); s > 12 {
			t.Errorf("n=%d: %d sweeps, documented ≤ 12", n, s)
		}
	}
}

func ExampleNorm() {
	// [[1, 1], [0, 1]] stretches by the golden ratio.
	m := []float64{
		1, 1,
		0, 1,
	}
	fmt.Printf("%.12f\n", Norm(m, 2, 2))
	// Output:
	// 1.618033988750
}

func ExampleValues() {
	m := []float32{
		3, 0, 0,
		0, -5, 0,
	}
	fmt.Println(Values(nil, m, 2, 3))
	// Output:
	// [5 3]
}
