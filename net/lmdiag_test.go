package net

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/hyperconn/hyperconn/hc"
)

// lmSummaryTol bounds the gap between LM.Summarize and the test's own
// computation of the same gains with gonum's products: both sum the same
// terms of O(1) matrices of size n ≤ 4 over ≤ 4 factors, in different
// orders, so they differ by a few ulps.
const lmSummaryTol = 1e-12

// meanRes returns the token average of the res coefficients (tokens·n·n).
func meanRes(res []float64, n int) *mat.Dense {
	nn := n * n
	tokens := len(res) / nn
	m := mat.NewDense(n, n, nil)
	for t := range tokens {
		for i := range n {
			for j := range n {
				m.Set(i, j, m.At(i, j)+res[t*nn+i*n+j]/float64(tokens))
			}
		}
	}
	return m
}

// amaxes returns the forward (max |row sum|) and backward (max |column
// sum|) Amax of m.
func amaxes(m mat.Matrix) (fwd, bwd float64) {
	r, c := m.Dims()
	for i := range r {
		var s float64
		for j := range c {
			s += m.At(i, j)
		}
		fwd = math.Max(fwd, math.Abs(s))
	}
	for j := range c {
		var s float64
		for i := range r {
			s += m.At(i, j)
		}
		bwd = math.Max(bwd, math.Abs(s))
	}
	return fwd, bwd
}

// close reports whether a and b agree within lmSummaryTol relative to
// max(1, |b|).
func closeTo(a, b float64) bool { return math.Abs(a-b) <= lmSummaryTol*math.Max(1, math.Abs(b)) }

// TestLMSummarize checks every field of LM.Summarize against the test's
// own products (gonum) of the sub-layers' coefficients, for each mixer
// with parameters moved away from the init, and checks that the streams
// it measures are the ones the model reduces.
func TestLMSummarize(t *testing.T) {
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(21, 22))
			cfg := LMConfig{Mixer: name, N: 4, Vocab: 9, Seq: 6, Width: 8, Heads: 2, Depth: 2, Hidden: 2, Seed: 4}
			m, err := NewLM(cfg)
			if err != nil {
				t.Fatal(err)
			}
			mustPanicWith(t, ErrSequence, "Summarize before a batch", func() { m.Summarize(2) })
			cfg = m.Config()
			for _, p := range m.Params() {
				for i := range p.Value {
					p.Value[i] += 0.3 * rnd.NormFloat64()
				}
			}
			const batch, samples = 3, 5
			x, y := lmBatch(rnd, cfg, batch)
			if _, err := m.Forward(x, y, batch); err != nil {
				t.Fatal(err)
			}
			s := m.Summarize(samples)
			n, L := cfg.N, 2*cfg.Depth
			if len(s.LayerForwardAmax) != L || len(s.LayerBackwardAmax) != L || len(s.LayerDSDeviation) != L || len(s.LayerIdentityDist) != L {
				t.Fatalf("per-layer slices of lengths %d %d %d %d, want %d", len(s.LayerForwardAmax), len(s.LayerBackwardAmax),
					len(s.LayerDSDeviation), len(s.LayerIdentityDist), L)
			}
			means := make([]*mat.Dense, L)
			var ress [][]float64
			var maxDev, maxF, maxB, idSum float64
			prefix := eye(n)
			for l := range L {
				_, _, res := m.subs[l].layer.Coefficients()
				ress = append(ress, res)
				means[l] = meanRes(ress[l], n)
				var dev float64
				for tok := range len(ress[l]) / (n * n) {
					h := mat.NewDense(n, n, ress[l][tok*n*n:(tok+1)*n*n])
					for i := range n {
						dev = math.Max(dev, math.Abs(mat.Sum(h.RowView(i))-1))
						dev = math.Max(dev, math.Abs(mat.Sum(h.ColView(i))-1))
					}
				}
				if !closeTo(s.LayerDSDeviation[l], dev) {
					t.Errorf("layer %d: DS deviation %g, want %g", l, s.LayerDSDeviation[l], dev)
				}
				maxDev = math.Max(maxDev, dev)
				prefix.Mul(means[l], prefix)
				f, _ := amaxes(prefix)
				if !closeTo(s.LayerForwardAmax[l], f) {
					t.Errorf("layer %d: prefix forward Amax %g, want %g", l, s.LayerForwardAmax[l], f)
				}
				maxF = math.Max(maxF, f)
				var d mat.Dense
				d.Sub(means[l], eye(n))
				id := 0.0
				if n > 1 {
					id = mat.Norm(&d, 2) / math.Sqrt(float64(n-1))
				}
				if !closeTo(s.LayerIdentityDist[l], id) {
					t.Errorf("layer %d: identity distance %g, want %g", l, s.LayerIdentityDist[l], id)
				}
				idSum += id
			}
			f, b := amaxes(prefix)
			if !closeTo(s.ForwardAmax, f) || !closeTo(s.BackwardAmax, b) {
				t.Errorf("composite Amax %g/%g, want %g/%g", s.ForwardAmax, s.BackwardAmax, f, b)
			}
			suffix := eye(n)
			for l := L - 1; l >= 0; l-- {
				suffix.Mul(suffix, means[l])
				_, b := amaxes(suffix)
				if !closeTo(s.LayerBackwardAmax[l], b) {
					t.Errorf("layer %d: suffix backward Amax %g, want %g", l, s.LayerBackwardAmax[l], b)
				}
				maxB = math.Max(maxB, b)
			}
			if !closeTo(s.MaxDSDeviation, maxDev) || !closeTo(s.MaxForwardAmax, maxF) || !closeTo(s.MaxBackwardAmax, maxB) ||
				!closeTo(s.IdentityDist, idSum/float64(L)) {
				t.Errorf("maxima %g %g %g, identity %g; want %g %g %g, %g", s.MaxDSDeviation, s.MaxForwardAmax,
					s.MaxBackwardAmax, s.IdentityDist, maxDev, maxF, maxB, idSum/float64(L))
			}
			tokens := batch * cfg.Seq
			var sf, sb float64
			for k := range samples {
				tok := k * tokens / samples
				p := eye(n)
				for l := range L {
					p.Mul(mat.NewDense(n, n, ress[l][tok*n*n:(tok+1)*n*n]), p)
				}
				f, b := amaxes(p)
				sf += f / samples
				sb += b / samples
			}
			if !closeTo(s.SampledForwardAmax, sf) || !closeTo(s.SampledBackwardAmax, sb) {
				t.Errorf("sampled Amax %g/%g, want %g/%g", s.SampledForwardAmax, s.SampledBackwardAmax, sf, sb)
			}
			// The utilisation is measured on the streams the model reduces.
			streams := m.lastStreams()
			red := make([]float64, tokens*cfg.Width)
			hc.Reduce(red, streams, tokens, n, cfg.Width)
			want := m.body.(*lmNet[float64]).ws.red
			for i, v := range red {
				if v != want[i] {
					t.Fatalf("the summarised streams do not reduce to the final norm's input (entry %d: %g vs %g)", i, v, want[i])
				}
			}
			u := StreamUtilisation(streams, tokens, n, cfg.Width)
			if s.Utilisation.Effective != u.Effective || s.Utilisation.Dominant != u.Dominant {
				t.Errorf("utilisation %+v, want %+v", s.Utilisation, u)
			}
			if !(s.Utilisation.Effective >= 1-1e-9 && s.Utilisation.Effective <= float64(n)+1e-9) {
				t.Errorf("effective streams %g outside [1, %d]", s.Utilisation.Effective, n)
			}
		})
	}
}

