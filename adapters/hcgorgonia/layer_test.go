package hcgorgonia_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hyperconn/hyperconn/adapters/hcgorgonia"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
	"github.com/hyperconn/hyperconn/shc"
)

// Tolerances.
const (
	// gradTol bounds |gorgonia − native| for every gradient (issue 6,
	// acceptance 1). Both sides run the same hc code; they differ only in
	// where ∂L/∂X's two terms (H_resᵀ·∂X' and the Pre path) are added, so
	// the gap is a few ulps of the largest term.
	gradTol = 1e-10
	// fdStep is the central-difference step: it balances the O(h²)
	// truncation against the O(ε/h) rounding of a loss of order 10.
	fdStep = 1e-5
	// fdTol bounds |analytic − central difference| relative to
	// max(1, |analytic|): truncation ~h²·|f'''| plus rounding ~1e-16·10/h
	// stay below 1e-7; the exact-projection mixer adds its precision floor
	// (1e-13) divided by h, ~1e-8.
	fdTol = 1e-6
)

// mixerCase builds one mixer of the library for n streams of width c.
type mixerCase struct {
	name string
	n    int // streams used by the tests (1 for the residual)
	new  func(n, c, layer int) (hc.Mixer, error)
}

// mixers lists every mixer the adapter is tested with.
var mixers = []mixerCase{
	{"residual", 1, func(_, c, _ int) (hc.Mixer, error) { return hc.Residual(c), nil }},
	{"hc-static", 4, func(n, c, l int) (hc.Mixer, error) { return hc.New(hc.Config{N: n, C: c, Layer: l}) }},
	{"hc-dynamic", 4, func(n, c, l int) (hc.Mixer, error) { return hc.New(hc.PaperConfig(n, c, l)) }},
	{"mhc", 4, func(n, c, l int) (hc.Mixer, error) { return mhc.New(mhc.PaperConfig(n, c, l)) }},
	{"mhc-exact", 4, func(n, c, l int) (hc.Mixer, error) { return mhc.New(mhc.ExactConfig(n, c, l)) }},
	{"mhclite", 3, func(n, c, l int) (hc.Mixer, error) { return mhclite.New(mhclite.PaperConfig(n, c, l)) }},
	{"shc", 4, func(n, c, l int) (hc.Mixer, error) { return shc.New(shc.PaperConfig(n, c, l)) }},
	{"shc-normalized", 4, func(n, c, l int) (hc.Mixer, error) { return shc.New(shc.NormalizedConfig(n, c, l)) }},
}

// newMixer builds mc's mixer for sub-layer 1 and moves every parameter by
// 0.1·N(0,1) from seed, so that no gradient path is trivially zero (at init
// the dynamic weights are zero).
func newMixer(t testing.TB, mc mixerCase, c int, seed uint64) hc.Mixer {
	t.Helper()
	m, err := mc.new(mc.n, c, 1)
	if err != nil {
		t.Fatalf("%s: %v", mc.name, err)
	}
	rnd := rand.New(rand.NewPCG(seed, 1))
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] += 0.1 * rnd.NormFloat64()
		}
	}
	return m
}

func randSlice(rnd *rand.Rand, k int) []float64 {
	s := make([]float64, k)
	for i := range s {
		s[i] = rnd.NormFloat64()
	}
	return s
}

func dense(data []float64, shape ...int) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func gradOf(t *testing.T, n *G.Node) []float64 {
	t.Helper()
	g, err := n.Grad()
	if err != nil {
		t.Fatalf("grad of %v: %v", n, err)
	}
	return g.(*tensor.Dense).Float64s()
}

// fixture is one sub-layer with the branch f = tanh(in ⊙ W) and the loss
// L = Σ out ⊙ R, with W and R random: R is the random upstream gradient.
type fixture struct {
	tokens, n, c int
	x, w, r      []float64
}

func newFixture(seed uint64, tokens, n, c int) fixture {
	rnd := rand.New(rand.NewPCG(seed, 2))
	return fixture{
		tokens: tokens, n: n, c: c,
		x: randSlice(rnd, tokens*n*c),
		w: randSlice(rnd, tokens*c),
		r: randSlice(rnd, tokens*n*c),
	}
}

