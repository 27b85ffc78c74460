package f32

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// rand64 returns k float64 over 80 decades with special values (NaN, ±Inf,
// values that overflow float32 or round to its subnormals or zero).
func rand64(rnd *rand.Rand, k int) []float64 {
	specials64 := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e300, -1e300, 1e-40, -1e-45, 1e-320, math.MaxFloat32 * 1.0000001}
	v := make([]float64, k)
	for i := range v {
		v[i] = rnd.NormFloat64() * math.Pow(10, 80*rnd.Float64()-40)
		if rnd.IntN(6) == 0 {
			v[i] = specials64[rnd.IntN(len(specials64))]
		}
	}
	return v
}

func same64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

// TestFuseTwins checks From64SumSquares and AddTo64Scaled against their
// twins, bit for bit (NaN for NaN), at every length, on random data with
// special values, and From64SumSquares's rounding against From64 and
// AddTo64Scaled against floats.AddScaled followed by AddTo64.
func TestFuseTwins(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, k := range lengths {
		for _, specials := range []bool{false, true} {
			src := make([]float64, k)
			for i := range src {
				src[i] = rnd.NormFloat64()
			}
			if specials {
				src = rand64(rnd, k)
			}
			a, b, c := make([]float32, k), make([]float32, k), make([]float32, k)
			s1 := From64SumSquares(a, src)
			s2 := From64SumSquaresGo(b, src)
			From64(c, src)
			if i, ok := same(a, b); !ok {
				t.Fatalf("len %d: From64SumSquares rounds %v to %v, twin %v", k, src[i], a[i], b[i])
			}
			if i, ok := same(a, c); !ok {
				t.Fatalf("len %d: From64SumSquares rounds %v to %v, From64 %v", k, src[i], a[i], c[i])
			}
			if !same64(s1, s2) {
				t.Fatalf("len %d, specials %v: From64SumSquares = %v, twin %v", k, specials, s1, s2)
			}
			if want := floats.Dot(src, src); !specials && math.Abs(s1-want) > 1e-14*want {
				t.Fatalf("len %d: From64SumSquares = %v, Σx² = %v", k, s1, want)
			}

			x, g := rand64(rnd, k), randSlice(rnd, k, specials)
			if !specials {
				for i := range x {
					x[i] = rnd.NormFloat64()
				}
			}
			for _, alpha := range []float64{-0.37, 1e-300, math.Inf(1)} {
				d1 := rand64(rnd, k)
				d2 := append([]float64(nil), d1...)
				d3 := append([]float64(nil), d1...)
				AddTo64Scaled(d1, alpha, x, g)
				AddTo64ScaledGo(d2, alpha, x, g)
				floats.AddScaled(d3, alpha, x)
				AddTo64(d3, g)
				for i := range d1 {
					if !same64(d1[i], d2[i]) {
						t.Fatalf("len %d: AddTo64Scaled at %d: %v, twin %v", k, i, d1[i], d2[i])
					}
					if !same64(d1[i], d3[i]) {
						t.Fatalf("len %d: AddTo64Scaled at %d: %v, AddScaled+AddTo64 %v", k, i, d1[i], d3[i])
					}
				}
			}
		}
	}
}

func TestFuseShape(t *testing.T) {
	for name, f := range map[string]func(){
		"From64SumSquares":   func() { From64SumSquares(make([]float32, 3), make([]float64, 4)) },
		"From64SumSquaresGo": func() { From64SumSquaresGo(make([]float32, 3), make([]float64, 4)) },
		"AddTo64Scaled":      func() { AddTo64Scaled(make([]float64, 3), 1, make([]float64, 3), make([]float32, 4)) },
		"AddTo64Scaled x":    func() { AddTo64Scaled(make([]float64, 3), 1, make([]float64, 4), make([]float32, 3)) },
		"AddTo64ScaledGo":    func() { AddTo64ScaledGo(make([]float64, 3), 1, make([]float64, 4), make([]float32, 3)) },
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
	dst, x, g := make([]float64, 512), make([]float64, 512), make([]float32, 512)
	if n := testing.AllocsPerRun(10, func() {
		From64SumSquares(g, x)
		AddTo64Scaled(dst, 2, x, g)
	}); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}

// BenchmarkFuse times the fused kernels against the passes they replace,
// on one token of n·C = 512 (cache resident), in ns per element.
func BenchmarkFuse(b *testing.B) {
	const k = 512
	rnd := rand.New(rand.NewPCG(9, 9))
	x, dst := make([]float64, k), make([]float64, k)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	g := randSlice(rnd, k, false)
	var sink float64
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"from64sumsq", func() { sink += From64SumSquares(g, x) }},
		{"from64+dot", func() { From64(g, x); sink += floats.Dot(x, x) }},
		{"addto64scaled", func() { AddTo64Scaled(dst, 1e-3, x, g) }},
		{"addscaled+addto64", func() { floats.AddScaled(dst, 1e-3, x); AddTo64(dst, g) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/k, "ns/elem")
		})
	}
	_ = sink
}
