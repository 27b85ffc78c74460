package spectral

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestNormalizerRadius(t *testing.T) {
	rng := newRand(40)
	for n := 1; n <= 16; n++ {
		z := NewNormalizer[float64](n)
		for _, r := range []float64{1, 0.5, 3, -2} {
			a := randn(rng, n*n, math.Pow(10, float64(rng.IntN(20)-10)))
			h, err := z.Forward(nil, a, r)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(Norm(h, n, n)-math.Abs(r)) / math.Abs(r); d > radiusTol {
				t.Errorf("n=%d r=%g: |‖H‖₂ − |r||/|r| = %.2g", n, r, d)
			}
			if d := math.Abs(z.Sigma()-Norm(a, n, n)) / z.Sigma(); d > radiusTol {
				t.Errorf("n=%d: Sigma = %v, Norm = %v", n, z.Sigma(), Norm(a, n, n))
			}
		}
	}
	// float32 output lands on the sphere to float32 precision.
	z32 := NewNormalizer[float32](6)
	h32, err := z32.Forward(nil, to32(randn(rng, 36, 1)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(Norm(h32, 6, 6) - 1); d > sphereTol32 {
		t.Errorf("float32: |‖H‖₂ − 1| = %.2g", d)
	}
}

func TestNormalizerBackward(t *testing.T) {
	rng := newRand(41)
	for _, n := range []int{1, 2, 4, 8, 16} {
		for _, r := range []float64{1, 2.5} {
			a := randn(rng, n*n, 1)
			g := randn(rng, n*n, 1) // random upstream gradient
			z := NewNormalizer[float64](n)
			if _, err := z.Forward(nil, a, r); err != nil {
				t.Fatal(err)
			}
			got, err := z.Backward(nil, g)
			if err != nil {
				t.Fatal(err)
			}
			f := NewNormalizer[float64](n)
			want := fdGradient(func(x []float64) float64 {
				h, err := f.Forward(nil, x, r)
				if err != nil {
					panic(err)
				}
				return dot(g, h)
			}, a)
			if e := relErr(got, want); e > gradTol {
				t.Errorf("n=%d r=%g: ∂L/∂A rel err %.2g", n, r, e)
			}
			// The radial direction is invariant: ⟨∂L/∂A, A⟩ = 0 since H(cA) = H(A).
			if d := math.Abs(dot(got, a)) / (math.Sqrt(dot(got, got) * dot(a, a))); d > 1e-13 {
				t.Errorf("n=%d: ⟨∂L/∂A, A⟩ relative %.2g, want 0", n, d)
			}
		}
	}
}

func TestNormalizerErrors(t *testing.T) {
	z := NewNormalizer[float64](2)
	mustPanic(t, ErrNoForward, func() { _, _ = z.Backward(nil, make([]float64, 4)) })
	mustPanic(t, ErrShape, func() { _, _ = z.Forward(nil, make([]float64, 3), 1) })
	for _, tc := range []struct {
		name string
		a    []float64
		r    float64
		want error
	}{
		{"zero", []float64{0, 0, 0, 0}, 1, ErrZeroNorm},
		{"NaN", []float64{1, math.NaN(), 0, 0}, 1, ErrNonFinite},
		{"Inf", []float64{1, 0, math.Inf(-1), 0}, 1, ErrNonFinite},
		{"NaN r", []float64{1, 0, 0, 1}, math.NaN(), ErrNonFinite},
		{"Inf r", []float64{1, 0, 0, 1}, math.Inf(1), ErrNonFinite},
	} {
		dst := []float64{7, 7, 7, 7}
		if _, err := z.Forward(dst, tc.a, tc.r); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		if dst[0] != 7 || dst[3] != 7 {
			t.Errorf("%s: dst written on error", tc.name)
		}
	}
	// σ₁ = 2e308 overflows float64, but H = A/σ₁ = J is fine.
	if h, err := z.Forward(nil, []float64{1e308, 1e308, 1e308, 1e308}, 1); err != nil || math.Abs(h[0]-0.5) > radiusTol || !math.IsInf(z.Sigma(), 1) {
		t.Errorf("σ₁ overflow: H = %v, Sigma = %v, error %v", h, z.Sigma(), err)
	}
	// r·A/σ₁ is finite in float64 but not in float32.
	if _, err := NewNormalizer[float32](2).Forward(nil, []float32{1, 0, 0, 1}, 1e39); !errors.Is(err, ErrRange) {
		t.Errorf("float32 overflow: error %v, want ErrRange", err)
	}
	if _, err := z.Forward(nil, []float64{1, 2, 3, 4}, 1); err != nil {
		t.Fatal(err)
	}
	dst := []float64{7, 7, 7, 7}
	if _, err := z.Backward(dst, []float64{0, math.Inf(1), 0, 0}); !errors.Is(err, ErrNonFinite) || dst[1] != 7 {
		t.Errorf("Backward(Inf) = %v, dst %v", err, dst)
	}
}

func TestNormalizerAllocs(t *testing.T) {
	rng := newRand(42)
	n := 16
	a, g := to32(randn(rng, n*n, 1)), to32(randn(rng, n*n, 1))
	z := NewNormalizer[float32](n)
	h, ga := make([]float32, n*n), make([]float32, n*n)
	if al := testing.AllocsPerRun(20, func() {
		_, _ = z.Forward(h, a, 1)
		_, _ = z.Backward(ga, g)
	}); al != 0 {
		t.Errorf("%v allocs per forward+backward, want 0", al)
	}
}

func ExampleNormalizer() {
	// Scale an unconstrained matrix onto the sphere of radius 1.
	a := []float64{
		2, 1,
		0, 2,
	}
	z := NewNormalizer[float64](2)
	h, err := z.Forward(nil, a, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("σ₁(A) = %.6f, ‖H‖₂ = %.6f\n", z.Sigma(), Norm(h, 2, 2))
	// Output:
	// σ₁(A) = 2.561553, ‖H‖₂ = 1.000000
}
