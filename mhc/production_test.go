package mhc_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhc"
)

// v4Tol bounds the gap between the mixer and the transcription below: the
// same float64 formula in another order of operations (the RMS scale and
// the gates multiply in another order, sums run in another direction), a
// few ulps on O(1) values, amplified at most by the 39 normalisations.
const v4Tol = 1e-12

// transcribeV4 is an independent float64 transcription of DeepSeek-V4's
// production mHC coefficients, written in the PyTorch layout (issue 17,
// SPEC §10): x is the token's n streams flattened (stream s at s·C), w the
// weight (nC × (2n+n²), column-major by output: w[k][r] is input k, output
// r), scale the three gates, base the 2n+n² biases. comb[s][t] is the
// weight of input stream s in output stream t. It returns pre, post and
// comb.
func transcribeV4(x []float64, w [][]float64, scale [3]float64, base []float64, n int) (pre, post, comb []float64) {
	const eps, rounds = 1e-6, 20
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	rsqrt := 1 / math.Sqrt(ss/float64(len(x))+eps)
	mixes := make([]float64, 2*n+n*n)
	for r := range mixes {
		var s float64
		for k, v := range x {
			s += v * w[k][r]
		}
		mixes[r] = s * rsqrt
	}
	sigmoid := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	pre, post, comb = make([]float64, n), make([]float64, n), make([]float64, n*n)
	for i := range n {
		pre[i] = sigmoid(mixes[i]*scale[0]+base[i]) + eps
		post[i] = 2 * sigmoid(mixes[n+i]*scale[1]+base[n+i])
	}
	for k := range n * n {
		comb[k] = mixes[2*n+k]*scale[2] + base[2*n+k]
	}
	for s := range n { // softmax over the last dimension (t), then + eps
		row := comb[s*n : (s+1)*n]
		hi := row[0]
		for _, v := range row {
			hi = math.Max(hi, v)
		}
		var sum float64
		for t := range row {
			row[t] = math.Exp(row[t] - hi)
			sum += row[t]
		}
		for t := range row {
			row[t] = row[t]/sum + eps
		}
	}
	colNorm := func() { // comb / (comb.sum(dim=-2) + eps)
		for t := range n {
			var sum float64
			for s := range n {
				sum += comb[s*n+t]
			}
			for s := range n {
				comb[s*n+t] /= sum + eps
			}
		}
	}
	rowNorm := func() { // comb / (comb.sum(dim=-1) + eps)
		for s := range n {
			var sum float64
			for t := range n {
				sum += comb[s*n+t]
			}
			for t := range n {
				comb[s*n+t] /= sum + eps
			}
		}
	}
	colNorm()
	for range rounds - 1 {
		rowNorm()
		colNorm()
	}
	return pre, post, comb
}

