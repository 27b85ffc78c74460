package hcgomlx

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
	"github.com/hyperconn/hyperconn/shc"
)

// Tolerances of the comparison with the native layer (acceptance line 1).
const (
	// fwdTol bounds |GoMLX − native| for the branch input and the new
	// streams: the same formulas with sums in another order (and, for
	// mhc Exact, another path to the same projection at its floor).
	fwdTol = 1e-12
	// f32Tol bounds the float32 graph against the float64 native layer,
	// relative to max(1, |value|): float32 rounding (6e-8) through the
	// head's sums of nC terms and, for the projections, a few Newton or
	// Sinkhorn steps.
	f32Tol = 1e-4
)

// mixerCase builds one native mixer.
type mixerCase struct {
	name string
	ns   []int
	new  func(n, c, layer int) (hc.Mixer, error)
}

// mixerCases lists every mixer with a graph form, at n = 1, 2, 3, 4 and 8
// (acceptance line 1 asks for 2, 3, 4 and 8; n = 1 has no residual
// parameters: H_res = [1], or [r] for shc).
var mixerCases = []mixerCase{
	{"hc-static", []int{1, 2, 3, 4, 8}, func(n, c, l int) (hc.Mixer, error) { return hc.New(hc.Config{N: n, C: c, Layer: l}) }},
	{"hc-dynamic", []int{1, 2, 3, 4, 8}, func(n, c, l int) (hc.Mixer, error) { return hc.New(hc.PaperConfig(n, c, l)) }},
	{"hc-dynamic-notanh", []int{3}, func(n, c, l int) (hc.Mixer, error) {
		return hc.New(hc.Config{N: n, C: c, Layer: l, Dynamic: true, NoTanh: true})
	}},
	{"mhc", []int{1, 2, 3, 4, 8}, func(n, c, l int) (hc.Mixer, error) { return mhc.New(mhc.PaperConfig(n, c, l)) }},
	{"mhc-fixed7", []int{3, 4}, func(n, c, l int) (hc.Mixer, error) {
		cfg := mhc.PaperConfig(n, c, l)
		cfg.Projection.Iterations = 7
		return mhc.New(cfg)
	}},
	{"mhc-exact", []int{1, 2, 3, 4, 8}, func(n, c, l int) (hc.Mixer, error) { return mhc.New(mhc.ExactConfig(n, c, l)) }},
	{"mhclite", []int{1, 2, 3, 4, 8}, func(n, c, l int) (hc.Mixer, error) { return mhclite.New(mhclite.PaperConfig(n, c, l)) }},
	{"shc", []int{1, 2, 3, 4, 8}, func(n, c, l int) (hc.Mixer, error) { return shc.New(shc.PaperConfig(n, c, l)) }},
	{"shc-radius", []int{3}, func(n, c, l int) (hc.Mixer, error) {
		cfg := shc.PaperConfig(n, c, l)
		cfg.Radius = 0.9
		return shc.New(cfg)
	}},
}

