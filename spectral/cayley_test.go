package spectral

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestSkewOrder(t *testing.T) {
	// Source: Skew's documented order, written out for m = 3.
	got := Skew(nil, []float64{1, 2, 3}, 3)
	want := []float64{
		0, 1, 2,
		-1, 0, 3,
		-2, -3, 0,
	}
	if relErr(got, want) != 0 {
		t.Errorf("Skew = %v, want %v", got, want)
	}
	if SkewLen(15) != 105 || SkewLen(1) != 0 || SkewLen(0) != 0 {
		t.Errorf("SkewLen wrong")
	}
}

func TestCayleyClosedForm(t *testing.T) {
	// Source: for m = 2, A = [[0, t], [−t, 0]] and
	// U = [[1 − t², −2t], [2t, 1 − t²]]/(1 + t²), by hand.
	for _, z := range []float64{0, 0.3, -1.7, 5, 1e3, -1e8} {
		c := NewCayley[float64](2)
		u, err := c.Transform(nil, []float64{z})
		if err != nil {
			t.Fatal(err)
		}
		d := 1 + z*z
		want := []float64{(1 - z*z) / d, -2 * z / d, 2 * z / d, (1 - z*z) / d}
		if e := relErr(u, want); e > orthTol {
			t.Errorf("z=%g: U = %v, want %v (err %.2g)", z, u, want, e)
		}
	}
	// m = 1 and m = 0: U is the identity of that size.
	if u, err := NewCayley[float64](1).Transform(nil, nil); err != nil || len(u) != 1 || u[0] != 1 {
		t.Errorf("m=1: U = %v, %v", u, err)
	}
	if u, err := NewCayley[float64](0).Transform(nil, nil); err != nil || len(u) != 0 {
		t.Errorf("m=0: U = %v, %v", u, err)
	}
}

func TestCayleyOrthogonal(t *testing.T) {
	rng := newRand(10)
	for m := 1; m <= 15; m++ {
		c := NewCayley[float64](m)
		c32 := NewCayley[float32](m)
		// Scales above 1 exercise the Newton–Schulz refinement; 1e14 is the
		// documented limit.
		for _, scale := range []float64{0.01, 1, 10, 1e4, 1e10, 1e14} {
			z := randn(rng, SkewLen(m), scale)
			u, err := c.Transform(nil, z)
			if err != nil {
				t.Fatalf("m=%d scale=%g: %v", m, scale, err)
			}
			if d := orthDev(u, m); d > orthTol {
				t.Errorf("m=%d scale=%g: max|UᵀU − I| = %.2g", m, scale, d)
			}
			if scale > 1 {
				continue
			}
			// (I + A)·U = I − A, checked with gonum.
			a := mat.NewDense(m, m, Skew(nil, z, m))
			var lhs, rhs mat.Dense
			lhs.Mul(a, mat.NewDense(m, m, u))
			lhs.Add(&lhs, mat.NewDense(m, m, u))
			rhs.Sub(eye(m), a)
			if !mat.EqualApprox(&lhs, &rhs, orthTol) {
				t.Errorf("m=%d: (I + A)U ≠ I − A", m)
			}
			u32, err := c32.Transform(nil, to32(z))
			if err != nil {
				t.Fatal(err)
			}
			if d := orthDev(u32, m); d > orthTol32 {
				t.Errorf("m=%d float32: max|UᵀU − I| = %.2g", m, d)
			}
		}
	}
}

func eye(m int) *mat.Dense {
	e := mat.NewDense(m, m, nil)
	for i := 0; i < m; i++ {
		e.Set(i, i, 1)
	}
	return e
}

// denseCayley is the test's reference forward for an arbitrary (not
// necessarily skew) A: U = (I + A)⁻¹(I − A) by gonum's LU.
func denseCayley(a []float64, m int) []float64 {
	am := mat.NewDense(m, m, a)
	var p, q, u mat.Dense
	p.Add(eye(m), am)
	q.Sub(eye(m), am)
	if err := u.Solve(&p, &q); err != nil {
		panic(err)
	}
	return u.RawMatrix().Data
}

