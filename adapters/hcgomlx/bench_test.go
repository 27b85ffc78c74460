package hcgomlx

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
)

// BenchmarkSubLayer times one mHC sub-layer's forward and backward pass (the
// coefficients, h_pre·X, H_res·X + h_postᵀ·f and every gradient, for a
// given branch output f and upstream gradients) at n = 4, C = 256 and 256
// tokens: in GoMLX on its pure-Go backend (a compiled graph, inputs copied
// in and the results — the branch input, the new streams, ∂X, ∂f and the
// parameter gradients — on the host), and natively with hc.Layer (Pre,
// Post, PostBackward, PreBackward). Each iteration runs both, one after the
// other, so that a busy machine slows both alike; it reports each one's
// time per pass and their ratio. The branch is not included: it is the same
// work in both.
func BenchmarkSubLayer(b *testing.B) {
	const n, c, tokens = 4, 256, 256
	for _, mc := range []struct {
		name string
		cfg  mhc.Config
	}{
		{"mhc", mhc.PaperConfig(n, c, 1)},
		{"mhc-exact", mhc.ExactConfig(n, c, 1)},
	} {
		m, err := mhc.New(mc.cfg)
		if err != nil {
			b.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		for _, p := range m.Params() {
			for i := range p.Value {
				p.Value[i] += 0.01 * rnd.NormFloat64()
			}
		}
		x, f := randSlice(rnd, tokens*n*c), randSlice(rnd, tokens*c)
		dout, din := randSlice(rnd, tokens*n*c), randSlice(rnd, tokens*c)
		b.Run("mixer="+mc.name, func(b *testing.B) {
			l := hc.NewLayer(m)
			in, out := make([]float64, tokens*c), make([]float64, tokens*n*c)
			dx, df := make([]float64, tokens*n*c), make([]float64, tokens*c)
			native := func() {
				if err := l.Pre(in, x, tokens); err != nil {
					b.Fatal(err)
				}
				if err := l.Post(out, f); err != nil {
					b.Fatal(err)
				}
				hc.ZeroGrad(m)
				clear(dx)
				l.PostBackward(dx, df, dout)
				l.PreBackward(dx, din)
			}
			mix, err := New(m, dtypes.Float64)
			if err != nil {
				b.Fatal(err)
			}
			exec := model.MustNewExec(testBackend(b), model.NewStore(), func(scope *model.Scope, x, f, dout, din *graph.Node) []*graph.Node {
				co := mix.Coefficients(scope, x)
				in := co.Read(x)
				out := co.Write(x, f)
				loss := graph.Add(graph.ReduceAllSum(graph.Mul(out, dout)), graph.ReduceAllSum(graph.Mul(in, din)))
				grads := graph.Gradient(loss, append([]*graph.Node{x, f}, mix.Variables(scope, x.Graph())...)...)
				return append([]*graph.Node{in, out}, grads...)
			})
			args := []any{tensors.FromFlatDataAndDimensions(x, tokens, n, c), tensors.FromFlatDataAndDimensions(f, tokens, c),
				tensors.FromFlatDataAndDimensions(dout, tokens, n, c), tensors.FromFlatDataAndDimensions(din, tokens, c)}
			gomlx := func() {
				for _, o := range exec.MustExec(args...) {
					tensors.MustConstFlatData(o, func([]float64) {}) // the results on the host
				}
			}
			gomlx() // compile
			native()
			var tn, tg time.Duration
			for b.Loop() {
				t0 := time.Now()
				native()
				t1 := time.Now()
				gomlx()
				tn, tg = tn+t1.Sub(t0), tg+time.Since(t1)
			}
			k := float64(b.N)
			b.ReportMetric(float64(tn.Microseconds())/1e3/k, "native-ms")
			b.ReportMetric(float64(tg.Microseconds())/1e3/k, "gomlx-ms")
			b.ReportMetric(float64(tg)/float64(tn), "gomlx/native")
		})
	}
}