// newMixer builds mc's mixer for sub-layer 1 and moves every parameter by
// scale·N(0,1), so that no gradient path is trivially zero (at init the
// dynamic weights and Φ are zero).
func newMixer(t testing.TB, mc mixerCase, n, c int, scale float64, seed uint64) hc.Mixer {
	t.Helper()
	m, err := mc.new(n, c, 1)
	if err != nil {
		t.Fatalf("%s: %v", mc.name, err)
	}
	rnd := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params() {
		for i := range p.Value {
			p.Value[i] += scale * rnd.NormFloat64()
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

// nativeRun is one native forward and backward: the branch input and new
// streams, and the gradients of ⟨dout, out⟩ + ⟨din, in⟩ with respect to x,
// f and every parameter (in Params order).
type nativeRun struct {
	in, out, dx, df []float64
	dp              [][]float64
}

func runNative(t testing.TB, m hc.Mixer, x, f, dout, din []float64, tokens int) nativeRun {
	t.Helper()
	n, c := m.Shape()
	l := hc.NewLayer(m)
	r := nativeRun{in: make([]float64, tokens*c), out: make([]float64, tokens*n*c),
		dx: make([]float64, tokens*n*c), df: make([]float64, tokens*c)}
	if err := l.Pre(r.in, x, tokens); err != nil {
		t.Fatal(err)
	}
	if err := l.Post(r.out, f); err != nil {
		t.Fatal(err)
	}
	hc.ZeroGrad(m)
	l.PostBackward(r.dx, r.df, dout)
	l.PreBackward(r.dx, din)
	for _, p := range m.Params() {
		r.dp = append(r.dp, append([]float64(nil), p.Grad...))
	}
	return r
}

// graphRun is runNative in GoMLX: the same outputs and gradients, plus the
// certificate.
func graphRun(t testing.TB, mix *Mixer, x, f, dout, din []float64, tokens int) (nativeRun, float64) {
	t.Helper()
	n, c := mix.Shape()
	store := model.NewStore()
	exec := model.MustNewExec(testBackend(t), store, func(scope *model.Scope, x, f, dout, din *graph.Node) []*graph.Node {
		co := mix.Coefficients(scope, x)
		in := co.Read(x)
		out := co.Write(x, f)
		loss := graph.Add(graph.ReduceAllSum(graph.Mul(out, dout)), graph.ReduceAllSum(graph.Mul(in, din)))
		vars := mix.Variables(scope, x.Graph())
		grads := graph.Gradient(loss, append([]*graph.Node{x, f}, vars...)...)
		return append([]*graph.Node{in, out, co.Deviation}, grads...)
	})
	conv := func(v []float64, dims ...int) *tensors.Tensor {
		if mix.DType() == dtypes.Float32 {
			w := make([]float32, len(v))
			for i := range v {
				w[i] = float32(v[i])
			}
			return tensors.FromFlatDataAndDimensions(w, dims...)
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	outs := exec.MustExec(conv(x, tokens, n, c), conv(f, tokens, c), conv(dout, tokens, n, c), conv(din, tokens, c))
	get := func(t *tensors.Tensor) []float64 {
		if mix.DType() == dtypes.Float32 {
			var w []float64
			for _, v := range tensors.MustCopyFlatData[float32](t) {
				w = append(w, float64(v))
			}
			return w
		}
		return tensors.MustCopyFlatData[float64](t)
	}
	r := nativeRun{in: get(outs[0]), out: get(outs[1]), dx: get(outs[3]), df: get(outs[4])}
	for _, o := range outs[5:] {
		r.dp = append(r.dp, get(o))
	}
	return r, get(outs[2])[0]
}

// TestMatchesNative is acceptance line 1: for every mixer and n = 1, 2, 3,
// 4, 8, float64, the graph's branch input and new streams equal the native
// hc.Layer's within fwdTol, and its gradients (of X, the branch output and
// every parameter, random upstream gradients) the native backward's within
// gradTol; the exact projection's certificate is ≤ dsTol.
func TestMatchesNative(t *testing.T) {
	const c, tokens = 3, 6 // 6 tokens: mhc's four-token Fixed path and the single-token one
	var worstF, worstG float64
	for ci, mc := range mixerCases {
		for _, n := range mc.ns {
			t.Run(fmt.Sprintf("%s/n=%d", mc.name, n), func(t *testing.T) {
				m := newMixer(t, mc, n, c, 0.3, uint64(ci*10+n))
				rnd := rand.New(rand.NewPCG(uint64(n), 9))
				x, f := randSlice(rnd, tokens*n*c), randSlice(rnd, tokens*c)
				dout, din := randSlice(rnd, tokens*n*c), randSlice(rnd, tokens*c)
				want := runNative(t, m, x, f, dout, din, tokens)
				mix, err := New(m, dtypes.Float64)
				if err != nil {
					t.Fatal(err)
				}
				got, dev := graphRun(t, mix, x, f, dout, din, tokens)
				df := max(maxAbsDiff(got.in, want.in), maxAbsDiff(got.out, want.out))
				dg := max(maxAbsDiff(got.dx, want.dx), maxAbsDiff(got.df, want.df))
				if df > fwdTol {
					t.Errorf("forward: |GoMLX − native| = %.3g > %g", df, fwdTol)
				}
				if dg > gradTol {
					t.Errorf("∂x, ∂f: |GoMLX − native| = %.3g > %g", dg, gradTol)
				}
				for k, p := range m.Params() {
					d := maxAbsDiff(got.dp[k], want.dp[k])
					dg = max(dg, d)
					if d > gradTol {
						t.Errorf("∂%s: |GoMLX − native| = %.3g > %g", p.Name, d, gradTol)
					}
					if maxAbs(want.dp[k]) == 0 {
						t.Errorf("∂%s is zero: the test does not reach it", p.Name)
					}
				}
				if mc.name == "mhc-exact" && !(dev <= dsTol) {
					t.Errorf("exact projection: certificate %.3g > %g", dev, dsTol)
				}
				worstF, worstG = max(worstF, df), max(worstG, dg)
				t.Logf("forward %.3g, gradients %.3g, deviation %.3g", df, dg, dev)
			})
		}
	}
	t.Logf("worst over all mixers: forward %.3g, gradients %.3g", worstF, worstG)
}

func maxAbs(v []float64) float64 {
	var m float64
	for _, x := range v {
		m = max(m, math.Abs(x))
	}
	return m
}

// TestFloat32 runs every mixer's graph in float32 against the float64
// native layer.
func TestFloat32(t *testing.T) {
	const c, tokens, n = 4, 5, 4
	for ci, mc := range mixerCases {
		t.Run(mc.name, func(t *testing.T) {
			m := newMixer(t, mc, n, c, 0.3, uint64(ci))
			rnd := rand.New(rand.NewPCG(3, 9))
			x, f := randSlice(rnd, tokens*n*c), randSlice(rnd, tokens*c)
			dout, din := randSlice(rnd, tokens*n*c), randSlice(rnd, tokens*c)
			want := runNative(t, m, x, f, dout, din, tokens)
			mix, err := New(m, dtypes.Float32)
			if err != nil {
				t.Fatal(err)
			}
			got, dev := graphRun(t, mix, x, f, dout, din, tokens)
			check := func(what string, a, b []float64) {
				for i := range a {
					if math.Abs(a[i]-b[i]) > f32Tol*max(1, math.Abs(b[i])) {
						t.Errorf("%s[%d]: float32 %g, native %g", what, i, a[i], b[i])
						return
					}
				}
			}
			check("in", got.in, want.in)
			check("out", got.out, want.out)
			check("∂x", got.dx, want.dx)
			check("∂f", got.df, want.df)
			for k, p := range m.Params() {
				check("∂"+p.Name, got.dp[k], want.dp[k])
			}
			if mc.name == "mhc-exact" && !(dev <= 2e-6) {
				t.Errorf("float32 exact projection: certificate %.3g > 2e-6", dev)
			}
		})
	}
}

func TestNewUnsupported(t *testing.T) {
	nm, _ := shc.New(shc.NormalizedConfig(3, 2, 0))
	tol, _ := mhc.New(mhc.Config{N: 3, C: 2, Projection: birkhoff.Options{Method: birkhoff.Tolerance}})
	hs, _ := hc.New(hc.Config{N: 2, C: 2})
	for _, tc := range []struct {
		name string
		m    hc.Mixer
		dt   dtypes.DType
	}{
		{"residual", hc.Residual(2), dtypes.Float64},
		{"shc-normalized", nm, dtypes.Float64},
		{"mhc-tolerance", tol, dtypes.Float64},
		{"nil", nil, dtypes.Float64},
		{"int32", hs, dtypes.Int32},
	} {
		if _, err := New(tc.m, tc.dt); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want ErrUnsupported", tc.name, err)
		}
	}
}

// TestShapePanics: a graph input of the wrong shape or dtype, or a branch
// that changes the width, is a programming error: a panic wrapping
// ErrShape.
func TestShapePanics(t *testing.T) {
	m, err := mhc.New(mhc.PaperConfig(3, 4, 0))
	if err != nil {
		t.Fatal(err)
	}
	mix, err := New(m, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		dt     dtypes.DType
		dims   []int
		branch func(*graph.Node) *graph.Node
	}{
		{"n", dtypes.Float64, []int{5, 2, 4}, nil},
		{"C", dtypes.Float64, []int{5, 3, 5}, nil},
		{"rank", dtypes.Float64, []int{3, 4}, nil},
		{"dtype", dtypes.Float32, []int{5, 3, 4}, nil},
		{"branch", dtypes.Float64, []int{5, 3, 4}, func(in *graph.Node) *graph.Node { return graph.Concatenate([]*graph.Node{in, in}, -1) }},
	} {
		err := func() (err error) {
			defer func() {
				r := recover()
				e, _ := r.(error)
				err = e
			}()
			g := graph.NewGraph(testBackend(t), "shape")
			x := graph.Parameter(g, "x", shapes.Make(tc.dt, tc.dims...))
			scope := model.NewStore().RootScope()
			if tc.branch != nil {
				mix.Apply(scope, x, tc.branch)
			} else {
				mix.Coefficients(scope, x)
			}
			return nil
		}()
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: panic %v, want ErrShape", tc.name, err)
		}
	}
}