// native runs the fixture with the library alone and returns the output,
// ∂L/∂x, and the parameter gradients left in m's Params.
func (fx fixture) native(t *testing.T, m hc.Mixer) (out, dx []float64) {
	t.Helper()
	T, n, c := fx.tokens, fx.n, fx.c
	l := hc.NewLayer(m)
	hc.ZeroGrad(m)
	in := make([]float64, T*c)
	if err := l.Pre(in, fx.x, T); err != nil {
		t.Fatal(err)
	}
	f := make([]float64, T*c)
	for i := range f {
		f[i] = math.Tanh(in[i] * fx.w[i])
	}
	out = make([]float64, T*n*c)
	if err := l.Post(out, f); err != nil {
		t.Fatal(err)
	}
	dx = make([]float64, T*n*c)
	df := make([]float64, T*c)
	l.PostBackward(dx, df, fx.r)
	din := make([]float64, T*c)
	for i := range din {
		din[i] = df[i] * (1 - f[i]*f[i]) * fx.w[i]
	}
	l.PreBackward(dx, din)
	return out, dx
}

// graph builds the fixture as a gorgonia graph over m.
type graph struct {
	g       *G.ExprGraph
	x, out  *G.Node
	in      *G.Node
	loss    *G.Node
	layer   *hcgorgonia.Layer
	wrt     G.Nodes
	machine G.VM
}

func (fx fixture) graph(t *testing.T, m hc.Mixer) *graph {
	t.Helper()
	T, n, c := fx.tokens, fx.n, fx.c
	gr := &graph{g: G.NewGraph()}
	g := gr.g
	gr.x = G.NewMatrix(g, G.Float64, G.WithShape(T, n*c), G.WithName("x"),
		G.WithValue(dense(append([]float64(nil), fx.x...), T, n*c)))
	w := G.NewConstant(dense(fx.w, T, c), G.WithName("W"))
	r := G.NewConstant(dense(fx.r, T, n*c), G.WithName("R"))
	var err error
	if gr.layer, err = hcgorgonia.NewLayer(g, m, "l1"); err != nil {
		t.Fatal(err)
	}
	gr.out, err = gr.layer.Apply(gr.x, func(in *G.Node) (*G.Node, error) {
		gr.in = in
		return G.Tanh(G.Must(G.HadamardProd(in, w)))
	})
	if err != nil {
		t.Fatal(err)
	}
	gr.loss = G.Must(G.Sum(G.Must(G.HadamardProd(gr.out, r))))
	gr.wrt = append(G.Nodes{gr.x}, gr.layer.Params()...)
	if _, err := G.Grad(gr.loss, gr.wrt...); err != nil {
		t.Fatal(err)
	}
	gr.machine = G.NewTapeMachine(g, G.BindDualValues(gr.wrt...))
	t.Cleanup(func() { gr.machine.Close() })
	return gr
}

func (gr *graph) run(t *testing.T) {
	t.Helper()
	gr.machine.Reset()
	if err := gr.machine.RunAll(); err != nil {
		t.Fatal(err)
	}
}

// TestGradientsMatchNative is acceptance test 1 of issue 6: for every
// mixer, the gradients gorgonia computes (Grad + TapeMachine) equal the
// library's native backward within gradTol, with a random upstream
// gradient; the forward outputs are bit-for-bit equal.
func TestGradientsMatchNative(t *testing.T) {
	const tokens, c = 5, 6
	for k, mc := range mixers {
		t.Run(mc.name, func(t *testing.T) {
			seed := uint64(100 + k)
			fx := newFixture(seed, tokens, mc.n, c)
			mNative := newMixer(t, mc, c, seed)
			mGraph := newMixer(t, mc, c, seed)
			wantOut, wantDx := fx.native(t, mNative)

			gr := fx.graph(t, mGraph)
			gr.run(t)
			gotOut := gr.out.Value().(*tensor.Dense).Float64s()
			if d := maxAbsDiff(gotOut, wantOut); d != 0 {
				t.Errorf("forward output differs from native by %g, want bit-for-bit equal", d)
			}
			if d := maxAbsDiff(gradOf(t, gr.x), wantDx); d > gradTol {
				t.Errorf("∂L/∂x: max |gorgonia − native| = %g > %g", d, gradTol)
			}
			worst := 0.0
			for i, p := range mNative.Params() {
				got := gradOf(t, gr.layer.Params()[i])
				d := maxAbsDiff(got, p.Grad)
				worst = max(worst, d)
				if d > gradTol {
					t.Errorf("∂L/∂%s: max |gorgonia − native| = %g > %g", p.Name, d, gradTol)
				}
				if norm(p.Grad) == 0 {
					t.Errorf("∂L/∂%s is zero: the comparison proves nothing", p.Name)
				}
			}
			t.Logf("max |Δ∂x| = %.3g, max |Δ∂θ| = %.3g", maxAbsDiff(gradOf(t, gr.x), wantDx), worst)
		})
	}
}

