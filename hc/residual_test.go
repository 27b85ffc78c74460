package hc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// unitMixer is Residual under another type, so that a Layer over it runs
// the general mixing path, not the Residual one.
type unitMixer struct{ hc.Mixer }

// TestResidualPlainPath checks a Layer over Residual, which skips the
// general mixing, against a Layer over the same mixer under another type,
// which does not: branch inputs, outputs, dx, df, the gradient norm and
// the coefficients equal bit for bit, for several splits of the batch; an
// overflowing output is an error on both.
func TestResidualPlainPath(t *testing.T) {
	const c, tokens = 8, 100
	rnd := rand.New(rand.NewPCG(51, 52))
	vec := func(k int) []float64 {
		s := make([]float64, k)
		for i := range s {
			s[i] = rnd.NormFloat64() * math.Pow(10, 4*rnd.Float64()-2)
		}
		return s
	}
	x, f, dout, din := vec(tokens*c), vec(tokens*c), vec(tokens*c), vec(tokens*c)
	type result struct {
		in, out, dx, df, dx2 []float64
		norm                 float64
		pre, post, res       []float64
	}
	run := func(m hc.Mixer, chunks int) result {
		l := hc.NewLayer(m)
		if chunks > 0 {
			l.SetChunks(chunks)
		}
		r := result{in: make([]float64, tokens*c), out: make([]float64, tokens*c), dx: make([]float64, tokens*c), df: make([]float64, tokens*c)}
		if err := l.Pre(r.in, x, tokens); err != nil {
			t.Fatal(err)
		}
		if err := l.Post(r.out, f); err != nil {
			t.Fatal(err)
		}
		l.PostBackward(r.dx, r.df, dout)
		r.norm = l.GradNorm()
		l.PreBackward(r.dx, din)
		pre, post, res := l.Coefficients()
		r.pre, r.post, r.res = slices.Clone(pre), slices.Clone(post), slices.Clone(res)
		return r
	}
	bits := func(a, b []float64) bool {
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				return false
			}
		}
		return len(a) == len(b)
	}
	for _, chunks := range []int{0, 1, 3, 7} {
		got, want := run(hc.Residual(c), chunks), run(unitMixer{hc.Residual(c)}, chunks)
		for _, s := range []struct {
			name string
			a, b []float64
		}{{"branch input", got.in, want.in}, {"output", got.out, want.out}, {"dx", got.dx, want.dx}, {"df", got.df, want.df},
			{"h_pre", got.pre, want.pre}, {"h_post", got.post, want.post}, {"H_res", got.res, want.res}} {
			if !bits(s.a, s.b) {
				t.Errorf("%d chunks: %s differs from the general path's", chunks, s.name)
			}
		}
		if got.norm != want.norm {
			t.Errorf("%d chunks: GradNorm %v, general path %v", chunks, got.norm, want.norm)
		}
	}
	// x + f overflows: an error on both paths.
	big := make([]float64, tokens*c)
	for i := range big {
		big[i] = math.MaxFloat64
	}
	for _, m := range []hc.Mixer{hc.Residual(c), unitMixer{hc.Residual(c)}} {
		l := hc.NewLayer(m)
		in, out := make([]float64, tokens*c), make([]float64, tokens*c)
		if err := l.Pre(in, big, tokens); err != nil {
			t.Fatal(err)
		}
		if err := l.Post(out, big); !errors.Is(err, hc.ErrNotFinite) {
			t.Errorf("%T: overflowing output: %v, want ErrNotFinite", m, err)
		}
	}
}
