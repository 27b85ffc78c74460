package spectral

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// sphereParams draws z_U, z_V ~ N(0, 1) and σ = tanh(2·N(0, 1)), the range the
// sHC mixer feeds (|σ| < 1).
func sphereParams(rng *rand.Rand, n int) (zu, zv, sig []float64) {
	m := n - 1
	zu, zv = randn(rng, SkewLen(m), 1), randn(rng, SkewLen(m), 1)
	sig = randn(rng, m, 2)
	for i := range sig {
		sig[i] = math.Tanh(sig[i])
	}
	return zu, zv, sig
}

func TestSphereGuarantees(t *testing.T) {
	rng := newRand(20)
	for n := 1; n <= 16; n++ {
		s := NewSphere[float64](n)
		s32 := NewSphere[float32](n)
		for trial := 0; trial < 10; trial++ {
			zu, zv, sig := sphereParams(rng, n)
			if trial == 1 {
				// σ on the ±1 boundary.
				for i := range sig {
					sig[i] = float64(1 - 2*rng.IntN(2))
				}
			}
			h, err := s.Forward(nil, zu, zv, sig)
			if err != nil {
				t.Fatal(err)
			}
			if d := sumsDev(h, n); d > sphereTol64 {
				t.Errorf("n=%d: row/column sums off by %.2g", n, d)
			}
			if d := math.Abs(Norm(h, n, n) - 1); d > sphereTol64 {
				t.Errorf("n=%d: |‖H‖₂ − 1| = %.2g", n, d)
			}
			// Singular values {1} ∪ {|σᵢ|}, and ‖H − J‖₂ = max|σᵢ|.
			want := []float64{1}
			for _, v := range sig {
				want = append(want, math.Abs(v))
			}
			sort.Sort(sort.Reverse(sort.Float64Slice(want)))
			if e := relErr(Values(nil, h, n, n), want); e > spectrumTol {
				t.Errorf("n=%d: singular values off {1} ∪ {|σ|} by %.2g", n, e)
			}
			if n > 1 {
				if d := math.Abs(DistJ(h, n) - maxAbs(sig)); d > spectrumTol {
					t.Errorf("n=%d: DistJ(H) − max|σ| = %.2g", n, d)
				}
			}
			h32, err := s32.Forward(nil, to32(zu), to32(zv), to32(sig))
			if err != nil {
				t.Fatal(err)
			}
			if d := sumsDev(h32, n); d > sphereTol32 {
				t.Errorf("n=%d float32: row/column sums off by %.2g", n, d)
			}
			if d := math.Abs(Norm(h32, n, n) - 1); d > sphereTol32 {
				t.Errorf("n=%d float32: |‖H‖₂ − 1| = %.2g", n, d)
			}
		}
	}
}

func TestSphereIdentities(t *testing.T) {
	// n = 1: H = [1] (SPEC §3.4 with m = 0).
	h, err := NewSphere[float32](1).Forward(nil, nil, nil, nil)
	if err != nil || len(h) != 1 || h[0] != 1 {
		t.Errorf("n=1: H = %v, %v", h, err)
	}
	// z = 0, σ = 1: U = V = I and H = J + U_zU_zᵀ = I.
	n := 5
	id, err := NewSphere[float64](n).Forward(nil, make([]float64, 6), make([]float64, 6), []float64{1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			want := 0.0
			if i == j {
				want = 1
			}
			if math.Abs(id[i*n+j]-want) > sphereTol64 {
				t.Fatalf("σ = 1, z = 0: H ≠ I: %v", id)
			}
		}
	}
	// SPEC §3.4 init at n = 4: z = 0, σ = tanh(4) gives diag 0.999497 and
	// off-diagonal 1.677e-4 (measured).
	sig := math.Tanh(4)
	h4, err := NewSphere[float64](4).Forward(nil, make([]float64, 3), make([]float64, 3), []float64{sig, sig, sig})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(h4[0]-0.999497) > specTol || math.Abs(h4[1]-1.677e-4) > specTol {
		t.Errorf("init H: diag %.6f, off %.4g; SPEC says 0.999497, 1.677e-4", h4[0], h4[1])
	}
}