// eye returns the n×n identity as a *mat.Dense.
func eye(n int) *mat.Dense {
	m := mat.NewDense(n, n, nil)
	for i := range n {
		m.Set(i, i, 1)
	}
	return m
}

// TestLMTrainerSummaries checks when the trainer records summaries and
// what they say of three mixers whose behaviour is known: the plain
// residual's composite is the identity (gains exactly 1, identity distance
// 0, one stream), the exact projection stays doubly stochastic to rounding
// while it moves away from the identity, and unconstrained HC's composite
// leaves 1.
func TestLMTrainerSummaries(t *testing.T) {
	c := lmTestCorpus(t)
	run := func(mixer string) []LMSummaryRecord {
		m, err := NewLM(LMConfig{Mixer: mixer, N: 4, Vocab: len(c.Vocab), Seq: 16, Width: 16, Depth: 2, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewLMTrainer(m, c, LMTrainConfig{Steps: 10, Batch: 4, LR: 3e-2, DiagEvery: 4, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		sums := tr.Summaries()
		if len(sums) != 3 || sums[0].Step != 4 || sums[1].Step != 8 || sums[2].Step != 10 {
			t.Fatalf("%s: summaries at %v, want steps 4, 8, 10", mixer, sums)
		}
		return sums
	}
	for _, r := range run(MixerResidual) {
		s := r.LMSummary
		if s.ForwardAmax != 1 || s.BackwardAmax != 1 || s.MaxForwardAmax != 1 || s.IdentityDist != 0 || s.Utilisation.Effective != 1 {
			t.Errorf("residual at step %d: %+v, want gains 1, identity distance 0, one stream", r.Step, s)
		}
	}
	for _, r := range run(MixerMHCExact) {
		if r.MaxDSDeviation > 1e-12 || r.IdentityDist == 0 || math.Abs(r.ForwardAmax-1) > 1e-12 {
			t.Errorf("mhc-exact at step %d: DS deviation %g, identity distance %g, forward Amax %g",
				r.Step, r.MaxDSDeviation, r.IdentityDist, r.ForwardAmax)
		}
	}
	last := run(MixerHC)[2]
	if last.ForwardAmax == 1 || last.MaxDSDeviation == 0 {
		t.Errorf("hc after 10 steps: forward Amax %g, DS deviation %g: not measured", last.ForwardAmax, last.MaxDSDeviation)
	}
	if _, err := NewLMTrainer(nil, c, LMTrainConfig{Steps: 1, DiagEvery: -1}); err == nil {
		t.Error("DiagEvery −1 accepted")
	}
}
