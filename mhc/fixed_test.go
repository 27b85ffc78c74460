package mhc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// TestFixedRecordBits checks that the Fixed path, which records the sweeps
// in the tape (birkhoff.Workspace.ProjectFixed and BackwardFixed), computes
// the bits of the former one, which projected with Workspace.Project and
// recomputed the sweeps in the backward: H_res, MaxDeviation, ∂α_res, ∂b_res
// and ∂raw, at logit scales σ = 1, 3, 5 and beyond the scaling domain.
func TestFixedRecordBits(t *testing.T) {
	const c, tokens = 3, 27 // groups of four tokens and a remainder
	rnd := rand.New(rand.NewPCG(41, 42))
	for _, n := range []int{2, 3, 4, 5} {
		for _, sigma := range []float64{1, 3, 5, 400} {
			m, err := New(PaperConfig(n, c, 1))
			if err != nil {
				t.Fatal(err)
			}
			for i := range m.head.Phi.Value {
				m.head.Phi.Value[i] = 0.3 * rnd.NormFloat64()
			}
			m.ARes.Value[0] = 1
			for i := range m.BRes.Value {
				m.BRes.Value[i] = sigma * rnd.NormFloat64()
			}
			nn, tl, ht := n*n, m.TapeLen(), m.head.TapeLen()
			x := make([]float64, tokens*n*c)
			for i := range x {
				x[i] = rnd.NormFloat64()
			}
			pre, post := make([]float64, tokens*n), make([]float64, tokens*n)
			res, tape := make([]float64, tokens*nn), make([]float64, tokens*tl)
			w := m.NewWorker().(*worker)
			m.ResetDeviation()
			if err := w.ForwardChunk(pre, post, res, tape, x, tokens); err != nil {
				t.Fatal(err)
			}
			dres := make([]float64, tokens*nn)
			for i := range dres {
				dres[i] = rnd.NormFloat64()
			}
			w.BackwardChunk(make([]float64, len(x)), x, tape, make([]float64, tokens*n), make([]float64, tokens*n), dres, tokens)

			ws := birkhoff.NewWorkspace[float64](n)
			want, dz := make([]float64, nn), make([]float64, nn)
			var worst, aRes float64
			bRes := make([]float64, nn)
			for tok := range tokens {
				rec := tape[tok*tl : (tok+1)*tl]
				z := rec[ht : ht+nn]
				st, err := ws.Project(want, z, m.cfg.Projection)
				if err != nil {
					t.Fatal(err)
				}
				worst = math.Max(worst, st.Deviation)
				for i, v := range want {
					if math.Float64bits(v) != math.Float64bits(res[tok*nn+i]) {
						t.Fatalf("n=%d σ=%g token %d: H_res %v, want %v", n, sigma, tok, res[tok*nn:(tok+1)*nn], want)
					}
				}
				ws.Backward(dz, dres[tok*nn:(tok+1)*nn])
				for i, r := range m.head.Raw(rec) {
					d := dz[i]
					aRes += d * r
					bRes[i] += d
					if got := w.draw[tok*nn+i]; math.Float64bits(got) != math.Float64bits(m.ARes.Value[0]*d) {
						t.Fatalf("n=%d σ=%g token %d: ∂raw[%d] %v, want %v", n, sigma, tok, i, got, m.ARes.Value[0]*d)
					}
				}
			}
			if got := m.MaxDeviation(); got != worst {
				t.Errorf("n=%d σ=%g: MaxDeviation %g, want %g", n, sigma, got, worst)
			}
			if w.aRes != aRes {
				t.Errorf("n=%d σ=%g: ∂α_res %v, want %v", n, sigma, w.aRes, aRes)
			}
			for i := range bRes {
				if math.Float64bits(w.bRes[i]) != math.Float64bits(bRes[i]) {
					t.Fatalf("n=%d σ=%g: ∂b_res %v, want %v", n, sigma, w.bRes, bRes)
				}
			}
		}
	}
}
