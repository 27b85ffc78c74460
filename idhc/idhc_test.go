package idhc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/idhc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
)

func newID(n, c, layer int) (hc.Mixer, error) { return idhc.New(idhc.PaperConfig(n, c, layer)) }

// identityGap is max |H − I| over the entries of the n×n h.
func identityGap(h []float64, n int) float64 {
	var d float64
	for i := range n {
		for j := range n {
			want := 0.0
			if i == j {
				want = 1
			}
			d = math.Max(d, math.Abs(h[i*n+j]-want))
		}
	}
	return d
}

// perturb moves φ off its zero init, where the gates' gradients vanish,
// and the gates and biases off theirs.
func perturb(m hc.Mixer, rnd *rand.Rand) {
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] += 0.3 * rnd.NormFloat64()
		}
	}
}

// TestConformance runs the suite at n up to 16. H_res = I is the only
// permutation it reaches (Permute reports the others unreachable), and no
// parameter moves it, so there is no Far hook: the identity is checked at
// every training step by TestIdentityEveryStep instead.
func TestConformance(t *testing.T) {
	mixertest.Run(t, mixertest.Case{Name: "idhc", New: newID, Ns: []int{1, 2, 3, 4, 8, 16},
		Permute: func(_ hc.Mixer, perm []int) bool {
			for i, j := range perm {
				if i != j {
					return false
				}
			}
			return true
		},
		Perturb: perturb, Guarantee: identityGap})
}

// TestIdentityEveryStep trains a layer for 50 SGD steps on random data with
// a random upstream gradient, the parameters moving far from the init, and
// checks that every token's H_res is I bit for bit at every step, while
// h_pre and h_post do change.
func TestIdentityEveryStep(t *testing.T) {
	const c, tokens, steps, lr = 6, 33, 50, 0.05
	for _, n := range []int{2, 4, 16} {
		m, err := idhc.New(idhc.PaperConfig(n, c, 3))
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(5, uint64(n)))
		perturb(m, rnd)
		l := hc.NewLayer(m)
		x, g := make([]float64, tokens*n*c), make([]float64, tokens*n*c)
		in, f := make([]float64, tokens*c), make([]float64, tokens*c)
		out, dx, df := make([]float64, tokens*n*c), make([]float64, tokens*n*c), make([]float64, tokens*c)
		var pre0 []float64
		for step := range steps {
			for i := range x {
				x[i], g[i] = 3*rnd.NormFloat64(), rnd.NormFloat64()
			}
			hc.ZeroGrad(m)
			if err := l.Pre(in, x, tokens); err != nil {
				t.Fatal(err)
			}
			for i, v := range in {
				f[i] = math.Tanh(v)
			}
			if err := l.Post(out, f); err != nil {
				t.Fatal(err)
			}
			l.PostBackward(dx, df, g)
			l.PreBackward(dx, df)
			pre, _, res := l.Coefficients()
			for tok := range tokens {
				h := res[tok*n*n : (tok+1)*n*n]
				for i, v := range h {
					want := 0.0
					if i%(n+1) == 0 {
						want = 1
					}
					if math.Float64bits(v) != math.Float64bits(want) {
						t.Fatalf("n=%d step %d token %d: H_res[%d] = %v (bits %#x), want %v exactly",
							n, step, tok, i, v, math.Float64bits(v), want)
					}
				}
			}
			if step == 0 {
				pre0 = append([]float64(nil), pre...)
			}
			for _, p := range m.Params() {
				for i := range p.Value {
					p.Value[i] -= lr * p.Grad[i]
				}
			}
			if step == steps-1 {
				var moved float64
				for i := range pre {
					moved = math.Max(moved, math.Abs(pre[i]-pre0[i]))
				}
				if !(moved > 1e-3) {
					t.Errorf("n=%d: h_pre moved by %.3g over %d steps: the test did not train", n, moved, steps)
				}
			}
		}
	}
}

func TestInit(t *testing.T) {
	m, err := idhc.New(idhc.PaperConfig(4, 8, 5))
	if err != nil {
		t.Fatal(err)
	}
	mixertest.CheckInit(t, m, 5, mixertest.Init{Diag: 1, Off: 0})
}

func TestNumParams(t *testing.T) {
	for _, n := range []int{1, 4, 16} {
		cfg := idhc.PaperConfig(n, 7, 0)
		m, err := idhc.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var sum int
		for _, p := range m.Params() {
			sum += len(p.Value)
		}
		got, err := idhc.NumParams(cfg)
		if err != nil || got != sum || got != 2*n*n*7+2+2*n {
			t.Errorf("n=%d: NumParams = %d, %v; the Params hold %d, want 2n·nC + 2 + 2n = %d",
				n, got, err, sum, 2*n*n*7+2+2*n)
		}
	}
}

func TestNewErrors(t *testing.T) {
	for _, cfg := range []idhc.Config{{N: 0, C: 1}, {N: 2, C: 0}, {N: 2, C: 2, Layer: -1}} {
		if _, err := idhc.New(cfg); !errors.Is(err, idhc.ErrConfig) {
			t.Errorf("New(%+v) = %v, want an error wrapping ErrConfig", cfg, err)
		}
		if _, err := idhc.NumParams(cfg); !errors.Is(err, idhc.ErrConfig) {
			t.Errorf("NumParams(%+v) = %v, want an error wrapping ErrConfig", cfg, err)
		}
	}
}

func TestChunkMatchesTokens(t *testing.T) {
	for _, n := range []int{1, 2, 4} {
		m, err := newID(n, 5, 1)
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(13, uint64(n)))
		perturb(m, rnd)
		t.Logf("n=%d: largest relative gap %.3g", n, mixertest.CheckChunk(t, m, rnd, 7))
	}
}
