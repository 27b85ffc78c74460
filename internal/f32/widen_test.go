package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddTo64Twin checks AddTo64 against its twin, bit for bit (NaN for
// NaN), at every length, on random accumulators and addends with special
// values on both sides (float32 overflow to ±Inf, NaN, ±0, subnormals).
func TestAddTo64Twin(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	specials64 := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e300, -1e-320, math.MaxFloat32}
	for _, k := range lengths {
		x := randSlice(rnd, k, true)
		a := make([]float64, k)
		for i := range a {
			a[i] = rnd.NormFloat64() * math.Pow(10, 20*rnd.Float64()-10)
			if rnd.IntN(6) == 0 {
				a[i] = specials64[rnd.IntN(len(specials64))]
			}
		}
		b := append([]float64(nil), a...)
		AddTo64(a, x)
		AddTo64Go(b, x)
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
				t.Fatalf("len %d: at %d: AddTo64 %v, twin %v", k, i, a[i], b[i])
			}
		}
	}
}

func TestAddTo64(t *testing.T) {
	dst := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	AddTo64(dst, []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1})
	want := []float64{1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9 + float64(float32(0.1))}
	for i := range dst {
		if dst[i] != want[i] {
			t.Errorf("dst[%d] = %v, want %v", i, dst[i], want[i])
		}
	}
	for name, f := range map[string]func(){
		"AddTo64":   func() { AddTo64(make([]float64, 3), make([]float32, 4)) },
		"AddTo64Go": func() { AddTo64Go(make([]float64, 3), make([]float32, 4)) },
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
	if n := testing.AllocsPerRun(10, func() { AddTo64(dst, make([]float32, len(dst))) }); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
}

// BenchmarkAddTo64 times AddTo64 against its twin and against To64 into a
// scratch followed by a float64 addition, on 16384 elements (a chunk of
// 32 tokens of n·C = 512, cache resident), in ns per element.
func BenchmarkAddTo64(b *testing.B) {
	const k = 1 << 14
	rnd := rand.New(rand.NewPCG(9, 9))
	x, dst, tmp := randSlice(rnd, k, false), make([]float64, k), make([]float64, k)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"fused", func() { AddTo64(dst, x) }},
		{"go", func() { AddTo64Go(dst, x) }},
		{"to64+add", func() {
			To64(tmp, x)
			for i, v := range tmp {
				dst[i] += v
			}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/k, "ns/elem")
		})
	}
}
