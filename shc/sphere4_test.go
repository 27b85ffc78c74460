package shc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/spectral"
)

// randZ returns a z with every |z_k| < 1, often close to 1 so that the
// pivoting of sphere4's LU swaps rows.
func randZ(rnd *rand.Rand) [3]float64 {
	var z [3]float64
	for i := range z {
		switch rnd.IntN(3) {
		case 0:
			z[i] = 2*rnd.Float64() - 1
		case 1:
			z[i] = math.Copysign(1-math.Ldexp(rnd.Float64(), -rnd.IntN(40)), rnd.NormFloat64())
		default:
			z[i] = 0.1 * rnd.NormFloat64()
		}
		if !(math.Abs(z[i]) < 1) {
			z[i] = 0.5
		}
	}
	return z
}

// TestSphere4MatchesSphere checks that sphere4 equals spectral.Sphere (==)
// on its domain, forward and backward, including tokens where the LU
// pivoting swaps rows.
func TestSphere4MatchesSphere(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	ref := spectral.NewSphere[float64](4)
	s := newSphere4()
	var swaps int
	for it := range 20000 {
		zu, zv := randZ(rnd), randZ(rnd)
		var sig [3]float64
		for i := range sig {
			sig[i] = math.Tanh(2 * rnd.NormFloat64())
		}
		if it%7 == 0 {
			sig[it%3] = 1
		}
		if !fits4(&zu, &zv, &sig) {
			t.Fatalf("test point outside the domain: %v %v %v", zu, zv, sig)
		}
		var h, want [16]float64
		if _, err := ref.Forward(want[:], zu[:], zv[:], sig[:]); err != nil {
			t.Fatal(err)
		}
		if !s.forward(&h, &zu, &zv, &sig) {
			t.Fatalf("sphere4 rejected %v %v", zu, zv)
		}
		if h != want {
			t.Fatalf("z_U %v z_V %v σ %v: H = %v, Sphere %v", zu, zv, sig, h, want)
		}
		if s.cu.swp {
			swaps++
		}
		var g [16]float64
		for i := range g {
			g[i] = rnd.NormFloat64()
		}
		var dzu, dzv, dsig, wu, wv, ws [3]float64
		if err := ref.Backward(wu[:], wv[:], ws[:], g[:]); err != nil {
			t.Fatal(err)
		}
		// Another token in between: backward must not depend on state left
		// by the token's forward.
		z2 := randZ(rnd)
		s.forward(&h, &z2, &z2, &sig)
		if !s.backward(&dzu, &dzv, &dsig, &zu, &zv, &sig, &g) {
			t.Fatal("sphere4 backward not finite")
		}
		if dzu != wu || dzv != wv || dsig != ws {
			t.Fatalf("z_U %v z_V %v σ %v: gradients %v %v %v, Sphere %v %v %v",
				zu, zv, sig, dzu, dzv, dsig, wu, wv, ws)
		}
	}
	if swaps == 0 {
		t.Error("no test point made the LU pivot")
	}
	t.Logf("%d of 20000 Cayley transforms of z_U pivoted", swaps)
}

// tokens4 is a structural n = 4 mixer at a generic point and raw logits for
// tokens tokens, with γ large enough that some tokens leave sphere4's domain.
func tokens4(tb testing.TB, tokens int) (*Mixer, []float64) {
	m, err := New(PaperConfig(4, 8, 1))
	if err != nil {
		tb.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(5, 6))
	set := func(p []float64, mean, sd float64) {
		for i := range p {
			p[i] = mean + sd*rnd.NormFloat64()
		}
	}
	set(m.bU.Value, 0, 0.5)
	set(m.bV.Value, 0, 0.5)
	set(m.bS.Value, 1, 0.5)
	set(m.sU.Value, 0.5, 0.1)
	set(m.sV.Value, 0.5, 0.1)
	set(m.sS.Value, 0.5, 0.1)
	m.gU.Value[0], m.gV.Value[0] = 1.05, 0.9
	raw := make([]float64, tokens*m.resLen)
	set(raw, 0, 2)
	return m, raw
}

