package shell

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

var errTest = errors.New("test: invalid config")

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		n, c, layer int
		want        string // "" for valid
	}{
		{1, 1, 0, ""}, {16, 3, 7, ""},
		{0, 1, 0, "N = 0"}, {2, 0, 0, "C = 0"}, {2, 2, -1, "Layer = -1"},
	} {
		err := Check(errTest, c.n, c.c, c.layer)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("Check(%d, %d, %d) = %v, want nil", c.n, c.c, c.layer, err)
		case c.want != "" && (!errors.Is(err, errTest) || !strings.Contains(err.Error(), c.want)):
			t.Errorf("Check(%d, %d, %d) = %v, want an error wrapping %v that names %q", c.n, c.c, c.layer, err, errTest, c.want)
		}
	}
	if _, err := New(Config{N: 1, C: 2, K: 3, Err: errTest}); !errors.Is(err, errTest) {
		t.Errorf("New with N = 1 and K = 3: %v, want an error wrapping %v", err, errTest)
	}
}

// toy is a Residual whose H_res is the token's raw logits (K = n²) scaled
// by a parameter s, and whose record keeps a copy of them: it shows where
// the Chunk's views point and that ∂L/∂raw reaches the head.
type toy struct {
	s    *hc.Param
	ds   float64
	draw []float64
	got  [][]float64 // each call's records, copied
}

func (r *toy) Residual(res []float64, c Chunk) error {
	for t := range c.Tokens {
		raw, rec := c.Raw(t), c.Rec(t)
		copy(rec, raw)
		for i, v := range raw {
			res[t*len(raw)+i] = r.s.Value[0] * v
		}
	}
	return nil
}

func (r *toy) ResidualBackward(dres []float64, c Chunk) []float64 {
	k := len(dres) / c.Tokens
	r.draw = r.draw[:0]
	for t := range c.Tokens {
		rec := c.Rec(t)
		r.got = append(r.got, append([]float64(nil), rec...))
		for i, v := range rec {
			g := dres[t*k+i]
			r.ds += g * v
			r.draw = append(r.draw, r.s.Value[0]*g)
		}
	}
	return r.draw
}

func (r *toy) FlushResidual() { FlushScalar(r.s, &r.ds) }

// TestWorker runs a chunk through a Shell with the toy Residual and
// through the head alone, and checks that the shell adds nothing of its
// own: h_pre, h_post, ∂x and every head gradient are bit-identical, H_res
// is s·raw, the records hold the raw logits after the head's, and the
// toy's parameter gets Σ ∂H_res·raw.
func TestWorker(t *testing.T) {
	const n, c, tokens = 3, 4, 5
	k := n * n
	rnd := rand.New(rand.NewPCG(3, 4))
	s := &hc.Param{Name: "s", Value: []float64{1.5}, Grad: make([]float64, 1)}
	sh, err := New(Config{N: n, C: c, Layer: 1, K: k, RecLen: k, Params: []*hc.Param{s}, Err: errTest})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := head.New(n, c, k, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ps := sh.Params(); len(ps) != 5 || ps[0].Name != "phi" || ps[3].Name != "b_post" || ps[4] != s {
		t.Fatalf("Params: %v", ps)
	}
	if got, want := sh.TapeLen(), ref.TapeLen()+k; got != want {
		t.Fatalf("TapeLen %d, want %d", got, want)
	}
	for i, p := range sh.Params()[:4] {
		for j := range p.Value {
			p.Value[j] = 0.3 * rnd.NormFloat64()
		}
		copy(ref.Params()[i].Value, p.Value)
	}
	normal := func(size int) []float64 {
		v := make([]float64, size)
		for i := range v {
			v[i] = rnd.NormFloat64()
		}
		return v
	}
	x, gp, gq, gr := normal(tokens*n*c), normal(tokens*n), normal(tokens*n), normal(tokens*k)

	r := &toy{s: s}
	w := sh.Worker(r)
	pre, post, res := make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*k)
	tape, dx := make([]float64, tokens*sh.TapeLen()), make([]float64, len(x))
	if err := w.ForwardChunk(pre, post, res, tape, x, tokens); err != nil {
		t.Fatal(err)
	}
	w.BackwardChunk(dx, x, tape, gp, gq, gr, tokens)
	w.Flush()

	hw := ref.NewWorker()
	rpre, rpost, rtape, rdx := make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*ref.TapeLen()), make([]float64, len(x))
	hw.ForwardChunk(rpre, rpost, rtape, ref.TapeLen(), x, tokens)
	var ds float64
	draw := make([]float64, tokens*k)
	for tok := range tokens {
		raw := ref.Raw(rtape[tok*ref.TapeLen():])
		for i, v := range raw {
			if want := 1.5 * v; res[tok*k+i] != want {
				t.Fatalf("token %d: H_res[%d] = %v, want s·raw = %v", tok, i, res[tok*k+i], want)
			}
			if r.got[tok][i] != v {
				t.Fatalf("token %d: record[%d] = %v, want raw %v", tok, i, r.got[tok][i], v)
			}
			ds += gr[tok*k+i] * v
			draw[tok*k+i] = 1.5 * gr[tok*k+i]
		}
	}
	hw.BackwardChunk(rdx, x, rtape, ref.TapeLen(), gp, gq, draw, tokens)
	hw.Flush()
	same := func(what string, a, b []float64) {
		t.Helper()
		for i := range a {
			if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
				t.Fatalf("%s[%d] = %v, want the head's %v", what, i, a[i], b[i])
			}
		}
	}
	same("h_pre", pre, rpre)
	same("h_post", post, rpost)
	same("∂x", dx, rdx)
	for i, p := range sh.Params()[:4] {
		same("∂"+p.Name, p.Grad, ref.Params()[i].Grad)
	}
	if s.Grad[0] != ds || r.ds != 0 {
		t.Errorf("∂s = %v (private %v after Flush), want %v (0)", s.Grad[0], r.ds, ds)
	}
}