func TestCayleyBackward(t *testing.T) {
	rng := newRand(11)
	for _, m := range []int{2, 3, 5, 8} {
		for _, scale := range []float64{0.5, 3} {
			z := randn(rng, SkewLen(m), scale)
			g := randn(rng, m*m, 1) // random upstream gradient
			c := NewCayley[float64](m)
			if _, err := c.Transform(nil, z); err != nil {
				t.Fatal(err)
			}
			dz, err := c.Backward(nil, g)
			if err != nil {
				t.Fatal(err)
			}
			want := fdGradient(func(x []float64) float64 {
				u, err := NewCayley[float64](m).Transform(nil, x)
				if err != nil {
					panic(err)
				}
				return dot(g, u)
			}, z)
			if e := relErr(dz, want); e > gradTol {
				t.Errorf("m=%d scale=%g: ∂L/∂z rel err %.2g", m, scale, e)
			}
			// The dense gradient, against differences of the general formula
			// in every direction of R^{m×m}, skew or not.
			dA, err := c.BackwardA(nil, g)
			if err != nil {
				t.Fatal(err)
			}
			wantA := fdGradient(func(a []float64) float64 { return dot(g, denseCayley(a, m)) }, Skew(nil, z, m))
			if e := relErr(dA, wantA); e > gradTol {
				t.Errorf("m=%d scale=%g: ∂L/∂A rel err %.2g", m, scale, e)
			}
			// float32 agrees with float64.
			c32 := NewCayley[float32](m)
			if _, err := c32.Transform(nil, to32(z)); err != nil {
				t.Fatal(err)
			}
			dz32, _ := c32.Backward(nil, to32(g))
			if e := relErr(to64(dz32), dz); e > grad32Tol {
				t.Errorf("m=%d: float32 ∂L/∂z rel err %.2g", m, e)
			}
		}
	}
}

func TestCayleyErrors(t *testing.T) {
	c := NewCayley[float64](3)
	mustPanic(t, ErrNoForward, func() { _, _ = c.Backward(nil, make([]float64, 9)) })
	mustPanic(t, ErrShape, func() { _, _ = c.Transform(nil, make([]float64, 2)) })
	mustPanic(t, ErrShape, func() { NewCayley[float64](-1) })
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		dst := []float64{7, 7, 7, 7, 7, 7, 7, 7, 7}
		_, err := c.Transform(dst, []float64{0.1, bad, 0.2})
		if !errors.Is(err, ErrNonFinite) {
			t.Errorf("z with %v: error %v, want ErrNonFinite", bad, err)
		}
		for _, v := range dst {
			if v != 7 {
				t.Fatalf("dst written on error: %v", dst)
			}
		}
	}
	if _, err := c.Transform(nil, []float64{0.1, 0.2, 0.3}); err != nil {
		t.Fatal(err)
	}
	g := make([]float64, 9)
	g[4] = math.NaN()
	dz := []float64{7, 7, 7}
	if _, err := c.Backward(dz, g); !errors.Is(err, ErrNonFinite) || dz[0] != 7 {
		t.Errorf("Backward(NaN) = %v, dz = %v", err, dz)
	}
	// |z| = 1e300: either a refined orthogonal U or ErrRange, never garbage.
	rng := newRand(12)
	for m := 2; m <= 15; m++ {
		u, err := NewCayley[float64](m).Transform(nil, randn(rng, SkewLen(m), 1e300))
		switch {
		case errors.Is(err, ErrRange):
		case err != nil:
			t.Errorf("m=%d: unexpected error %v", m, err)
		default:
			if d := orthDev(u, m); d > orthTol {
				t.Errorf("m=%d |z|=1e300: accepted U with orthogonality error %.2g", m, d)
			}
		}
	}
}

func TestCayleyAllocs(t *testing.T) {
	rng := newRand(13)
	m := 15
	c := NewCayley[float32](m)
	z := to32(randn(rng, SkewLen(m), 1e3)) // exercises refinement
	g := to32(randn(rng, m*m, 1))
	u, dz := make([]float32, m*m), make([]float32, SkewLen(m))
	if a := testing.AllocsPerRun(20, func() {
		_, _ = c.Transform(u, z)
		_, _ = c.Backward(dz, g)
	}); a != 0 {
		t.Errorf("Cayley: %v allocs per run, want 0", a)
	}
}

func ExampleCayley() {
	// A rotation by 2·atan(z) in the plane: z = tan(π/8) gives 45°.
	c := NewCayley[float64](2)
	u, _ := c.Transform(nil, []float64{math.Tan(math.Pi / 8)})
	fmt.Printf("%.4f %.4f\n%.4f %.4f\n", u[0], u[1], u[2], u[3])
	// Output:
	// 0.7071 -0.7071
	// 0.7071 0.7071
}
