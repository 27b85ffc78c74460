package kromhc

import (
	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/shell"
	sm "github.com/hyperconn/hyperconn/internal/softmax"
)

var _ hc.Float32Storage = (*Mixer)(nil) // so hc.Mixer and hc.Float32Products too

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	nf, most, big := len(m.factors), 0, 0
	for _, f := range m.factors {
		most = max(most, f.perms.Len())
		big = max(big, f.size*f.size)
	}
	w := &worker{m: m, z: make([]float64, most), dw: make([]float64, most), du: make([]float64, big*max(nf, 1)),
		pre: make([]float64, nf+1), suf: make([]float64, nf+1), gate: m.gate.NewGrad()}
	w.Worker = m.frame.Worker(w)
	return w
}

// worker is the shell's Worker (head, chunk loop, Flush) with the
// Kronecker product of permutation mixtures as its Residual.
type worker struct {
	*shell.Worker
	m        *Mixer
	z, dw    []float64 // one factor's logits and ∂L/∂w
	du       []float64 // ∂L/∂U_k of every factor, i_k² each, at offset k·max i²
	pre, suf []float64 // prefix and suffix products of one entry's factors
	gate     *shell.GateGrad
}

var _ shell.Residual = (*worker)(nil)

// Residual computes, token by token, each factor's weights
// w_k = softmax(α_res·raw_k + b_k) and U_k = Σ_j w_{k,j}·P_j, records them,
// and writes H_res = U_1 ⊗ U_2 ⊗ …: H[a][b] = Π_k U_k[a_k][b_k] with a_k,
// b_k the digits of a and b (most significant first), the product taken in
// factor order.
func (w *worker) Residual(res []float64, c shell.Chunk) error {
	m := w.m
	n, nf := m.cfg.N, len(m.factors)
	for t := range c.Tokens {
		raw, rec := c.Raw(t), c.Rec(t)
		for _, f := range m.factors {
			k := f.perms.Len()
			z := w.z[:k]
			m.gate.Logits(z, raw[f.off:f.off+k], f.off)
			wt := rec[f.off : f.off+k]
			sm.To(wt, z)
			birkhoff.Mix(rec[f.uoff:f.uoff+f.size*f.size], f.perms, wt)
		}
		h := res[t*n*n : (t+1)*n*n]
		for i := range n {
			di := m.digits[i*nf : (i+1)*nf]
			for j := range n {
				dj := m.digits[j*nf : (j+1)*nf]
				p := 1.0
				for q, f := range m.factors {
					p *= rec[f.uoff+di[q]*f.size+dj[q]]
				}
				h[i*n+j] = p
			}
		}
	}
	return nil
}

// ResidualBackward differentiates Residual token by token: ∂L/∂U_k[a_k][b_k]
// collects ∂L/∂H[a][b] times the other factors' entries (prefix and suffix
// products), then each factor's mixture, softmax and gate.
func (w *worker) ResidualBackward(dres []float64, c shell.Chunk) []float64 {
	m := w.m
	n, nf := m.cfg.N, len(m.factors)
	draw := w.gate.Draw(c.Tokens)
	stride := len(w.du) / nf
	for t := range c.Tokens {
		raw, rec := c.Raw(t), c.Rec(t)
		g := dres[t*n*n : (t+1)*n*n]
		clear(w.du)
		for i := range n {
			di := m.digits[i*nf : (i+1)*nf]
			for j := range n {
				dj := m.digits[j*nf : (j+1)*nf]
				w.pre[0], w.suf[nf] = 1, 1
				for q, f := range m.factors {
					w.pre[q+1] = w.pre[q] * rec[f.uoff+di[q]*f.size+dj[q]]
				}
				for q := nf - 1; q >= 0; q-- {
					f := m.factors[q]
					w.suf[q] = w.suf[q+1] * rec[f.uoff+di[q]*f.size+dj[q]]
				}
				d := g[i*n+j]
				for q, f := range m.factors {
					w.du[q*stride+di[q]*f.size+dj[q]] += d * w.pre[q] * w.suf[q+1]
				}
			}
		}
		for q, f := range m.factors {
			k := f.perms.Len()
			dw := w.dw[:k]
			birkhoff.MixBackward(dw, f.perms, w.du[q*stride:q*stride+f.size*f.size])
			sm.Backward(dw, rec[f.off:f.off+k], dw)
			w.gate.Backward(t, f.off, raw[f.off:f.off+k], dw)
		}
	}
	return draw
}

// FlushResidual adds the private gradients of α_res and b_res into the
// Params.
func (w *worker) FlushResidual() { w.gate.Flush() }