func norm(s []float64) float64 {
	var ss float64
	for _, v := range s {
		ss += v * v
	}
	return math.Sqrt(ss)
}

// TestFiniteDifferences checks the gradients of a whole gorgonia pipeline,
// Expand → sub-layer → Reduce, against central differences of the loss
// L = Σ Reduce(out) ⊙ R (R random), for the embedding and every parameter
// of every mixer. It covers the Expand and Reduce ops' gradients too.
func TestFiniteDifferences(t *testing.T) {
	const tokens, c = 3, 4
	for k, mc := range mixers {
		t.Run(mc.name, func(t *testing.T) {
			seed := uint64(200 + k)
			rnd := rand.New(rand.NewPCG(seed, 3))
			m := newMixer(t, mc, c, seed)
			g := G.NewGraph()
			embData := randSlice(rnd, tokens*c)
			emb := G.NewMatrix(g, G.Float64, G.WithShape(tokens, c), G.WithName("e"),
				G.WithValue(dense(embData, tokens, c)))
			w := G.NewConstant(dense(randSlice(rnd, tokens*c), tokens, c), G.WithName("W"))
			r := G.NewConstant(dense(randSlice(rnd, tokens*c), tokens, c), G.WithName("R"))
			l, err := hcgorgonia.NewLayer(g, m, "l")
			if err != nil {
				t.Fatal(err)
			}
			x := G.Must(hcgorgonia.Expand(emb, mc.n))
			out := G.Must(l.Apply(x, func(in *G.Node) (*G.Node, error) {
				return G.Tanh(G.Must(G.HadamardProd(in, w)))
			}))
			y := G.Must(hcgorgonia.Reduce(out, mc.n))
			loss := G.Must(G.Sum(G.Must(G.HadamardProd(y, r))))
			wrt := append(G.Nodes{emb}, l.Params()...)
			if _, err := G.Grad(loss, wrt...); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
			defer vm.Close()
			lossAt := func() float64 {
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				return loss.Value().Data().(float64)
			}
			lossAt()
			// Copy the analytic gradients: every further run adds to them.
			analytic := make([][]float64, len(wrt))
			for i, n := range wrt {
				analytic[i] = append([]float64(nil), gradOf(t, n)...)
			}
			values := [][]float64{embData}
			for _, p := range m.Params() {
				values = append(values, p.Value) // the nodes share p.Value
			}
			worst := 0.0
			for i, v := range values {
				for j := range v {
					old := v[j]
					v[j] = old + fdStep
					up := lossAt()
					v[j] = old - fdStep
					down := lossAt()
					v[j] = old
					fd := (up - down) / (2 * fdStep)
					a := analytic[i][j]
					e := math.Abs(a-fd) / max(1, math.Abs(a))
					worst = max(worst, e)
					if e > fdTol {
						t.Errorf("%s[%d]: analytic %.10g, central difference %.10g", wrt[i].Name(), j, a, fd)
					}
				}
			}
			t.Logf("worst relative deviation from central differences: %.3g", worst)
		})
	}
}

