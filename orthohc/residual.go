package orthohc

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
	"github.com/hyperconn/hyperconn/spectral"
)

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	w := &worker{m: m, cay: spectral.NewCayley[float64](m.cfg.N), h: make([]float64, m.cfg.N*m.cfg.N),
		dz: make([]float64, m.k), gate: m.gate.NewGrad()}
	w.Worker = m.frame.Worker(w)
	return w
}

// worker is the shell's Worker (head, chunk loop, Flush) with the Cayley
// transform as its Residual. The Cayley workspace keeps only the last
// token's factorisation, so the backward recomputes each token's transform
// from its recorded z (the same computation on the same values, so the same
// bits) before differentiating it.
type worker struct {
	*shell.Worker
	m    *Mixer
	cay  *spectral.Cayley[float64]
	h    []float64 // n×n: H_res recomputed in the backward
	dz   []float64
	gate *shell.GateGrad
}

var _ shell.Residual = (*worker)(nil)

// Residual records z = α_res·raw + b_res and writes
// H_res = (I + A)⁻¹(I − A), A = skew(z), token by token.
func (w *worker) Residual(res []float64, c shell.Chunk) error {
	m := w.m
	nn := m.cfg.N * m.cfg.N
	for t := range c.Tokens {
		z := c.Rec(t)
		m.gate.Logits(z, c.Raw(t), 0)
		if _, err := w.cay.Transform(res[t*nn:(t+1)*nn], z); err != nil {
			return shell.TokenError("orthohc", t, "H_res", err)
		}
	}
	return nil
}

// ResidualBackward differentiates Residual token by token: the Cayley
// transform's backward (spectral.Cayley.Backward), then the gate.
func (w *worker) ResidualBackward(dres []float64, c shell.Chunk) []float64 {
	m := w.m
	nn := m.cfg.N * m.cfg.N
	draw := w.gate.Draw(c.Tokens)
	for t := range c.Tokens {
		if _, err := w.cay.Transform(w.h, c.Rec(t)); err != nil {
			// The same z succeeded in Residual; the computation is
			// deterministic, so this cannot happen.
			panic(fmt.Errorf("orthohc: recomputing H_res: %w", err))
		}
		if _, err := w.cay.Backward(w.dz, dres[t*nn:(t+1)*nn]); err != nil {
			// ∂L/∂H_res is not finite or the gradient overflows: NaN
			// reaches every gradient it touches, as arithmetic would.
			for i := range w.dz {
				w.dz[i] = math.NaN()
			}
		}
		w.gate.Backward(t, 0, c.Raw(t), w.dz)
	}
	return draw
}

// FlushResidual adds the private gradients of α_res and b_res into the
// Params.
func (w *worker) FlushResidual() { w.gate.Flush() }