// TestWorker4MatchesGeneric checks forwardSphere and backwardSphere with the
// n = 4 fast path against the generic one (==): H_res, the tape, ∂L/∂raw and
// every private gradient.
func TestWorker4MatchesGeneric(t *testing.T) {
	const tokens = 500
	m, raw := tokens4(t, tokens)
	k := m.resLen
	fast, slow := m.NewWorker().(*worker), m.NewWorker().(*worker)
	slow.s4 = nil
	rnd := rand.New(rand.NewPCG(7, 8))
	var inside int
	for tok := range tokens {
		r := raw[tok*k : (tok+1)*k]
		var hf, hs [16]float64
		tf, ts := make([]float64, k), make([]float64, k)
		if err := fast.forwardSphere(hf[:], tf, r); err != nil {
			t.Fatal(err)
		}
		if err := slow.forwardSphere(hs[:], ts, r); err != nil {
			t.Fatal(err)
		}
		if hf != hs {
			t.Fatalf("token %d: H = %v, generic %v", tok, hf, hs)
		}
		if fits4((*[3]float64)(fast.zu), (*[3]float64)(fast.zv), (*[3]float64)(tf[6:9])) {
			inside++
		}
		var g [16]float64
		for i := range g {
			g[i] = rnd.NormFloat64()
		}
		df, ds := make([]float64, k), make([]float64, k)
		fast.backwardSphere(df, r, tf, g[:])
		slow.backwardSphere(ds, r, ts, g[:])
		for i := range df {
			if df[i] != ds[i] {
				t.Fatalf("token %d: ∂L/∂raw = %v, generic %v", tok, df, ds)
			}
		}
	}
	if inside == 0 || inside == tokens {
		t.Errorf("%d of %d tokens in sphere4's domain: want both paths", inside, tokens)
	}
	for i := range fast.gbU {
		if fast.gbU[i] != slow.gbU[i] || fast.gbV[i] != slow.gbV[i] || fast.gbS[i] != slow.gbS[i] {
			t.Fatalf("bias gradients differ: %v %v %v, generic %v %v %v",
				fast.gbU, fast.gbV, fast.gbS, slow.gbU, slow.gbV, slow.gbS)
		}
	}
	if fast.gsU != slow.gsU || fast.gsV != slow.gsV || fast.gsS != slow.gsS || fast.ggU != slow.ggU || fast.ggV != slow.ggV {
		t.Fatal("scalar gradients differ")
	}
	// A non-finite ∂L/∂H_res gives NaN gradients on both paths.
	var tf [9]float64
	var h, g [16]float64
	g[5] = math.Inf(1)
	for tok := range tokens {
		r := raw[tok*k : (tok+1)*k]
		fast.forwardSphere(h[:], tf[:], r)
		if fits4((*[3]float64)(fast.zu), (*[3]float64)(fast.zv), (*[3]float64)(tf[6:9])) {
			d := make([]float64, k)
			fast.backwardSphere(d, r, tf[:], g[:])
			for _, v := range d {
				if !math.IsNaN(v) {
					t.Fatalf("∂L/∂raw = %v for an infinite ∂L/∂H_res", d)
				}
			}
			break
		}
	}
	t.Logf("%d of %d tokens in sphere4's domain", inside, tokens)
}

// BenchmarkSphereToken times the map from one token's raw logits to H_res
// (forwardSphere) and its backward (backwardSphere) at n = 4, with the
// fast path (new) and spectral.Sphere (old), per token.
func BenchmarkSphereToken(b *testing.B) {
	const tokens = 256
	for _, path := range []string{"old", "new"} {
		b.Run(path, func(b *testing.B) {
			m, raw := tokens4(b, tokens)
			m.gU.Value[0], m.gV.Value[0] = 0.9, 0.9 // every token in the domain
			k := m.resLen
			w := m.NewWorker().(*worker)
			if path == "old" {
				w.s4 = nil
			}
			tape := make([]float64, tokens*k)
			res := make([]float64, tokens*16)
			draw := make([]float64, tokens*k)
			dres := make([]float64, tokens*16)
			rnd := rand.New(rand.NewPCG(1, 2))
			for i := range dres {
				dres[i] = rnd.NormFloat64()
			}
			b.Run("forward", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for t := range tokens {
						if err := w.forwardSphere(res[t*16:(t+1)*16], tape[t*k:(t+1)*k], raw[t*k:(t+1)*k]); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
			})
			b.Run("backward", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					for t := range tokens {
						w.backwardSphere(draw[t*k:(t+1)*k], raw[t*k:(t+1)*k], tape[t*k:(t+1)*k], dres[t*16:(t+1)*16])
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
			})
		})
	}
}
