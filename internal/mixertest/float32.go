package mixertest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// Float32Tol bounds the relative gap between a mixer's results with
// float32 products and with float64 products (see CheckFloat32). Each
// product rounds its inputs to float32 (relative error 6e-8) and sums nC
// of them in float32, a few times 1e-7 relative to the largest term; the
// float64 maps that follow (sigmoids, projections, their backward passes)
// amplify that by their condition, up to ten or so far from the init.
// 1e-5 leaves a margin over the measured gaps (at most 9e-7 for the
// mixers of the module, in ∂L/∂x) and still catches a product run on the
// wrong operand or a gradient lost in the widening.
const Float32Tol = 1e-5

// CheckFloat32 checks hc.Float32Products's contract for m as it is (perturb
// it away from its init first, so that the products matter), through a
// Layer on tokens random tokens with random upstream gradients:
//
//   - with float32 products, h_pre, h_post, H_res, ∂L/∂x, ∂L/∂f and every
//     parameter gradient agree with those of float64 products within
//     Float32Tol, and some differ (the setting takes effect). The gap is
//     max|a−b| / max|b| per tensor, except that a parameter gradient's
//     scale is max Σ_t |g_t|, its largest sum of the magnitudes of the
//     tokens' contributions g_t: a sum over tokens that cancels to near
//     zero (a scalar gate's gradient, say) has lost its relative accuracy
//     in float64 as much as in float32;
//   - turned off again, every result is bit-identical to the first float64
//     run;
//   - with float32 products, guarantee (nil for none) of every token's
//     H_res is at most tol, as with float64 products;
//   - with float32 products, a ChunkWorker's chunk agrees with the token by
//     token calls (CheckChunk, tapes aside) within Float32Tol;
//   - a steady-state step with float32 products allocates nothing.
//
// It returns the largest gap to the float64 results and leaves m with
// float64 products and zero gradients.
func CheckFloat32(t *testing.T, m hc.Float32Products, rnd *rand.Rand, tokens int, guarantee func(h []float64, n int) float64, tol float64) float64 {
	t.Helper()
	defer hc.ZeroGrad(m)
	defer m.SetFloat32Products(false)
	n, c := m.Shape()
	fx := newFixture(rnd, n, c, tokens)
	names := []string{"h_pre", "h_post", "H_res", "dx", "df"}
	for _, p := range m.Params() {
		names = append(names, "gradient of "+p.Name)
	}
	// run returns the results of one step, in the order of names.
	run := func(on bool) [][]float64 {
		t.Helper()
		m.SetFloat32Products(on)
		hc.ZeroGrad(m)
		l := hc.NewLayer(m)
		if err := fx.step(l); err != nil {
			t.Fatalf("float32 products %v: step: %v", on, err)
		}
		pre, post, res := l.Coefficients()
		r := [][]float64{pre, post, res, fx.dx, fx.df}
		for i := range r {
			r[i] = append([]float64(nil), r[i]...)
		}
		return append(r, grads(m)...)
	}
	r64, r32, again := run(false), run(true), run(false)
	scale := gradScales(t, m, fx)

	var worst float64
	worstName := ""
	differ := false
	for i, name := range names {
		g := relErr(r32[i], r64[i], 0)
		if i >= 5 {
			g = maxAbsDiff(r32[i], r64[i]) / scale[i-5]
		}
		if !(g <= Float32Tol) {
			t.Errorf("%s: float32 and float64 products differ by %.3g relative", name, g)
		}
		if g > worst {
			worst, worstName = g, name
		}
		differ = differ || !bitsEqual(r32[i], r64[i])
		if !bitsEqual(again[i], r64[i]) {
			t.Errorf("%s: not bit-identical after float32 products were turned off", name)
		}
	}
	if !differ {
		t.Error("float32 products changed no result: not in effect, or m is at its init")
	}
	t.Logf("float32 products: largest relative gap to float64 products %.3g, in the %s", worst, worstName)

	if guarantee != nil {
		res := r32[2]
		var dev float64
		for tok := range tokens {
			d := guarantee(res[tok*n*n:(tok+1)*n*n], n)
			if !(d <= tol) {
				t.Errorf("float32 products: token %d: guarantee deviation %.3g > %.3g", tok, d, tol)
			}
			dev = math.Max(dev, d)
		}
		t.Logf("float32 products: worst guarantee deviation %.3g (tolerance %.3g)", dev, tol)
	}

	m.SetFloat32Products(true)
	if _, ok := m.NewWorker().(hc.ChunkWorker); ok {
		t.Logf("float32 products: chunk against tokens: largest relative gap %.3g",
			checkChunk(t, m, rnd, min(tokens, 7), Float32Tol, false))
	}
	l := hc.NewLayer(m)
	if err := fx.step(l); err != nil { // warm up: buffers grow here
		t.Fatalf("step: %v", err)
	}
	var err error
	if a := testing.AllocsPerRun(10, func() { err = fx.step(l) }); a != 0 {
		t.Errorf("float32 products: a steady-state step allocates %v times, want 0", a)
	}
	if err != nil {
		t.Fatalf("step: %v", err)
	}
	return worst
}

// gradScales returns, for every parameter of m, max_i Σ_t |∂L_t/∂θ_i|: the
// gradients of fx's tokens taken one at a time, with float64 products.
func gradScales(t *testing.T, m hc.Float32Products, fx *fixture) []float64 {
	t.Helper()
	m.SetFloat32Products(false)
	n, c := fx.n, fx.c
	sums := make([][]float64, len(m.Params()))
	for i, p := range m.Params() {
		sums[i] = make([]float64, len(p.Value))
	}
	l := hc.NewLayer(m)
	for tok := range fx.tokens {
		one := &fixture{n: n, c: c, tokens: 1, w: fx.w,
			x: fx.x[tok*n*c : (tok+1)*n*c], g: fx.g[tok*n*c : (tok+1)*n*c],
			in: make([]float64, c), f: make([]float64, c), out: make([]float64, n*c),
			dx: make([]float64, n*c), df: make([]float64, c), din: make([]float64, c)}
		hc.ZeroGrad(m)
		if err := one.step(l); err != nil {
			t.Fatalf("token %d: step: %v", tok, err)
		}
		for i, p := range m.Params() {
			for j, v := range p.Grad {
				sums[i][j] += math.Abs(v)
			}
		}
	}
	hc.ZeroGrad(m)
	scale := make([]float64, len(sums))
	for i, s := range sums {
		for _, v := range s {
			scale[i] = math.Max(scale[i], v)
		}
		if scale[i] == 0 {
			scale[i] = 1 // a gradient that is structurally zero: compare absolutely
		}
	}
	return scale
}
