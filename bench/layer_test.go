package bench_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/idhc"
	"github.com/hyperconn/hyperconn/internal/gemm"
	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
	"github.com/hyperconn/hyperconn/orthohc"
	"github.com/hyperconn/hyperconn/shc"
)

// benchMLP is a C→4C→C ReLU MLP over a batch, forward and backward with
// gonum's Dgemm: the branch of the Layer benchmarks.
type benchMLP struct {
	tokens, c     int
	w1, w2        blas64.General // C×4C, 4C×C
	dw1, dw2      blas64.General
	in, hid, dhid blas64.General // tokens×C, tokens×4C, tokens×4C
}

func newBenchMLP(rnd *rand.Rand, tokens, c int) *benchMLP {
	mat := func(r, c int, sd float64) blas64.General {
		m := blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
		for i := range m.Data {
			m.Data[i] = sd * rnd.NormFloat64()
		}
		return m
	}
	h := 4 * c
	return &benchMLP{tokens: tokens, c: c,
		w1: mat(c, h, 0.05), w2: mat(h, c, 0.05), dw1: mat(c, h, 0), dw2: mat(h, c, 0),
		hid: mat(tokens, h, 0), dhid: mat(tokens, h, 0)}
}

func (m *benchMLP) view(s []float64) blas64.General {
	return blas64.General{Rows: m.tokens, Cols: m.c, Stride: m.c, Data: s}
}

// forward writes out = relu(in·W1)·W2 and keeps in for backward.
func (m *benchMLP) forward(out, in []float64) {
	m.in = m.view(in)
	mul(blas.NoTrans, blas.NoTrans, m.in, m.w1, 0, m.hid)
	for i, v := range m.hid.Data {
		m.hid.Data[i] = max(v, 0)
	}
	mul(blas.NoTrans, blas.NoTrans, m.hid, m.w2, 0, m.view(out))
}

// backward writes din and adds the weight gradients, given dout.
func (m *benchMLP) backward(din, dout []float64) {
	g := m.view(dout)
	mul(blas.Trans, blas.NoTrans, m.hid, g, 1, m.dw2)
	mul(blas.NoTrans, blas.Trans, g, m.w2, 0, m.dhid)
	for i, v := range m.hid.Data {
		if v <= 0 {
			m.dhid.Data[i] = 0
		}
	}
	mul(blas.Trans, blas.NoTrans, m.in, m.dhid, 1, m.dw1)
	mul(blas.NoTrans, blas.Trans, m.dhid, m.w1, 0, m.view(din))
}

// mul is c = op(a)·op(b) + beta·c through internal/gemm, the library's one
// matrix product (allocation-free, on the backend the build selects).
func mul(tA, tB blas.Transpose, a, b blas64.General, beta float64, c blas64.General) {
	k := a.Cols
	if tA == blas.Trans {
		k = a.Rows
	}
	gemm.Mul(tA, tB, c.Rows, c.Cols, k, 1, a.Data, a.Stride, b.Data, b.Stride, beta, c.Data, c.Stride)
}

// benchMixers are the mixers of the Layer benchmarks, each at its default
// init: the plain residual (n = 1, the baseline) and every parameterisation,
// built for n streams.
var benchMixers = []struct {
	name string
	new  func(n, c int) (hc.Mixer, error)
}{
	{"residual", func(_, c int) (hc.Mixer, error) { return hc.Residual(c), nil }},
	{"hc-static", func(n, c int) (hc.Mixer, error) { return hc.New(hc.Config{N: n, C: c}) }},
	{"hc", func(n, c int) (hc.Mixer, error) { return hc.New(hc.PaperConfig(n, c, 0)) }},
	{"mhc", func(n, c int) (hc.Mixer, error) { return mhc.New(mhc.PaperConfig(n, c, 0)) }},
	{"mhc-exact", func(n, c int) (hc.Mixer, error) { return mhc.New(mhc.ExactConfig(n, c, 0)) }},
	{"mhc-v4", func(n, c int) (hc.Mixer, error) { return mhc.New(mhc.DeepSeekV4Config(n, c, 0)) }},
	{"mhclite", func(n, c int) (hc.Mixer, error) { return mhclite.New(mhclite.PaperConfig(n, c, 0)) }},
	{"shc", func(n, c int) (hc.Mixer, error) { return shc.New(shc.PaperConfig(n, c, 0)) }},
	{"shc-normalized", func(n, c int) (hc.Mixer, error) { return shc.New(shc.NormalizedConfig(n, c, 0)) }},
	{"idhc", func(n, c int) (hc.Mixer, error) { return idhc.New(idhc.PaperConfig(n, c, 0)) }},
	{"kromhc", func(n, c int) (hc.Mixer, error) { return kromhc.New(kromhc.PaperConfig(n, c, 0)) }},
	{"orthohc", func(n, c int) (hc.Mixer, error) { return orthohc.New(orthohc.PaperConfig(n, c, 0)) }},
}

