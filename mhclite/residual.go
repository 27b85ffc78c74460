package mhclite

import (
	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
)

var _ hc.Float32Storage = (*Mixer)(nil) // so hc.Mixer and hc.Float32Products too

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	k := m.perms.Len()
	w := &worker{m: m, z: make([]float64, k), dw: make([]float64, k), draw: make([]float64, k), bRes: make([]float64, k)}
	w.Worker = m.frame.Worker(w)
	return w
}

// worker is the shell's Worker (head, chunk loop, Flush) with the mixture
// of permutations as its Residual.
type worker struct {
	*shell.Worker
	m    *Mixer
	z    []float64 // logits α_res·raw + b_res
	dw   []float64 // ∂L/∂w
	draw []float64 // tokens×n!: ∂L/∂raw, grown to the largest chunk
	aRes float64   // private ∂L/∂α_res
	bRes []float64 // private ∂L/∂b_res
}

var _ shell.Residual = (*worker)(nil)

// Residual computes H_res = Σ_k w_k·P_k with w = softmax(α_res·raw + b_res)
// token by token, and records w. The mixture is birkhoff.Mix, compensated
// so that equal weights at the init do not bias it.
func (w *worker) Residual(res []float64, c shell.Chunk) error {
	m := w.m
	nn := m.cfg.N * m.cfg.N
	a, b := m.ARes.Value[0], m.BRes.Value
	z := w.z
	for t := range c.Tokens {
		for k, r := range c.Raw(t) {
			z[k] = a*r + b[k]
		}
		wt := c.Rec(t)
		softmax(wt, z)
		birkhoff.Mix(res[t*nn:(t+1)*nn], m.perms, wt)
	}
	return nil
}

// ResidualBackward differentiates Residual: ∂w = MixBackward(∂H_res), then
// the softmax and the affine map, token by token.
func (w *worker) ResidualBackward(dres []float64, c shell.Chunk) []float64 {
	m := w.m
	nn := m.cfg.N * m.cfg.N
	k := len(w.dw)
	if len(w.draw) < c.Tokens*k {
		w.draw = make([]float64, c.Tokens*k)
	}
	a := m.ARes.Value[0]
	for t := range c.Tokens {
		wt := c.Rec(t)
		birkhoff.MixBackward(w.dw, m.perms, dres[t*nn:(t+1)*nn])
		// Softmax: ∂z_k = w_k·(∂w_k − Σ_j w_j ∂w_j).
		var s float64
		for i, v := range wt {
			s += v * w.dw[i]
		}
		// z = α·raw + b: ∂α = Σ ∂z·raw, ∂b = ∂z, ∂raw = α·∂z.
		raw := c.Raw(t)
		draw := w.draw[t*k : (t+1)*k]
		for i, v := range wt {
			d := v * (w.dw[i] - s)
			w.aRes += d * raw[i]
			w.bRes[i] += d
			draw[i] = a * d
		}
	}
	return w.draw[:c.Tokens*k]
}

// FlushResidual adds the private gradients of α_res and b_res into the
// Params.
func (w *worker) FlushResidual() {
	shell.FlushScalar(w.m.ARes, &w.aRes)
	shell.Flush(w.m.BRes, w.bRes)
}