// TestAccumulation documents gorgonia's caveat: each RunAll adds its
// gradient into the dual values, TapeMachine.Reset does not clear them, and
// only a solver step or ZeroGrad does.
func TestAccumulation(t *testing.T) {
	mc := mixers[3] // mhc
	fx := newFixture(7, 4, mc.n, 5)
	gr := fx.graph(t, newMixer(t, mc, 5, 7))
	gr.run(t)
	first := append([]float64(nil), gradOf(t, gr.layer.Params()[0])...)
	gr.run(t)
	second := gradOf(t, gr.layer.Params()[0])
	for i := range first {
		if second[i] != 2*first[i] {
			t.Fatalf("after two runs grad[%d] = %v, want exactly twice %v", i, second[i], first[i])
		}
	}
	hcgorgonia.ZeroGrad(gr.wrt...)
	if norm(gradOf(t, gr.layer.Params()[0])) != 0 || norm(gradOf(t, gr.x)) != 0 {
		t.Fatal("ZeroGrad left non-zero gradients")
	}
	gr.run(t)
	if d := maxAbsDiff(gradOf(t, gr.layer.Params()[0]), first); d != 0 {
		t.Fatalf("after ZeroGrad and one run the gradient differs from the first by %g", d)
	}
}

// TestSolverUpdatesMixer checks that a gorgonia solver step is seen by the
// mixer: the parameter nodes share the hc.Param values.
func TestSolverUpdatesMixer(t *testing.T) {
	const lr = 0.5
	mc := mixers[3] // mhc
	fx := newFixture(8, 4, mc.n, 5)
	m := newMixer(t, mc, 5, 8)
	gr := fx.graph(t, m)
	gr.run(t)
	p := m.Params()[0]
	before := append([]float64(nil), p.Value...)
	grad := append([]float64(nil), gradOf(t, gr.layer.Params()[0])...)
	solver := G.NewVanillaSolver(G.WithLearnRate(lr))
	if err := solver.Step(G.NodesToValueGrads(gr.layer.Params())); err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if want := before[i] - lr*grad[i]; p.Value[i] != want {
			t.Fatalf("%s[%d] = %v after the step, want %v − %v·%v = %v", p.Name, i, p.Value[i], before[i], lr, grad[i], want)
		}
	}
	nodeVals := gr.layer.Params()[0].Value().(*tensor.Dense).Float64s()
	if &nodeVals[0] != &p.Value[0] {
		t.Fatal("the parameter node no longer shares the mixer's storage")
	}
	if norm(gradOf(t, gr.layer.Params()[0])) != 0 {
		t.Fatal("the solver step did not zero the accumulated gradient")
	}
	// Adam updates in place too.
	gr.run(t)
	adam := G.NewAdamSolver(G.WithLearnRate(0.01))
	if err := adam.Step(G.NodesToValueGrads(gr.layer.Params())); err != nil {
		t.Fatal(err)
	}
	for i, n := range gr.layer.Params() {
		v := n.Value().(*tensor.Dense).Float64s()
		if d := maxAbsDiff(v, m.Params()[i].Value); d != 0 || &v[0] != &m.Params()[i].Value[0] {
			t.Fatalf("after an Adam step node %s and the mixer disagree", n.Name())
		}
	}
}

// TestReboundParameter checks that a parameter node rebound with Let to a
// tensor of its own is copied into the mixer at the next run.
func TestReboundParameter(t *testing.T) {
	mc := mixers[3]
	fx := newFixture(9, 3, mc.n, 4)
	m := newMixer(t, mc, 4, 9)
	gr := fx.graph(t, m)
	node, p := gr.layer.Params()[0], m.Params()[0]
	fresh := make([]float64, len(p.Value))
	for i := range fresh {
		fresh[i] = 0.25 + float64(i)
	}
	if err := G.Let(node, dense(fresh, len(fresh))); err != nil {
		t.Fatal(err)
	}
	gr.run(t)
	if d := maxAbsDiff(p.Value, fresh); d != 0 {
		t.Fatalf("mixer parameter differs from the rebound node value by %g", d)
	}
}