func TestSphereClosure(t *testing.T) {
	rng := newRand(21)
	for _, n := range []int{2, 4, 16} {
		s := NewSphere[float64](n)
		prod := make([]float64, n*n)
		for i := 0; i < n; i++ {
			prod[i*n+i] = 1
		}
		tmp := make([]float64, n*n)
		for k := 0; k < 64; k++ {
			zu, zv, sig := sphereParams(rng, n)
			h, err := s.Forward(nil, zu, zv, sig)
			if err != nil {
				t.Fatal(err)
			}
			mul(tmp, h, prod, n, n, n)
			prod, tmp = tmp, prod
		}
		if d := sumsDev(prod, n); d > productTol {
			t.Errorf("n=%d: product of 64: sums off by %.2g", n, d)
		}
		// Π·1 = 1 forces σ₁ ≥ 1 and each factor has norm 1, so σ₁ = 1.
		if d := math.Abs(Norm(prod, n, n) - 1); d > productTol {
			t.Errorf("n=%d: product of 64: |‖Π‖₂ − 1| = %.2g", n, d)
		}
	}
}

// flatten concatenates the sHC parameters for finite differences.
func flatten(zu, zv, sig []float64) []float64 {
	return append(append(append([]float64(nil), zu...), zv...), sig...)
}

func TestSphereBackward(t *testing.T) {
	rng := newRand(22)
	for _, n := range []int{2, 3, 4, 7, 16} {
		m := n - 1
		l := SkewLen(m)
		zu, zv, sig := sphereParams(rng, n)
		g := randn(rng, n*n, 1) // random upstream gradient
		s := NewSphere[float64](n)
		if _, err := s.Forward(nil, zu, zv, sig); err != nil {
			t.Fatal(err)
		}
		dzu, dzv, ds := make([]float64, l), make([]float64, l), make([]float64, m)
		if err := s.Backward(dzu, dzv, ds, g); err != nil {
			t.Fatal(err)
		}
		f := NewSphere[float64](n)
		want := fdGradient(func(x []float64) float64 {
			h, err := f.Forward(nil, x[:l], x[l:2*l], x[2*l:])
			if err != nil {
				panic(err)
			}
			return dot(g, h)
		}, flatten(zu, zv, sig))
		if e := relErr(flatten(dzu, dzv, ds), want); e > gradTol {
			t.Errorf("n=%d: gradient rel err %.2g", n, e)
		}
		// float32 agrees with float64.
		s32 := NewSphere[float32](n)
		if _, err := s32.Forward(nil, to32(zu), to32(zv), to32(sig)); err != nil {
			t.Fatal(err)
		}
		du32, dv32, ds32 := make([]float32, l), make([]float32, l), make([]float32, m)
		if err := s32.Backward(du32, dv32, ds32, to32(g)); err != nil {
			t.Fatal(err)
		}
		if e := relErr(flatten(to64(du32), to64(dv32), to64(ds32)), flatten(dzu, dzv, ds)); e > grad32Tol {
			t.Errorf("n=%d: float32 gradient rel err %.2g", n, e)
		}
	}
}

