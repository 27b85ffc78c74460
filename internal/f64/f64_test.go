package f64

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTwins checks AdamW (the assembly where HasAVX2) against AdamWGo bit
// for bit at every length up to 70 and a few large ones, on random states
// with special gradients (NaN, ±Inf, ±0, huge, subnormal) mixed in.
func TestTwins(t *testing.T) {
	t.Logf("HasAVX2 = %v", HasAVX2)
	rnd := rand.New(rand.NewPCG(4, 4))
	specials := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e-310, 1}
	c := &AdamWConsts{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-3 / (1 - 0.9*0.9), InvSqrtBC2: 1 / math.Sqrt(1-0.999*0.999), Eps: 1e-8, Decay: 1 - 1e-5}
	for k := range 75 {
		if k == 71 {
			k = 4099
		}
		val, g, m, v := make([]float64, k), make([]float64, k), make([]float64, k), make([]float64, k)
		for i := range val {
			val[i], g[i], m[i] = rnd.NormFloat64(), rnd.NormFloat64()*math.Pow(10, 6*rnd.Float64()-3), rnd.NormFloat64()
			v[i] = m[i] * m[i]
			if rnd.IntN(8) == 0 {
				g[i] = specials[rnd.IntN(len(specials))]
			}
		}
		val2, m2, v2 := append([]float64(nil), val...), append([]float64(nil), m...), append([]float64(nil), v...)
		AdamW(val, g, m, v, c)
		AdamWGo(val2, g, m2, v2, c)
		for _, p := range [][2][]float64{{val, val2}, {m, m2}, {v, v2}} {
			for i := range p[0] {
				a, b := p[0][i], p[1][i]
				if math.Float64bits(a) != math.Float64bits(b) && !(math.IsNaN(a) && math.IsNaN(b)) {
					t.Fatalf("len %d at %d (gradient %v): %v, twin %v", k, i, g[i], a, b)
				}
			}
		}
	}
}

// TestAdamWFormula checks one element against the update written out.
func TestAdamWFormula(t *testing.T) {
	val, g, m, v := []float64{0.5}, []float64{-2}, []float64{0.1}, []float64{0.04}
	c := &AdamWConsts{Beta1: 0.9, Beta2: 0.999, StepSize: 0.01, InvSqrtBC2: 2, Eps: 1e-8, Decay: 0.99}
	wm := 0.9*0.1 + 0.1*-2
	wv := 0.999*0.04 + (1-0.999)*-2*-2
	want := 0.5*0.99 - 0.01*wm/(math.Sqrt(wv)*2+1e-8)
	AdamW(val, g, m, v, c)
	if math.Abs(m[0]-wm) > 1e-15 || math.Abs(v[0]-wv) > 1e-15 || math.Abs(val[0]-want) > 1e-15 {
		t.Errorf("AdamW: m, v, val = %v, %v, %v; want %v, %v, %v", m[0], v[0], val[0], wm, wv, want)
	}
}

// TestAllFinite checks AllFinite and CopyFinite, with the assembly (where
// HasAVX) and without, at lengths around the blocks of 4 and 16: every
// position of a NaN or an infinity is detected, extremes are finite, and
// CopyFinite copies whatever it reports.
func TestAllFinite(t *testing.T) {
	avx := HasAVX
	defer func() { HasAVX = avx }()
	for _, useAVX := range []bool{false, avx} {
		HasAVX = useAVX
		for _, k := range []int{0, 1, 3, 4, 5, 8, 13, 15, 16, 17, 31, 32, 33, 64, 70} {
			s := make([]float64, k)
			for i := range s {
				s[i] = float64(i) - 3.5
			}
			if !AllFinite(s) {
				t.Fatalf("avx=%v len %d: finite slice reported not finite", useAVX, k)
			}
			check := func(want bool, what string) {
				t.Helper()
				dst := make([]float64, k)
				if a, c := AllFinite(s), CopyFinite(dst, s); a != want || c != want {
					t.Fatalf("avx=%v len %d: %s: AllFinite %v, CopyFinite %v, want %v", useAVX, k, what, a, c, want)
				}
				for i := range s {
					if math.Float64bits(dst[i]) != math.Float64bits(s[i]) {
						t.Fatalf("avx=%v len %d: %s: CopyFinite wrote %v at %d, want %v", useAVX, k, what, dst[i], i, s[i])
					}
				}
			}
			for i := range s {
				for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
					old := s[i]
					s[i] = bad
					check(false, fmt.Sprintf("%v at %d", bad, i))
					s[i] = old
				}
			}
			if k > 0 {
				s[0], s[k-1] = math.MaxFloat64, -math.SmallestNonzeroFloat64
				check(true, "±MaxFloat64 and subnormals")
			}
		}
	}
}

// BenchmarkAdamW times AdamW and its twin on 1<<20 elements.
func BenchmarkAdamW(b *testing.B) {
	k := 1 << 20
	val, g, m, v := make([]float64, k), make([]float64, k), make([]float64, k), make([]float64, k)
	for i := range g {
		g[i] = float64(i%13) - 6
	}
	c := &AdamWConsts{Beta1: 0.9, Beta2: 0.999, StepSize: 1e-9, InvSqrtBC2: 1, Eps: 1e-8, Decay: 1}
	b.Run("asm", func(b *testing.B) {
		for b.Loop() {
			AdamW(val, g, m, v, c)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/elem")
	})
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			AdamWGo(val, g, m, v, c)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/elem")
	})
}

// BenchmarkFinite times the scan and copy of a Layer's streams in a step of
// the depth-32 network (64 tokens, n = 4, C = 128): AllFinite then copy
// with the pure-Go scan (impl=old, as before CopyFinite) and CopyFinite.
func BenchmarkFinite(b *testing.B) {
	const k = 64 * 4 * 128
	src, dst := make([]float64, k), make([]float64, k)
	for i := range src {
		src[i] = float64(i%13) - 6
	}
	avx := HasAVX
	defer func() { HasAVX = avx }()
	b.Run("impl=old", func(b *testing.B) {
		HasAVX = false
		for b.Loop() {
			if !AllFinite(src) {
				b.Fatal("not finite")
			}
			copy(dst, src)
		}
	})
	b.Run("impl=new", func(b *testing.B) {
		HasAVX = avx
		for b.Loop() {
			if !CopyFinite(dst, src) {
				b.Fatal("not finite")
			}
		}
	})
}

// TestSumSquares checks the eight-lane sum of squares against a plain loop
// (to rounding) at every length around the unrolling.
func TestSumSquares(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, k := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 1000, 32768} {
		s := make([]float64, k)
		var want float64
		for i := range s {
			s[i] = rnd.NormFloat64()
			want += s[i] * s[i]
		}
		if got := SumSquares(s); math.Abs(got-want) > 1e-13*want {
			t.Errorf("len %d: SumSquares = %v, plain loop %v", k, got, want)
		}
	}
}
