package mhc

import (
	"fmt"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
)

var _ hc.Float32Storage = (*Mixer)(nil) // so hc.Mixer and hc.Float32Products too

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	n := m.cfg.N
	w := &worker{m: m, ws: birkhoff.NewWorkspace[float64](n),
		dz: make([]float64, n*n), dz4: make([]float64, 4*n*n), draw: make([]float64, n*n), bRes: make([]float64, n*n)}
	if m.cfg.Form == DeepSeekV4 {
		w.v4 = NewProduction(n, m.cfg.Projection.Iterations, m.cfg.Eps)
	}
	w.Worker = m.frame.Worker(w)
	return w
}

// worker is the shell's Worker (head, chunk loop, Flush) with the
// projection of H̃_res as its Residual.
type worker struct {
	*shell.Worker
	m    *Mixer
	ws   *birkhoff.Workspace[float64]
	v4   *Production // DeepSeekV4's map
	dz   []float64
	dz4  []float64 // four tokens' dz for BackwardFixed4
	draw []float64 // tokens×n², grown to the largest chunk
	aRes float64   // private ∂L/∂α_res
	bRes []float64
}

var _ shell.Residual = (*worker)(nil)

// Residual computes H_res = Sinkhorn(α_res·mat(x̂φ_res) + b_res) of the
// chunk's tokens. A token's own record is H̃_res, then H_res, then for
// Fixed the record of its sweeps.
func (w *worker) Residual(res []float64, c shell.Chunk) error {
	m := w.m
	n, nn := m.cfg.N, m.cfg.N*m.cfg.N
	tokens := c.Tokens
	var worst float64
	defer func() { m.noteDeviation(worst) }()
	t := 0
	if n == 4 && m.fixedRec > 0 {
		// Four tokens at once (birkhoff.Workspace.ProjectFixed4).
		for ; t+4 <= tokens; t += 4 {
			var h, z, rec [4][]float64
			for l := range 4 {
				h[l], z[l], rec[l] = w.logits(res, c, t+l)
			}
			st, k, err := w.ws.ProjectFixed4(h, rec, z, m.cfg.Projection.Iterations)
			for l := range k {
				copy(c.Rec(t + l)[nn:2*nn], h[l])
				if st[l].Deviation > worst {
					worst = st[l].Deviation
				}
			}
			if err != nil {
				return shell.TokenError("mhc", t+k, "H̃_res", err)
			}
		}
	}
	for ; t < tokens; t++ {
		h, z, fixed := w.logits(res, c, t)
		var st birkhoff.Stats
		var err error
		switch {
		case m.cfg.Form == DeepSeekV4:
			st.Deviation, err = w.v4.Forward(h, z)
		case m.fixedRec > 0:
			st, err = w.ws.ProjectFixed(h, fixed, z, m.cfg.Projection.Iterations)
		default:
			st, err = w.ws.Project(h, z, m.cfg.Projection)
		}
		if err != nil {
			return shell.TokenError("mhc", t, "H̃_res", err)
		}
		copy(c.Rec(t)[nn:2*nn], h)
		if st.Deviation > worst { // as noteDeviation: a NaN is never noted
			worst = st.Deviation
		}
	}
	return nil
}

// ResidualBackward differentiates Residual: the implicit gradient for Exact
// and Tolerance (from the stored H_res), the unrolled one for Fixed (from
// the recorded sweeps, birkhoff.Workspace.BackwardFixed).
func (w *worker) ResidualBackward(dres []float64, c shell.Chunk) []float64 {
	m := w.m
	n, nn := m.cfg.N, m.cfg.N*m.cfg.N
	tokens := c.Tokens
	if len(w.draw) < tokens*nn {
		w.draw = make([]float64, tokens*nn)
	}
	a := m.ARes.Value[0]
	t := 0
	if n == 4 && m.fixedRec > 0 {
		// Four tokens at once (birkhoff.Workspace.BackwardFixed4).
		for ; t+4 <= tokens; t += 4 {
			var dz, g, rec [4][]float64
			for l := range 4 {
				dz[l] = w.dz4[l*nn : (l+1)*nn]
				g[l] = dres[(t+l)*nn : (t+l+1)*nn]
				rec[l] = c.Rec(t + l)[2*nn:]
			}
			w.ws.BackwardFixed4(dz, g, rec)
			for l := range 4 {
				w.chain(t+l, c.Raw(t+l), dz[l], a)
			}
		}
	}
	for ; t < tokens; t++ {
		rec := c.Rec(t)
		g := dres[t*nn : (t+1)*nn]
		switch {
		case m.cfg.Form == DeepSeekV4:
			// The scratch holds the last token's rounds: rerun this one's
			// (the same computation on the same logits, so the same bits).
			if _, err := w.v4.Forward(rec[nn:2*nn], rec[:nn]); err != nil {
				panic(fmt.Errorf("mhc: recomputing H_res: %w", err)) // it succeeded in Residual
			}
			w.v4.Backward(w.dz, g)
		case m.fixedRec > 0:
			w.ws.BackwardFixed(w.dz, g, rec[2*nn:])
		default:
			w.ws.BackwardAt(w.dz, rec[nn:2*nn], g)
		}
		w.chain(t, c.Raw(t), w.dz, a)
	}
	return w.draw[:tokens*nn]
}

// logits computes token t's H̃_res = α·raw + b_res into its record and
// returns the slices of H_res (in res), H̃_res and the Fixed record.
func (w *worker) logits(res []float64, c shell.Chunk, t int) (h, z, rec []float64) {
	m := w.m
	nn := m.cfg.N * m.cfg.N
	r := c.Rec(t)
	z = r[:nn]
	a := m.ARes.Value[0]
	for i, v := range c.Raw(t) {
		z[i] = a*v + m.BRes.Value[i]
	}
	return res[t*nn : (t+1)*nn], z, r[2*nn:]
}

// chain takes token t's ∂L/∂H̃_res = dz (raw its logits) through
// z = α·raw + b: ∂α = Σ dz·raw, ∂b = dz, ∂raw = α·dz.
func (w *worker) chain(t int, raw, dz []float64, a float64) {
	nn := len(dz)
	draw := w.draw[t*nn : (t+1)*nn]
	for i, r := range raw {
		d := dz[i]
		w.aRes += d * r
		w.bRes[i] += d
		draw[i] = a * d
	}
}

// FlushResidual adds the private gradients of α_res and b_res into the
// Params.
func (w *worker) FlushResidual() {
	shell.FlushScalar(w.m.ARes, &w.aRes)
	shell.Flush(w.m.BRes, w.bRes)
}
