package f32

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestNormTwins checks MulScaled, RMSGrad and RMSInputGrad against their
// pure-Go twins bit for bit (NaN for NaN) at every length, on random data
// with and without special values, and the twins against the formulas they
// document, written out element by element.
func TestNormTwins(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	for _, k := range lengths {
		for _, specials := range []bool{false, true} {
			g, dy, x := randSlice(rnd, k, specials), randSlice(rnd, k, specials), randSlice(rnd, k, specials)
			if !specials {
				// Terms over 30 decades: their float64 sum rounds, so
				// that a change of summation order shows.
				for i := range x {
					x[i] *= float32(math.Pow(10, 30*rnd.Float64()-15))
				}
			}
			dg := randSlice(rnd, k, specials)
			inv, c := float32(0.37), float32(-1.3)

			got, want := make([]float32, k), make([]float32, k)
			MulScaled(got, g, x, inv)
			MulScaledGo(want, g, x, inv)
			if i, ok := same(got, want); !ok {
				t.Fatalf("MulScaled k=%d specials=%v: element %d: %v, twin %v", k, specials, i, got[i], want[i])
			}
			for i := range want {
				want[i] = float32(g[i]*x[i]) * inv
			}
			if i, ok := same(got, want); !ok {
				t.Fatalf("MulScaled k=%d: element %d: %v, formula %v", k, i, got[i], want[i])
			}

			dgGot, dgWant := slices.Clone(dg), slices.Clone(dg)
			s := RMSGrad(dgGot, g, dy, x, inv)
			sw := RMSGradGo(dgWant, g, dy, x, inv)
			if i, ok := same(dgGot, dgWant); !ok {
				t.Fatalf("RMSGrad k=%d specials=%v: dg %d: %v, twin %v", k, specials, i, dgGot[i], dgWant[i])
			}
			if math.Float64bits(s) != math.Float64bits(sw) && !(math.IsNaN(s) && math.IsNaN(sw)) {
				t.Fatalf("RMSGrad k=%d specials=%v: sum %v, twin %v", k, specials, s, sw)
			}
			var lanes [Lanes]float64
			for i := range dgWant {
				dgWant[i] = dg[i] + float32(dy[i]*x[i])*inv
				lanes[i%Lanes] += float64(float32(g[i]*dy[i]) * x[i])
			}
			if i, ok := same(dgGot, dgWant); !ok {
				t.Fatalf("RMSGrad k=%d: dg %d: %v, formula %v", k, i, dgGot[i], dgWant[i])
			}
			if f := combine(&lanes); math.Float64bits(s) != math.Float64bits(f) && !(math.IsNaN(s) && math.IsNaN(f)) {
				t.Fatalf("RMSGrad k=%d: sum %v, formula %v", k, s, f)
			}

			RMSInputGrad(got, g, dy, x, inv, c)
			RMSInputGradGo(want, g, dy, x, inv, c)
			if i, ok := same(got, want); !ok {
				t.Fatalf("RMSInputGrad k=%d specials=%v: element %d: %v, twin %v", k, specials, i, got[i], want[i])
			}
			for i := range want {
				want[i] = inv * (float32(g[i]*dy[i]) - float32(x[i]*c))
			}
			if i, ok := same(got, want); !ok {
				t.Fatalf("RMSInputGrad k=%d: element %d: %v, formula %v", k, i, got[i], want[i])
			}
			// In place, as the callers may.
			in := slices.Clone(dy)
			RMSInputGrad(in, g, in, x, inv, c)
			if i, ok := same(in, got); !ok {
				t.Fatalf("RMSInputGrad in place k=%d: element %d: %v, want %v", k, i, in[i], got[i])
			}
		}
	}
}

func TestNormShape(t *testing.T) {
	a, b := make([]float32, 4), make([]float32, 5)
	for name, f := range map[string]func(){
		"MulScaled":      func() { MulScaled(a, a, b, 1) },
		"MulScaledGo":    func() { MulScaledGo(a, b, a, 1) },
		"RMSGrad":        func() { RMSGrad(a, a, a, b, 1) },
		"RMSGradGo":      func() { RMSGradGo(a, b, a, a, 1) },
		"RMSInputGrad":   func() { RMSInputGrad(a, a, b, a, 1, 1) },
		"RMSInputGradGo": func() { RMSInputGradGo(b, a, a, a, 1, 1) },
	} {
		func() {
			defer func() {
				if r, ok := recover().(error); !ok || !errors.Is(r, ErrShape) {
					t.Errorf("%s: recovered %v, want ErrShape", name, r)
				}
			}()
			f()
		}()
	}
}

func TestNormAllocs(t *testing.T) {
	g, dy, x, dg := make([]float32, 300), make([]float32, 300), make([]float32, 300), make([]float32, 300)
	if n := testing.AllocsPerRun(10, func() {
		MulScaled(dg, g, x, 2)
		_ = RMSGrad(dg, g, dy, x, 2)
		RMSInputGrad(dg, g, dy, x, 2, 3)
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

func BenchmarkNorm(b *testing.B) {
	rnd := rand.New(rand.NewPCG(3, 3))
	const k = 1 << 14
	g, dy, x, dg := randSlice(rnd, k, false), randSlice(rnd, k, false), randSlice(rnd, k, false), make([]float32, k)
	for _, kn := range []struct {
		name string
		f    func()
	}{
		{"mulscaled", func() { MulScaled(dg, g, x, 2) }},
		{"mulscaled-go", func() { MulScaledGo(dg, g, x, 2) }},
		{"rmsgrad", func() { _ = RMSGrad(dg, g, dy, x, 2) }},
		{"rmsgrad-go", func() { _ = RMSGradGo(dg, g, dy, x, 2) }},
		{"rmsinputgrad", func() { RMSInputGrad(dg, g, dy, x, 2, 3) }},
		{"rmsinputgrad-go", func() { RMSInputGradGo(dg, g, dy, x, 2, 3) }},
	} {
		b.Run(kn.name, func(b *testing.B) {
			for b.Loop() {
				kn.f()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/k, "ns/elem")
		})
	}
}