// TestDeepSeekV4 checks the preset at n = 4 against transcribeV4 on random
// PyTorch-layout weights, ported with the mapping of DeepSeekV4Config's doc
// (pre and post as they are, comb transposed), on 8 random tokens: h_pre,
// h_post and H_res = combᵀ within v4Tol. It logs the column deviation by
// MaxDeviation, Fixed-20's statistic.
func TestDeepSeekV4(t *testing.T) {
	const n, c, tokens = 4, 6, 8
	rnd := rand.New(rand.NewPCG(2026, 4))
	m, err := mhc.New(mhc.DeepSeekV4Config(n, c, 1))
	if err != nil {
		t.Fatal(err)
	}
	r := 2*n + n*n
	w := make([][]float64, n*c) // PyTorch weight, w[k][r]
	for k := range w {
		w[k] = make([]float64, r)
		for j := range w[k] {
			w[k][j] = 0.5 * rnd.NormFloat64()
		}
	}
	scale := [3]float64{0.7, 1.3, 2.5}
	base := make([]float64, r)
	for i := range base {
		base[i] = 2 * rnd.NormFloat64()
	}
	// Port: Φ row ρ is weight column col(ρ); comb transposed.
	col := func(row int) int {
		if row < 2*n {
			return row
		}
		i, j := (row-2*n)/n, (row-2*n)%n
		return 2*n + j*n + i
	}
	phi := hc.Lookup(m, "phi").Value
	for row := range r {
		for k := range n * c {
			phi[row*n*c+k] = w[k][col(row)]
		}
	}
	hc.Lookup(m, "alpha").Value[0], hc.Lookup(m, "alpha").Value[1] = scale[0], scale[1]
	hc.Lookup(m, "alpha_res").Value[0] = scale[2]
	copy(hc.Lookup(m, "b_pre").Value, base[:n])
	copy(hc.Lookup(m, "b_post").Value, base[n:2*n])
	for row := 2 * n; row < r; row++ {
		hc.Lookup(m, "b_res").Value[row-2*n] = base[col(row)]
	}

	x := make([]float64, tokens*n*c)
	for i := range x {
		x[i] = 2 * rnd.NormFloat64()
	}
	l := hc.NewLayer(m)
	if err := l.Pre(make([]float64, tokens*c), x, tokens); err != nil {
		t.Fatal(err)
	}
	pre, post, res := l.Coefficients()
	var worst float64
	for tok := range tokens {
		wp, wq, comb := transcribeV4(x[tok*n*c:(tok+1)*n*c], w, scale, base, n)
		for i := range n {
			worst = math.Max(worst, math.Abs(pre[tok*n+i]-wp[i]))
			worst = math.Max(worst, math.Abs(post[tok*n+i]-wq[i]))
			for j := range n {
				worst = math.Max(worst, math.Abs(res[(tok*n+i)*n+j]-comb[j*n+i]))
			}
		}
	}
	t.Logf("largest gap to the transcription: %.3g; MaxDeviation (row and column sums, as for Fixed-20) %.3g",
		worst, m.MaxDeviation())
	if !(worst <= v4Tol) {
		t.Errorf("largest gap to the transcription %.3g > %g", worst, v4Tol)
	}
	if d := m.MaxDeviation(); !(d > 0) || !(d < 1) {
		t.Errorf("MaxDeviation = %v: want the honest gap, > 0 (ε in the denominators) and < 1", d)
	}
}

// TestDeepSeekV4Deviation logs the DS deviation of the preset against
// Fixed-20's on the same logits (N(0, σ²), n = 4, 256 tokens), the figure of
// the statistic MaxDeviation reports for both.
func TestDeepSeekV4Deviation(t *testing.T) {
	const n, c, tokens = 4, 8, 256
	for _, sigma := range []float64{1, 3, 5} {
		var got [2]float64
		for i, cfg := range []mhc.Config{mhc.DeepSeekV4Config(n, c, 0), mhc.PaperConfig(n, c, 0)} {
			m, err := mhc.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rnd := rand.New(rand.NewPCG(9, uint64(sigma)))
			perturb(m, rnd)
			hc.Lookup(m, "alpha_res").Value[0] = 1
			b := hc.Lookup(m, "b_res").Value
			for k := range b {
				b[k] = sigma * rnd.NormFloat64()
			}
			x := make([]float64, tokens*n*c)
			for k := range x {
				x[k] = rnd.NormFloat64()
			}
			if err := hc.NewLayer(m).Pre(make([]float64, tokens*c), x, tokens); err != nil {
				t.Fatal(err)
			}
			got[i] = m.MaxDeviation()
		}
		t.Logf("b_res ~ N(0, %g²) plus α_res·x̂φ: MaxDeviation deepseek-v4 %.3g, fixed-20 %.3g", sigma, got[0], got[1])
	}
}

func newV4(n, c, layer int) (hc.Mixer, error) { return mhc.New(mhc.DeepSeekV4Config(n, c, layer)) }