// TestUnit checks H_res = Unit·I for a nil Residual at n = 3 and that n = 1
// never calls the Residual.
func TestUnit(t *testing.T) {
	for _, n := range []int{1, 3} {
		sh, err := New(Config{N: n, C: 2, Unit: 2.5, Err: errTest})
		if err != nil {
			t.Fatal(err)
		}
		var w *Worker
		if n == 1 {
			w = sh.Worker(never{t})
		} else {
			w = sh.Worker(nil)
		}
		const tokens = 2
		res := make([]float64, tokens*n*n)
		for i := range res {
			res[i] = math.NaN()
		}
		x := make([]float64, tokens*n*2)
		for i := range x {
			x[i] = float64(i)
		}
		if err := w.ForwardChunk(make([]float64, tokens*n), make([]float64, tokens*n), res, make([]float64, tokens*sh.TapeLen()), x, tokens); err != nil {
			t.Fatal(err)
		}
		for i, v := range res {
			want := 0.0
			if i%(n*n)%(n+1) == 0 {
				want = 2.5
			}
			if v != want {
				t.Fatalf("n=%d: H_res %v, want 2.5·I", n, res)
			}
		}
		w.BackwardChunk(make([]float64, len(x)), x, make([]float64, tokens*sh.TapeLen()), make([]float64, tokens*n),
			make([]float64, tokens*n), make([]float64, tokens*n*n), tokens)
		w.Flush()
	}
}

// never is a Residual that fails the test if called.
type never struct{ t *testing.T }

func (r never) Residual([]float64, Chunk) error {
	r.t.Fatal("Residual called at n = 1")
	return nil
}

func (r never) ResidualBackward([]float64, Chunk) []float64 {
	r.t.Fatal("ResidualBackward called at n = 1")
	return nil
}

func (r never) FlushResidual() { r.t.Fatal("FlushResidual called at n = 1") }

func TestFlush(t *testing.T) {
	p := &hc.Param{Value: make([]float64, 3), Grad: []float64{1, 2, 3}}
	g := []float64{0.5, -2, 4}
	Flush(p, g)
	if p.Grad[0] != 1.5 || p.Grad[1] != 0 || p.Grad[2] != 7 || g[0] != 0 || g[1] != 0 || g[2] != 0 {
		t.Errorf("Flush: Grad %v, private %v", p.Grad, g)
	}
	q := &hc.Param{Value: make([]float64, 1), Grad: []float64{1}}
	v := 0.25
	FlushScalar(q, &v)
	if q.Grad[0] != 1.25 || v != 0 {
		t.Errorf("FlushScalar: Grad %v, private %v", q.Grad, v)
	}
}

// TestGate checks the gate's logits and backward on a token's second
// factor (offset 2) against their formulas.
func TestGate(t *testing.T) {
	g := NewGate(5)
	if len(g.Params()) != 2 || len(NewGate(0).Params()) != 0 {
		t.Fatalf("Params: %v, %v", g.Params(), NewGate(0).Params())
	}
	g.Alpha.Value[0] = 0.5
	copy(g.Bias.Value, []float64{1, 2, 3, 4, 5})
	z := make([]float64, 3)
	g.Logits(z, []float64{2, 4, 6}, 2)
	if z[0] != 4 || z[1] != 6 || z[2] != 8 {
		t.Errorf("Logits = %v, want [4 6 8]", z)
	}
	gg := g.NewGrad()
	draw := gg.Draw(2)
	gg.Backward(1, 2, []float64{2, 4, 6}, []float64{1, -1, 2})
	if want := []float64{0, 0, 0, 0, 0, 0, 0, 0.5, -0.5, 1}; !equal(draw, want) {
		t.Errorf("∂raw = %v, want %v", draw, want)
	}
	gg.Flush()
	if g.Alpha.Grad[0] != 2-4+12 || !equal(g.Bias.Grad, []float64{0, 0, 1, -1, 2}) {
		t.Errorf("∂α = %v, ∂b = %v", g.Alpha.Grad, g.Bias.Grad)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
