package hc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// coefTol bounds the difference between Forward's coefficients and the
// test's own evaluation of the SPEC §3.1 formula: the two sum the same
// products in different orders, so they agree to a few ulps of O(1) values.
const coefTol = 1e-14

// preNormMLP is a tiny pre-norm MLP branch, F(u) = relu(norm(u)·W1)·W2 per
// token, with norm an RMS norm: the branch of a plain pre-norm residual
// network.
type preNormMLP struct {
	c, hidden int
	w1, w2    []float64 // C×hidden and hidden×C, row-major
	u, h      []float64 // scratch
}

func newPreNormMLP(rnd *rand.Rand, c, hidden int) *preNormMLP {
	m := &preNormMLP{c: c, hidden: hidden, w1: make([]float64, c*hidden), w2: make([]float64, hidden*c),
		u: make([]float64, c), h: make([]float64, hidden)}
	for i := range m.w1 {
		m.w1[i] = rnd.NormFloat64() / math.Sqrt(float64(c))
	}
	for i := range m.w2 {
		m.w2[i] = rnd.NormFloat64() / math.Sqrt(float64(hidden))
	}
	return m
}

// apply writes F(in) into out, token by token (rows of length C).
func (m *preNormMLP) apply(out, in []float64) error {
	c := m.c
	for t := 0; t < len(in)/c; t++ {
		row := in[t*c : (t+1)*c]
		var ss float64
		for _, v := range row {
			ss += v * v
		}
		inv := 1 / math.Sqrt(ss/float64(c)+1e-6)
		for k, v := range row {
			m.u[k] = v * inv
		}
		for j := range m.hidden {
			var s float64
			for k, v := range m.u {
				s += v * m.w1[k*m.hidden+j]
			}
			m.h[j] = max(s, 0)
		}
		for j := range c {
			var s float64
			for k, v := range m.h {
				s += v * m.w2[k*c+j]
			}
			out[t*c+j] = s
		}
	}
	return nil
}

// TestInitIsPreNorm checks HC paper App. H.1 (SPEC §3.1): at init, with
// B = 1ᵀ, A_m = e_{k mod n}, A_r = I and n identical streams, every layer's
// branch reads a stream equal to the plain network's state h, every stream
// receives h + F(h), and so every stream stays bit-identical to the plain
// pre-norm residual network's state; Reduce gives the sum of n copies of it.
// (Comparing after the final norm would not be exact: norm(n·h) ≠ norm(h)
// in floating point, and the norm's ε breaks scale invariance.)
func TestInitIsPreNorm(t *testing.T) {
	const (
		layers = 6
		tokens = 7
		c      = 16
	)
	for _, dynamic := range []bool{false, true} {
		for _, n := range []int{1, 2, 3, 4, 8} {
			rnd := rand.New(rand.NewPCG(uint64(n), 7))
			emb := make([]float64, tokens*c)
			for i := range emb {
				emb[i] = rnd.NormFloat64()
			}
			x := make([]float64, tokens*n*c)
			hc.Expand(x, emb, tokens, n, c)
			h := append([]float64(nil), emb...)
			f := make([]float64, tokens*c)
			for k := range layers {
				mlp := newPreNormMLP(rnd, c, 4*c)
				m, err := hc.New(hc.Config{N: n, C: c, Layer: k, Dynamic: dynamic})
				if err != nil {
					t.Fatal(err)
				}
				if err := hc.NewLayer(m).Apply(x, x, tokens, mlp.apply); err != nil {
					t.Fatal(err)
				}
				_ = mlp.apply(f, h)
				for i := range h {
					h[i] += f[i]
				}
			}
			for tok := range tokens {
				for i := range n {
					for j := range c {
						if got, want := x[(tok*n+i)*c+j], h[tok*c+j]; got != want {
							t.Fatalf("dynamic=%v n=%d: token %d stream %d [%d] = %v, plain residual %v",
								dynamic, n, tok, i, j, got, want)
						}
					}
				}
			}
			red := make([]float64, tokens*c)
			hc.Reduce(red, x, tokens, n, c)
			copies := make([]float64, tokens*n*c)
			hc.Expand(copies, h, tokens, n, c)
			want := make([]float64, tokens*c)
			hc.Reduce(want, copies, tokens, n, c)
			for i := range red {
				if red[i] != want[i] {
					t.Fatalf("dynamic=%v n=%d: reduce[%d] = %v, want %v", dynamic, n, i, red[i], want[i])
				}
				if n <= 2 && red[i] != float64(n)*h[i] { // h + h = 2h exactly
					t.Fatalf("n=%d: reduce[%d] = %v, want n·h = %v", n, i, red[i], float64(n)*h[i])
				}
			}
		}
	}
}

// TestResidualExact checks that Residual and HC at n = 1 compute x + F(x)
// bit for bit.
func TestResidualExact(t *testing.T) {
	const (
		tokens = 9
		c      = 12
	)
	rnd := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, tokens*c)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	mlp := newPreNormMLP(rnd, c, 3*c)
	want := make([]float64, tokens*c)
	_ = mlp.apply(want, x)
	for i := range want {
		want[i] = x[i] + want[i]
	}
	static, _ := hc.New(hc.Config{N: 1, C: c})
	dynamic, _ := hc.New(hc.PaperConfig(1, c, 3))
	for name, m := range map[string]hc.Mixer{"residual": hc.Residual(c), "static": static, "dynamic": dynamic} {
		got := make([]float64, tokens*c)
		if err := hc.NewLayer(m).Apply(got, x, tokens, mlp.apply); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: [%d] = %v, want x + F(x) = %v", name, i, got[i], want[i])
			}
		}
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []hc.Config{{N: -1, C: 4}, {N: 2, C: 0}, {N: 2, C: -3}, {N: 2, C: 4, Layer: -1}} {
		m, err := hc.New(cfg)
		if !errors.Is(err, hc.ErrConfig) || m != nil {
			t.Errorf("New(%+v) = %v, %v; want nil and an error wrapping ErrConfig", cfg, m, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "hc: ") {
			t.Errorf("error %q does not start with the package name", err)
		}
	}
}

