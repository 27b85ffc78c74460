package f32

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// Tolerances.
const (
	// erfTol bounds |Erf − math.Erf|: the Eigen/XLA rational fit is
	// accurate to a few float32 ulps of 1 (1.2e-7 each); measured 4.2e-7.
	erfTol = 1e-6
	// expTol bounds the relative error of Exp on [−87, 0]: the float32
	// rounding of x·log₂e, up to |x|·log₂e·6e-8 ≈ 7e-6 at x = −87, dominates;
	// measured 3.8e-6.
	expTol = 1e-5
	// geluTol bounds |GELU − x·Φ(x)| relative to max(1, |x|): Erf's error
	// times |x|/2 plus float32 rounding.
	geluTol = 1e-6
)

func TestErf(t *testing.T) {
	var worst float64
	for x := -6.0; x <= 6; x += 1e-4 {
		x32 := float32(x)
		worst = max(worst, math.Abs(float64(Erf(x32))-math.Erf(float64(x32))))
	}
	t.Logf("max |Erf − erf| over [−6, 6] = %.3g", worst)
	if worst > erfTol {
		t.Errorf("max |Erf − erf| = %g, want ≤ %g", worst, erfTol)
	}
	if !math.IsNaN(float64(Erf(float32(math.NaN())))) || Erf(float32(math.Inf(1))) != 1 || Erf(float32(math.Inf(-1))) != -1 {
		t.Errorf("Erf(NaN, +Inf, −Inf) = %v, %v, %v; want NaN, 1, −1", Erf(float32(math.NaN())), Erf(float32(math.Inf(1))), Erf(float32(math.Inf(-1))))
	}
}

func TestExp(t *testing.T) {
	var worst float64
	for x := -87.0; x <= 0; x += 1e-3 {
		x32 := float32(x)
		e := math.Exp(float64(x32))
		worst = max(worst, math.Abs(float64(Exp(x32))-e)/e)
	}
	t.Logf("max relative error of Exp over [−87, 0] = %.3g", worst)
	if worst > expTol {
		t.Errorf("max relative error of Exp = %g, want ≤ %g", worst, expTol)
	}
	if Exp(-100) != 0 || Exp(0) != 1 || Exp(float32(math.Inf(-1))) != 0 {
		t.Errorf("Exp(−100), Exp(0), Exp(−Inf) = %v, %v, %v; want 0, 1, 0", Exp(-100), Exp(0), Exp(float32(math.Inf(-1))))
	}
}

// TestGELUAccuracy checks GELU and its derivative against float64
// formulas with math.Erf and math.Exp.
func TestGELUAccuracy(t *testing.T) {
	var xs []float32
	for x := -10.0; x <= 10; x += 1e-3 {
		xs = append(xs, float32(x))
	}
	a, cdf, dx, dy := make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(xs)), make([]float32, len(xs))
	for i := range dy {
		dy[i] = 1
	}
	GELU(a, cdf, xs)
	GELUBackward(dx, dy, xs, cdf)
	var worstF, worstB float64
	for i, x32 := range xs {
		x := float64(x32)
		phi := 0.5 * (1 + math.Erf(x/math.Sqrt2))
		d := phi + x*math.Exp(-x*x/2)/math.Sqrt(2*math.Pi)
		worstF = max(worstF, math.Abs(float64(a[i])-x*phi)/max(1, math.Abs(x)))
		worstB = max(worstB, math.Abs(float64(dx[i])-d)/max(1, math.Abs(x)))
	}
	t.Logf("GELU over [−10, 10]: worst scaled error %.3g forward, %.3g derivative", worstF, worstB)
	if worstF > geluTol || worstB > geluTol {
		t.Errorf("GELU worst scaled error %g forward, %g derivative; want ≤ %g", worstF, worstB, geluTol)
	}
}

// specials are inputs every kernel must treat exactly as its twin does.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 4 * math.Sqrt2, -4 * math.Sqrt2, 13.19, -13.19, -13.20, 87, -87,
	float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e-30, -1e20}

// randSlice returns k values: mostly N(0, σ²) with σ of 1 to 10, with
// specials sprinkled in when withSpecials.
func randSlice(rnd *rand.Rand, k int, withSpecials bool) []float32 {
	s := make([]float32, k)
	for i := range s {
		s[i] = float32(rnd.NormFloat64() * math.Pow(10, rnd.Float64()))
		if withSpecials && rnd.IntN(8) == 0 {
			s[i] = specials[rnd.IntN(len(specials))]
		}
	}
	return s
}

// same reports whether a and b are equal bit for bit, NaN for NaN.
func same(a, b []float32) (int, bool) {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			return i, false
		}
	}
	return 0, true
}

// lengths covers every remainder of the vector widths and a few large
// sizes.
var lengths = func() []int {
	var l []int
	for k := range 70 {
		l = append(l, k)
	}
	return append(l, 127, 128, 129, 1000, 4096, 4099)
}()