// TestPostOffPath checks the gradient when only the branch input reaches
// the cost: Post's gradient op never runs and Pre's backward must still
// give the native result.
func TestPostOffPath(t *testing.T) {
	mc := mixers[3]
	const T, c = 4, 5
	fx := newFixture(10, T, mc.n, c)
	rnd := rand.New(rand.NewPCG(10, 4))
	r := randSlice(rnd, T*c)
	mNative, mGraph := newMixer(t, mc, c, 10), newMixer(t, mc, c, 10)

	l := hc.NewLayer(mNative)
	hc.ZeroGrad(mNative)
	in := make([]float64, T*c)
	if err := l.Pre(in, fx.x, T); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, T*mc.n*c)
	if err := l.Post(out, make([]float64, T*c)); err != nil {
		t.Fatal(err)
	}
	dx := make([]float64, T*mc.n*c)
	l.PostBackward(dx, make([]float64, T*c), make([]float64, T*mc.n*c))
	l.PreBackward(dx, r)

	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float64, G.WithShape(T, mc.n*c), G.WithName("x"), G.WithValue(dense(fx.x, T, mc.n*c)))
	gl, err := hcgorgonia.NewLayer(g, mGraph, "l")
	if err != nil {
		t.Fatal(err)
	}
	inN := G.Must(gl.Pre(x))
	G.Must(gl.Post(x, G.Must(G.Tanh(inN))))
	loss := G.Must(G.Sum(G.Must(G.HadamardProd(inN, G.NewConstant(dense(r, T, c))))))
	wrt := append(G.Nodes{x}, gl.Params()...)
	if _, err := G.Grad(loss, wrt...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g, G.BindDualValues(wrt...))
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(gradOf(t, x), dx); d > gradTol {
		t.Errorf("∂L/∂x differs from native by %g", d)
	}
	for i, p := range mNative.Params() {
		if d := maxAbsDiff(gradOf(t, gl.Params()[i]), p.Grad); d > gradTol {
			t.Errorf("∂L/∂%s differs from native by %g", p.Name, d)
		}
	}
}

// TestNotFinite checks that a NaN in the streams is a returned error that
// wraps hc.ErrNotFinite, through gorgonia's own error wrapping.
func TestNotFinite(t *testing.T) {
	mc := mixers[3]
	fx := newFixture(11, 3, mc.n, 4)
	fx.x[5] = math.NaN()
	gr := fx.graph(t, newMixer(t, mc, 4, 11))
	gr.machine.Reset()
	err := gr.machine.RunAll()
	if err == nil {
		t.Fatal("RunAll on a NaN succeeded")
	}
	if !errors.Is(hcgorgonia.Cause(err), hc.ErrNotFinite) {
		t.Fatalf("RunAll error %v: its Cause does not wrap hc.ErrNotFinite", err)
	}
	if out := gr.out.Value(); out != nil {
		t.Fatalf("the failed run bound an output %v", out)
	}
}