// TestNewInit checks the initial values of SPEC §3.1: B = 1ᵀ, A_m = e_{k mod n},
// A_r = I, W = 0, s_α = s_β = 0.01, and which tensors are NoDecay.
func TestNewInit(t *testing.T) {
	m, err := hc.New(hc.Config{C: 3, Layer: 6, Dynamic: true})
	if err != nil {
		t.Fatal(err)
	}
	if n, c := m.Shape(); n != hc.DefaultN || c != 3 {
		t.Fatalf("Shape() = %d, %d; want %d, 3", n, c, hc.DefaultN)
	}
	n := hc.DefaultN
	want := map[string]func(i int) float64{
		"B":       func(int) float64 { return 1 },
		"A_m":     func(i int) float64 { return b2f(i == 6%n) },
		"A_r":     func(i int) float64 { return b2f(i/n == i%n) },
		"W_beta":  func(int) float64 { return 0 },
		"W_m":     func(int) float64 { return 0 },
		"W_r":     func(int) float64 { return 0 },
		"s_alpha": func(int) float64 { return hc.ScaleInit },
		"s_beta":  func(int) float64 { return hc.ScaleInit },
	}
	noDecay := map[string]bool{"B": true, "A_m": true, "A_r": true, "s_alpha": true, "s_beta": true}
	if len(m.Params()) != len(want) {
		t.Fatalf("%d params, want %d", len(m.Params()), len(want))
	}
	for _, p := range m.Params() {
		for i, v := range p.Value {
			if v != want[p.Name](i) {
				t.Errorf("%s[%d] = %v, want %v", p.Name, i, v, want[p.Name](i))
			}
		}
		if p.NoDecay != noDecay[p.Name] {
			t.Errorf("%s: NoDecay = %v", p.Name, p.NoDecay)
		}
	}
	static, _ := hc.New(hc.Config{N: 2, C: 3})
	if len(static.Params()) != 3 || static.TapeLen() != 0 {
		t.Errorf("static HC: %d params, tape %d; want 3, 0", len(static.Params()), static.TapeLen())
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestDynamicFormula evaluates the SPEC §3.1 formulas directly for one token
// with random weights and compares every coefficient, which pins down the
// orientation: column i of H_res comes from stream i.
func TestDynamicFormula(t *testing.T) {
	const (
		n = 3
		c = 4
	)
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, noTanh := range []bool{false, true} {
		m, _ := hc.New(hc.Config{N: n, C: c, Layer: 2, Dynamic: true, NoTanh: noTanh})
		for _, p := range m.Params() {
			for i := range p.Value {
				p.Value[i] = rnd.NormFloat64()
			}
		}
		x := make([]float64, n*c)
		for i := range x {
			x[i] = rnd.NormFloat64()
		}
		l := hc.NewLayer(m)
		if err := l.Pre(make([]float64, c), x, 1); err != nil {
			t.Fatal(err)
		}
		pre, post, res := l.Coefficients()
		v := func(name string) []float64 { return hc.Lookup(m, name).Value }
		act := math.Tanh
		if noTanh {
			act = func(z float64) float64 { return z }
		}
		for i := range n {
			xi := x[i*c : (i+1)*c]
			var ss float64
			for _, e := range xi {
				ss += e * e
			}
			r := math.Sqrt(ss/c + 1e-6)
			dotW := func(w []float64, stride, col int) float64 {
				var s float64
				for k, e := range xi {
					s += e / r * w[k*stride+col]
				}
				return s
			}
			check := func(what string, got, want float64) {
				if math.Abs(got-want) > coefTol {
					t.Errorf("noTanh=%v: %s = %v, formula %v", noTanh, what, got, want)
				}
			}
			check("h_post", post[i], v("B")[i]+v("s_beta")[0]*act(dotW(v("W_beta"), 1, 0)))
			check("h_pre", pre[i], v("A_m")[i]+v("s_alpha")[0]*act(dotW(v("W_m"), 1, 0)))
			for j := range n {
				check("H_res", res[j*n+i], v("A_r")[i*n+j]+v("s_alpha")[0]*act(dotW(v("W_r"), n, j)))
			}
		}
	}
}

// TestDynamicOverflow checks that streams whose logits x·W overflow give an
// error wrapping ErrNotFinite: tanh would otherwise turn the infinities
// into coefficients of ±1, a wrong finite answer (issue 19, point 1).
func TestDynamicOverflow(t *testing.T) {
	for _, noTanh := range []bool{false, true} {
		m, err := hc.New(hc.Config{N: 2, C: 3, Dynamic: true, NoTanh: noTanh})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m.Params() {
			if p.Name == "W_r" {
				for i := range p.Value {
					p.Value[i] = 1e10
				}
			}
		}
		x := []float64{1e300, 1e300, 1e300, -1, 2, 3}
		err = hc.NewLayer(m).Pre(make([]float64, 3), x, 1)
		if !errors.Is(err, hc.ErrNotFinite) {
			t.Errorf("NoTanh %v: x·W overflows: Pre error %v, want hc.ErrNotFinite", noTanh, err)
		}
	}
}