// TestTwins checks that the exported kernels (the assembly where HasAVX2)
// and their pure-Go twins agree bit for bit on random data with special
// values, at every length.
func TestTwins(t *testing.T) {
	t.Logf("HasAVX2 = %v", HasAVX2)
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, k := range lengths {
		for _, withSpecials := range []bool{false, true} {
			x, dy := randSlice(rnd, k, withSpecials), randSlice(rnd, k, withSpecials)
			a1, c1, a2, c2 := make([]float32, k), make([]float32, k), make([]float32, k), make([]float32, k)
			GELU(a1, c1, x)
			GELUGo(a2, c2, x)
			if i, ok := same(a1, a2); !ok {
				t.Fatalf("len %d: GELU(%v) = %v, twin %v", k, x[i], a1[i], a2[i])
			}
			if i, ok := same(c1, c2); !ok {
				t.Fatalf("len %d: GELU's Φ(%v) = %v, twin %v", k, x[i], c1[i], c2[i])
			}
			d1, d2 := make([]float32, k), make([]float32, k)
			GELUBackward(d1, dy, x, c1)
			GELUBackwardGo(d2, dy, x, c1)
			if i, ok := same(d1, d2); !ok {
				t.Fatalf("len %d: GELUBackward at x = %v, dy = %v: %v, twin %v", k, x[i], dy[i], d1[i], d2[i])
			}
			if s1, s2 := SumSquares(x), SumSquaresGo(x); math.Float64bits(s1) != math.Float64bits(s2) && !(s1 != s1 && s2 != s2) {
				t.Fatalf("len %d: SumSquares = %v, twin %v", k, s1, s2)
			}

			// AdamW from a random state; moments must be non-negative (v)
			// for the state to be one AdamW can reach.
			val, g, m, v := randSlice(rnd, k, withSpecials), randSlice(rnd, k, withSpecials), randSlice(rnd, k, false), randSlice(rnd, k, false)
			for i := range v {
				v[i] = v[i] * v[i]
			}
			c := &AdamWConsts{Scale: 0.7, Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / (1 - 0.9*0.9), InvSqrtBC2: float32(1 / math.Sqrt(1-0.999*0.999)), Eps: 1e-8, Decay: 1 - 1e-3*0.01}
			val2, m2, v2 := append([]float32(nil), val...), append([]float32(nil), m...), append([]float32(nil), v...)
			AdamW(val, g, m, v, c)
			AdamWGo(val2, g, m2, v2, c)
			for _, p := range [][2][]float32{{val, val2}, {m, m2}, {v, v2}} {
				if i, ok := same(p[0], p[1]); !ok {
					t.Fatalf("len %d: AdamW at gradient %v: %v, twin %v", k, g[i], p[0][i], p[1][i])
				}
			}
		}
	}
}

// TestSumSquaresExact checks SumSquares against an exact sum on values
// whose squares and partial sums are exact in float64.
func TestSumSquaresExact(t *testing.T) {
	x := make([]float32, 4099)
	var want float64
	for i := range x {
		x[i] = float32(i%97) - 48
		want += float64(x[i]) * float64(x[i])
	}
	if got := SumSquares(x); got != want {
		t.Errorf("SumSquares = %v, want %v", got, want)
	}
}

func TestShapePanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	for name, f := range map[string]func(){
		"AdamW":        func() { AdamW(a, b, a, a, &AdamWConsts{}) },
		"GELU":         func() { GELU(a, b, a) },
		"GELUBackward": func() { GELUBackward(a, a, a, b) },
	} {
		func() {
			defer func() {
				if r := recover(); r != ErrShape {
					t.Errorf("%s with lengths 3 and 4: recovered %v, want ErrShape", name, r)
				}
			}()
			f()
		}()
	}
}

func TestAllocs(t *testing.T) {
	x := make([]float32, 1000)
	y, z := make([]float32, 1000), make([]float32, 1000)
	c := &AdamWConsts{Scale: 1, Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3, InvSqrtBC2: 1, Eps: 1e-8, Decay: 1}
	if n := testing.AllocsPerRun(10, func() {
		GELU(y, z, x)
		GELUBackward(y, y, x, z)
		AdamW(x, y, z, z, c)
		_ = SumSquares(x)
	}); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}

// BenchmarkKernels times each kernel and its twin on 1<<16 elements (cache
// resident) and 1<<22 (memory), in ns per element.
func BenchmarkKernels(b *testing.B) {
	rnd := rand.New(rand.NewPCG(3, 3))
	for _, k := range []int{1 << 16, 1 << 22} {
		x, dy, a, cdf := randSlice(rnd, k, false), randSlice(rnd, k, false), make([]float32, k), make([]float32, k)
		m, v := make([]float32, k), make([]float32, k)
		c := &AdamWConsts{Scale: 1, Beta1: 0.9, Beta2: 0.999, StepSize: 1e-9, InvSqrtBC2: 1, Eps: 1e-8, Decay: 1}
		kernels := []struct {
			name string
			f    func()
		}{
			{"gelu", func() { GELU(a, cdf, x) }},
			{"gelu-go", func() { GELUGo(a, cdf, x) }},
			{"gelu-backward", func() { GELUBackward(a, dy, x, cdf) }},
			{"gelu-backward-go", func() { GELUBackwardGo(a, dy, x, cdf) }},
			{"adamw", func() { AdamW(a, dy, m, v, c) }},
			{"adamw-go", func() { AdamWGo(a, dy, m, v, c) }},
			{"sumsq", func() { _ = SumSquares(x) }},
			{"sumsq-go", func() { _ = SumSquaresGo(x) }},
		}
		for _, kn := range kernels {
			b.Run("n="+strconv.Itoa(k)+"/"+kn.name, func(b *testing.B) {
				for b.Loop() {
					kn.f()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k), "ns/elem")
			})
		}
	}
}