// TestDeepSeekV4Conformance runs the suite on the preset. With ε added to
// every entry H_res is never exactly a permutation, and it promises no
// exact marginals, so there is no Permute or Guarantee hook; the gradients
// (through the 39 unrolled normalisations) are checked against finite
// differences, also far from the init.
func TestDeepSeekV4Conformance(t *testing.T) {
	mixertest.Run(t, mixertest.Case{Name: "deepseek-v4", New: newV4, Ns: []int{1, 2, 4, 8, 16},
		Perturb: func(m hc.Mixer, rnd *rand.Rand) { far(m, rnd) }})
}

func TestDeepSeekV4Config(t *testing.T) {
	cfg := mhc.DeepSeekV4Config(4, 3, 0)
	if cfg.Form != mhc.DeepSeekV4 || cfg.Eps != 1e-6 || cfg.Projection.Method != birkhoff.Fixed {
		t.Errorf("DeepSeekV4Config = %+v", cfg)
	}
	bad := []mhc.Config{
		{N: 4, C: 3, Form: mhc.Form(7)},
		{N: 4, C: 3, Eps: 1e-6},
		{N: 4, C: 3, Form: mhc.DeepSeekV4, Eps: math.NaN()},
		{N: 4, C: 3, Form: mhc.DeepSeekV4, Eps: -1},
		{N: 4, C: 3, Form: mhc.DeepSeekV4, Projection: birkhoff.Options{Method: birkhoff.Exact}},
	}
	for _, cfg := range bad {
		if _, err := mhc.New(cfg); !errors.Is(err, mhc.ErrConfig) {
			t.Errorf("New(%+v) = %v, want an error wrapping ErrConfig", cfg, err)
		}
	}
	m, err := mhc.New(mhc.Config{N: 4, C: 3, Form: mhc.DeepSeekV4})
	if err != nil || m.Config().Eps != mhc.DefaultEps {
		t.Errorf("Eps 0 in the DeepSeekV4 form: %v, %+v; want the default ε", err, m.Config())
	}
}

// TestProductionBackward checks Production.Backward against central
// differences of L = ⟨G, H⟩ with a random G, at logits of scale 5, n = 3
// and 5 (odd, so no symmetry hides a transposed index).
func TestProductionBackward(t *testing.T) {
	const (
		h   = 1e-5
		tol = 1e-7 // central differences, step 1e-5: ~h²·|L'''| + ε/h ≈ 1e-9 on these O(1) maps
	)
	for _, n := range []int{3, 5} {
		rnd := rand.New(rand.NewPCG(3, uint64(n)))
		p := mhc.NewProduction(n, 0, 0)
		z, g := make([]float64, n*n), make([]float64, n*n)
		for i := range z {
			z[i], g[i] = 5*rnd.NormFloat64(), rnd.NormFloat64()
		}
		res, dz := make([]float64, n*n), make([]float64, n*n)
		loss := func() float64 {
			if _, err := p.Forward(res, z); err != nil {
				t.Fatal(err)
			}
			var s float64
			for i, v := range res {
				s += g[i] * v
			}
			return s
		}
		loss()
		p.Backward(dz, g)
		for i := range z {
			z0 := z[i]
			z[i] = z0 + h
			lp := loss()
			z[i] = z0 - h
			lm := loss()
			z[i] = z0
			if fd := (lp - lm) / (2 * h); math.Abs(fd-dz[i]) > tol*math.Max(1, math.Abs(fd)) {
				t.Errorf("n=%d: ∂z[%d] = %v, finite differences %v", n, i, dz[i], fd)
			}
		}
		z[0] = math.NaN()
		if _, err := p.Forward(res, z); !errors.Is(err, hc.ErrNotFinite) {
			t.Errorf("NaN logit: %v, want an error wrapping hc.ErrNotFinite", err)
		}
	}
}

func TestFormString(t *testing.T) {
	for f, want := range map[mhc.Form]string{mhc.Sinkhorn: "sinkhorn", mhc.DeepSeekV4: "deepseek-v4", 7: "Form(7)", -1: "Form(-1)"} {
		if got := f.String(); got != want {
			t.Errorf("Form(%d).String() = %q, want %q", int(f), got, want)
		}
	}
}