func TestSphereErrors(t *testing.T) {
	n := 4
	s := NewSphere[float64](n)
	mustPanic(t, ErrNoForward, func() {
		_ = s.Backward(make([]float64, 3), make([]float64, 3), make([]float64, 3), make([]float64, 16))
	})
	mustPanic(t, ErrShape, func() { _, _ = s.Forward(nil, make([]float64, 3), make([]float64, 3), make([]float64, 2)) })
	mustPanic(t, ErrShape, func() {
		_, _ = s.Forward(make([]float64, 15), make([]float64, 3), make([]float64, 3), make([]float64, 3))
	})
	mustPanic(t, ErrShape, func() { NewSphere[float64](0) })
	for _, tc := range []struct {
		name         string
		zu, zv, sigs []float64
		want         error
	}{
		{"NaN z_U", []float64{0, math.NaN(), 0}, []float64{0, 0, 0}, []float64{0.5, 0.5, 0.5}, ErrNonFinite},
		{"+Inf z_V", []float64{0, 0, 0}, []float64{math.Inf(1), 0, 0}, []float64{0.5, 0.5, 0.5}, ErrNonFinite},
		{"-Inf σ", []float64{0, 0, 0}, []float64{0, 0, 0}, []float64{0.5, math.Inf(-1), 0.5}, ErrNonFinite},
	} {
		dst := make([]float64, n*n)
		for i := range dst {
			dst[i] = 7
		}
		_, err := s.Forward(dst, tc.zu, tc.zv, tc.sigs)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
		for _, v := range dst {
			if v != 7 {
				t.Fatalf("%s: dst written on error", tc.name)
			}
		}
	}
	// z far beyond 1e15 makes I + A singular to working precision (m = 3 is
	// odd, so A itself is singular): no orthogonal U can be computed.
	dst := make([]float64, n*n)
	if _, err := s.Forward(dst, []float64{1e300, 2e300, 3e300}, []float64{0, 0, 0}, []float64{0.5, 0.5, 0.5}); !errors.Is(err, ErrRange) || dst[0] != 0 {
		t.Errorf("huge z: error %v, want ErrRange", err)
	}
	// Backward with a non-finite g leaves the destinations alone.
	if _, err := s.Forward(nil, []float64{0.1, 0.2, 0.3}, []float64{0.3, 0.2, 0.1}, []float64{0.5, 0.5, 0.5}); err != nil {
		t.Fatal(err)
	}
	g := make([]float64, 16)
	g[5] = math.NaN()
	du, dv, ds := []float64{7, 7, 7}, []float64{7, 7, 7}, []float64{7, 7, 7}
	if err := s.Backward(du, dv, ds, g); !errors.Is(err, ErrNonFinite) || du[0] != 7 || dv[0] != 7 || ds[0] != 7 {
		t.Errorf("Backward(NaN) = %v, destinations %v %v %v", err, du, dv, ds)
	}
}

func TestSphereAllocs(t *testing.T) {
	rng := newRand(23)
	for _, n := range []int{1, 4, 16} {
		m := n - 1
		l := SkewLen(m)
		zu, zv, sig := sphereParams(rng, n)
		g := to32(randn(rng, n*n, 1))
		s := NewSphere[float32](n)
		h := make([]float32, n*n)
		du, dv, ds := make([]float32, l), make([]float32, l), make([]float32, m)
		zu32, zv32, sig32 := to32(zu), to32(zv), to32(sig)
		if a := testing.AllocsPerRun(20, func() {
			_, _ = s.Forward(h, zu32, zv32, sig32)
			_ = s.Backward(du, dv, ds, g)
		}); a != 0 {
			t.Errorf("n=%d: %v allocs per forward+backward, want 0", n, a)
		}
	}
}

func ExampleSphere() {
	// The sHC initialisation of SPEC §3.4 at n = 4: z = 0 and σ = tanh(4),
	// so H = σI + (1 − σ)J, a near-identity mixer on the spectral sphere.
	n := 4
	s := NewSphere[float64](n)
	sig := math.Tanh(4)
	h, err := s.Forward(nil, make([]float64, 3), make([]float64, 3), []float64{sig, sig, sig})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("diag %.6f  off-diagonal %.4g\n", h[0], h[1])
	fmt.Printf("‖H‖₂ = %.12f\n", Norm(h, n, n))
	// Output:
	// diag 0.999497  off-diagonal 0.0001677
	// ‖H‖₂ = 1.000000000000
}

func TestSphereFailedForwardInvalidates(t *testing.T) {
	s := NewSphere[float64](3)
	if _, err := s.Forward(nil, []float64{0.1}, []float64{0.2}, []float64{0.5, 0.5}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Forward(nil, []float64{math.NaN()}, []float64{0.2}, []float64{0.5, 0.5}); err == nil {
		t.Fatal("NaN accepted")
	}
	mustPanic(t, ErrNoForward, func() {
		_ = s.Backward(make([]float64, 1), make([]float64, 1), make([]float64, 2), make([]float64, 9))
	})
}
