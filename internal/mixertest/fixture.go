package mixertest

import (
	"math"
	"math/rand/v2"

	"github.com/hyperconn/hyperconn/hc"
)

// fixture is one batch run through a Layer with a small fixed nonlinear
// branch f = tanh(in·W), W a C×C matrix, and a random upstream gradient G on
// the Layer's output, so that the loss is L = ⟨G, X'⟩.
type fixture struct {
	n, c, tokens int
	w            []float64 // C×C branch weights, row-major
	x, g         []float64 // tokens×n×C input and upstream gradient
	in, f        []float64 // tokens×C branch input and output
	out, dx      []float64 // tokens×n×C output and ∂L/∂x
	df, din      []float64 // tokens×C gradients of the branch output and input
}

// newFixture draws W, x and G from rnd: x and G standard normal, W normal
// with standard deviation 1/√C so that the branch is neither linear nor
// saturated.
func newFixture(rnd *rand.Rand, n, c, tokens int) *fixture {
	fx := &fixture{
		n: n, c: c, tokens: tokens,
		w:   normal(rnd, c*c, 1/math.Sqrt(float64(c))),
		x:   normal(rnd, tokens*n*c, 1),
		g:   normal(rnd, tokens*n*c, 1),
		in:  make([]float64, tokens*c),
		f:   make([]float64, tokens*c),
		out: make([]float64, tokens*n*c),
		dx:  make([]float64, tokens*n*c),
		df:  make([]float64, tokens*c),
		din: make([]float64, tokens*c),
	}
	return fx
}

// normal returns size draws from N(0, sd²).
func normal(rnd *rand.Rand, size int, sd float64) []float64 {
	s := make([]float64, size)
	for i := range s {
		s[i] = sd * rnd.NormFloat64()
	}
	return s
}

// branch writes f = tanh(in·w) for every token (rows of length c).
func branch(f, in, w []float64, c int) {
	for t := 0; t < len(in)/c; t++ {
		row := in[t*c : (t+1)*c]
		for j := range c {
			var s float64
			for k, v := range row {
				s += v * w[k*c+j]
			}
			f[t*c+j] = math.Tanh(s)
		}
	}
}

// branchBackward writes din = (df ∘ (1 − f²))·wᵀ for every token.
func branchBackward(din, df, f, w []float64, c int) {
	for t := 0; t < len(df)/c; t++ {
		for k := range c {
			var s float64
			for j := range c {
				v := f[t*c+j]
				s += df[t*c+j] * (1 - v*v) * w[k*c+j]
			}
			din[t*c+k] = s
		}
	}
}

// forward runs Pre, the branch and Post on fx.x into fx.out.
func (fx *fixture) forward(l *hc.Layer) error {
	if err := l.Pre(fx.in, fx.x, fx.tokens); err != nil {
		return err
	}
	branch(fx.f, fx.in, fx.w, fx.c)
	return l.Post(fx.out, fx.f)
}

// step runs forward and the whole backward pass: fx.dx is ∂L/∂x, fx.df is
// ∂L/∂f, and the parameters' Grad receive ∂L/∂θ (added).
func (fx *fixture) step(l *hc.Layer) error {
	if err := fx.forward(l); err != nil {
		return err
	}
	l.PostBackward(fx.dx, fx.df, fx.g)
	branchBackward(fx.din, fx.df, fx.f, fx.w, fx.c)
	l.PreBackward(fx.dx, fx.din)
	return nil
}

// loss returns L = ⟨G, X'⟩ after a forward pass.
func (fx *fixture) loss(l *hc.Layer) (float64, error) {
	if err := fx.forward(l); err != nil {
		return 0, err
	}
	return fx.dot(), nil
}

func (fx *fixture) dot() float64 {
	var s float64
	for i, v := range fx.out {
		s += v * fx.g[i]
	}
	return s
}

// grads returns copies of every parameter's Grad, in Params order.
func grads(m hc.Mixer) [][]float64 {
	var gs [][]float64
	for _, p := range m.Params() {
		gs = append(gs, append([]float64(nil), p.Grad...))
	}
	return gs
}

// copyParams sets every parameter value of dst to that of src.
func copyParams(dst, src hc.Mixer) {
	ps := src.Params()
	for i, p := range dst.Params() {
		copy(p.Value, ps[i].Value)
	}
}