// benchShapes are the (n, C) of the Layer benchmarks: n = 4 at C = 64 and
// 256, and n = 8 and 16 at C = 256. The residual runs once per C (n = 1);
// a mixer that refuses an n (mhclite above 8) is skipped there.
var benchShapes = []struct{ n, c int }{{4, 64}, {4, 256}, {8, 256}, {16, 256}}

// BenchmarkLayer times one training step of a sub-layer, forward and
// backward, on 256 tokens with a C→4C→C MLP branch. The overhead of a mixer
// is its time over the plain residual's at the same C: every mixer's
// sub-benchmark also runs a residual step after each of its own, timed
// apart with the benchmark timer stopped, and reports the ratio of the two
// totals as the metric x-residual — interleaved, so that a load that comes
// and goes on a shared machine falls on both.
func BenchmarkLayer(b *testing.B) {
	benchLayer(b, true)
}

// BenchmarkFrame is BenchmarkLayer without the branch (f = in, din = df):
// the cost of the hyper-connection alone.
func BenchmarkFrame(b *testing.B) {
	benchLayer(b, false)
}

func benchLayer(b *testing.B, withMLP bool) {
	const tokens = 256
	for _, mx := range benchMixers {
		for _, sh := range benchShapes {
			if mx.name == "residual" && sh.n != 4 {
				continue // one residual per C
			}
			n, c := sh.n, sh.c
			if mx.name == "residual" {
				n = 1
			}
			b.Run(fmt.Sprintf("mixer=%s/n=%d/C=%d", mx.name, n, c), func(b *testing.B) {
				m, err := mx.new(n, c)
				if err != nil {
					b.Skip(err) // mhclite above n = 8
				}
				step := newRig(b, m, tokens, withMLP)
				var ref func()
				if mx.name != "residual" {
					ref = newRig(b, hc.Residual(c), tokens, withMLP)
					ref()
				}
				step() // warm up: the layer's buffers and workers are made on first use
				b.ReportAllocs()
				var refTime time.Duration
				for b.Loop() {
					step()
					if ref != nil {
						b.StopTimer()
						t0 := time.Now()
						ref()
						refTime += time.Since(t0)
						b.StartTimer()
					}
				}
				if ref != nil {
					b.ReportMetric(float64(b.Elapsed())/float64(refTime), "x-residual")
				}
			})
		}
	}
}

// newRig returns one training step of a Layer of m around the branch
// (the MLP, or the identity) on fixed random data.
func newRig(b *testing.B, m hc.Mixer, tokens int, withMLP bool) func() {
	n, c := m.Shape()
	l := hc.NewLayer(m)
	rnd := rand.New(rand.NewPCG(1, 2))
	mlp := newBenchMLP(rnd, tokens, c)
	x := make([]float64, tokens*n*c)
	g := make([]float64, tokens*n*c)
	for i := range x {
		x[i], g[i] = rnd.NormFloat64(), rnd.NormFloat64()
	}
	in, f, df, din := make([]float64, tokens*c), make([]float64, tokens*c), make([]float64, tokens*c), make([]float64, tokens*c)
	out, dx := make([]float64, tokens*n*c), make([]float64, tokens*n*c)
	return func() {
		if err := l.Pre(in, x, tokens); err != nil {
			b.Fatal(err)
		}
		if withMLP {
			mlp.forward(f, in)
		} else {
			copy(f, in)
		}
		if err := l.Post(out, f); err != nil {
			b.Fatal(err)
		}
		l.PostBackward(dx, df, g)
		if withMLP {
			mlp.backward(din, df)
		} else {
			copy(din, df)
		}
		l.PreBackward(dx, din)
	}
}