// TestMisuse checks the graph-building errors.
func TestMisuse(t *testing.T) {
	const T, n, c = 2, 4, 3
	setup := func() (*G.ExprGraph, *hcgorgonia.Layer, *G.Node) {
		g := G.NewGraph()
		m, err := mhc.New(mhc.PaperConfig(n, c, 0))
		if err != nil {
			t.Fatal(err)
		}
		l, err := hcgorgonia.NewLayer(g, m, "l")
		if err != nil {
			t.Fatal(err)
		}
		x := G.NewMatrix(g, G.Float64, G.WithShape(T, n*c), G.WithName("x"), G.WithInit(G.Zeroes()))
		return g, l, x
	}
	cases := []struct {
		name string
		do   func() error
		want error
	}{
		{"Pre twice", func() error {
			_, l, x := setup()
			G.Must(l.Pre(x))
			_, err := l.Pre(x)
			return err
		}, hcgorgonia.ErrSequence},
		{"Post before Pre", func() error {
			g, l, x := setup()
			f := G.NewMatrix(g, G.Float64, G.WithShape(T, c), G.WithName("f"), G.WithInit(G.Zeroes()))
			_, err := l.Post(x, f)
			return err
		}, hcgorgonia.ErrSequence},
		{"Post on other streams", func() error {
			g, l, x := setup()
			in := G.Must(l.Pre(x))
			y := G.NewMatrix(g, G.Float64, G.WithShape(T, n*c), G.WithName("y"), G.WithInit(G.Zeroes()))
			_, err := l.Post(y, in)
			return err
		}, hcgorgonia.ErrSequence},
		{"Post twice", func() error {
			_, l, x := setup()
			in := G.Must(l.Pre(x))
			G.Must(l.Post(x, in))
			_, err := l.Post(x, in)
			return err
		}, hcgorgonia.ErrSequence},
		{"wrong stream width", func() error {
			g, l, _ := setup()
			x := G.NewMatrix(g, G.Float64, G.WithShape(T, n*c+1), G.WithName("x2"), G.WithInit(G.Zeroes()))
			_, err := l.Pre(x)
			return err
		}, hcgorgonia.ErrShape},
		{"wrong branch width", func() error {
			g, l, x := setup()
			G.Must(l.Pre(x))
			f := G.NewMatrix(g, G.Float64, G.WithShape(T, c+1), G.WithName("f"), G.WithInit(G.Zeroes()))
			_, err := l.Post(x, f)
			return err
		}, hcgorgonia.ErrShape},
		{"wrong branch rows", func() error {
			g, l, x := setup()
			G.Must(l.Pre(x))
			f := G.NewMatrix(g, G.Float64, G.WithShape(T+1, c), G.WithName("f"), G.WithInit(G.Zeroes()))
			_, err := l.Post(x, f)
			return err
		}, hcgorgonia.ErrShape},
		{"float32 streams", func() error {
			g, l, _ := setup()
			x := G.NewMatrix(g, tensor.Float32, G.WithShape(T, n*c), G.WithName("x32"), G.WithInit(G.Zeroes()))
			_, err := l.Pre(x)
			return err
		}, hcgorgonia.ErrDtype},
		{"duplicate layer name", func() error {
			g, _, _ := setup()
			m, _ := mhc.New(mhc.PaperConfig(n, c, 1))
			_, err := hcgorgonia.NewLayer(g, m, "l")
			return err
		}, hcgorgonia.ErrName},
		{"Expand n=0", func() error {
			g, _, _ := setup()
			e := G.NewMatrix(g, G.Float64, G.WithShape(T, c), G.WithName("e"), G.WithInit(G.Zeroes()))
			_, err := hcgorgonia.Expand(e, 0)
			return err
		}, hcgorgonia.ErrShape},
		{"Reduce width not a multiple of n", func() error {
			_, _, x := setup()
			_, err := hcgorgonia.Reduce(x, 5)
			return err
		}, hcgorgonia.ErrShape},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want one wrapping %v", err, tc.want)
			}
			if s := err.Error(); len(s) < 11 || s[:11] != "hcgorgonia:" {
				t.Errorf("error %q does not start with the package name", s)
			}
		})
	}
}

// TestTwoLayersDistinct checks that two Layers over equal mixers on the
// same streams stay two nodes (gorgonia merges nodes that hash alike).
func TestTwoLayersDistinct(t *testing.T) {
	g := G.NewGraph()
	x := G.NewMatrix(g, G.Float64, G.WithShape(2, 8), G.WithName("x"), G.WithInit(G.Zeroes()))
	var ins G.Nodes
	for k := range 2 {
		m, err := mhc.New(mhc.PaperConfig(4, 2, 0))
		if err != nil {
			t.Fatal(err)
		}
		l, err := hcgorgonia.NewLayer(g, m, fmt.Sprintf("l%d", k))
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, G.Must(l.Pre(x)))
	}
	if ins[0] == ins[1] {
		t.Fatal("two Layers' Pre nodes were merged into one")
	}
}

// TestStartsWithoutEnvironment re-runs this test binary with the
// go4.org/unsafe/assume-no-moving-gc override variable removed: gorgonia
// panics at init on Go ≥ 1.20 unless go.mod raises that module (SPEC §9),
// and users must not need the variable.
func TestStartsWithoutEnvironment(t *testing.T) {
	const override = "ASSUME_NO_MOVING_GC_UNSAFE_RISK_IT_WITH"
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, override+"=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTwoLayersDistinct$", "-test.count=1")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("test binary without %s: %v\n%s", override, err, out)
	}
}
