package mixertest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// ChunkTol bounds the norm-wise relative gap between a chunk's results and
// the token-by-token calls (CheckChunk): a head's projections are the same
// dot products summed by matrix products of another shape, a few ulps each,
// which a scalar gradient summed over tokens may amplify by cancellation.
// Measured: 0 with the pure-Go kernel, at most 2e-14 with OpenBLAS.
const ChunkTol = 1e-13

// CheckChunk checks hc.ChunkWorker's contract for m as it is (perturb it
// away from its init first, so that every token has its own coefficients):
// one worker's ForwardChunk and BackwardChunk over tokens random tokens,
// with random upstream gradients, give what another worker's Forward and
// Backward give token by token — coefficients, tapes, ∂L/∂x and every
// parameter gradient — within ChunkTol. It returns the largest gap, and
// fails the test if the worker is not a ChunkWorker. m's gradients are left
// zero.
func CheckChunk(t *testing.T, m hc.Mixer, rnd *rand.Rand, tokens int) float64 {
	t.Helper()
	return checkChunk(t, m, rnd, tokens, ChunkTol, true)
}

// checkChunk is CheckChunk with the tolerance tol, comparing the tapes only
// if tapes is set.
func checkChunk(t *testing.T, m hc.Mixer, rnd *rand.Rand, tokens int, tol float64, tapes bool) float64 {
	t.Helper()
	n, c := m.Shape()
	tl := m.TapeLen()
	cw, ok := m.NewWorker().(hc.ChunkWorker)
	if !ok {
		t.Fatal("the worker does not implement hc.ChunkWorker")
	}
	w := m.NewWorker()
	normal := func(size int) []float64 {
		s := make([]float64, size)
		for i := range s {
			s[i] = rnd.NormFloat64()
		}
		return s
	}
	x, dpre, dpost, dres := normal(tokens*n*c), normal(tokens*n), normal(tokens*n), normal(tokens*n*n)
	type run struct{ pre, post, res, tape, dx []float64 }
	newRun := func() run {
		return run{make([]float64, tokens*n), make([]float64, tokens*n), make([]float64, tokens*n*n),
			make([]float64, tokens*tl), make([]float64, tokens*n*c)}
	}
	a, b := newRun(), newRun()

	if err := cw.ForwardChunk(a.pre, a.post, a.res, a.tape, x, tokens); err != nil {
		t.Fatal(err)
	}
	cw.BackwardChunk(a.dx, x, a.tape, dpre, dpost, dres, tokens)
	for tok := range tokens {
		v, s, q := tok*n, tok*n*n, tok*n*c
		if err := w.Forward(b.pre[v:v+n], b.post[v:v+n], b.res[s:s+n*n], b.tape[tok*tl:(tok+1)*tl], x[q:q+n*c]); err != nil {
			t.Fatal(err)
		}
		w.Backward(b.dx[q:q+n*c], x[q:q+n*c], b.tape[tok*tl:(tok+1)*tl], dpre[v:v+n], dpost[v:v+n], dres[s:s+n*n])
	}
	type gap struct {
		what string
		rel  float64
	}
	gaps := []gap{
		{"h_pre", relErr(a.pre, b.pre, 0)}, {"h_post", relErr(a.post, b.post, 0)}, {"H_res", relErr(a.res, b.res, 0)},
		{"dx", relErr(a.dx, b.dx, 0)},
	}
	if tapes {
		gaps = append(gaps, gap{"tape", relErr(a.tape, b.tape, 0)})
	}
	grads := func(w hc.Worker) [][]float64 {
		hc.ZeroGrad(m)
		w.Flush()
		var g [][]float64
		for _, p := range m.Params() {
			g = append(g, append([]float64(nil), p.Grad...))
		}
		return g
	}
	ga, gb := grads(cw), grads(w)
	for i, p := range m.Params() {
		gaps = append(gaps, gap{"gradient of " + p.Name, relErr(ga[i], gb[i], 0)})
	}
	hc.ZeroGrad(m)
	var worst float64
	for _, g := range gaps {
		if !(g.rel <= tol) {
			t.Errorf("%s: chunk and per-token calls differ by %.3g relative", g.what, g.rel)
		}
		worst = math.Max(worst, g.rel)
	}
	return worst
}
