package shc

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/f64"
	"github.com/hyperconn/hyperconn/internal/shell"
	"github.com/hyperconn/hyperconn/spectral"
)

// NewWorker returns a worker for one goroutine.
func (m *Mixer) NewWorker() hc.Worker {
	n, k := m.cfg.N, m.resLen
	w := &worker{m: m, draw: make([]float64, k), h: make([]float64, n*n), g: make([]float64, n*n)}
	w.Worker = m.frame.Worker(w)
	if n == 1 {
		return w
	}
	if m.structural {
		w.sphere = spectral.NewSphere[float64](n)
		if n == 4 {
			w.s4 = newSphere4()
		}
		w.zu, w.zv = make([]float64, m.l), make([]float64, m.l)
		w.dzu, w.dzv, w.dsig = make([]float64, m.l), make([]float64, m.l), make([]float64, m.m)
		w.gbU, w.gbV, w.gbS = make([]float64, m.l), make([]float64, m.l), make([]float64, m.m)
	} else {
		w.norm = spectral.NewNormalizer[float64](n)
		w.dA = make([]float64, n*n)
		w.gbRes = make([]float64, n*n)
	}
	return w
}

var _ hc.Float32Storage = (*Mixer)(nil) // so hc.Mixer and hc.Float32Products too

// worker is the shell's Worker (head, chunk loop, Flush) with the map onto
// the spectral sphere as its Residual, and that map's scratch and private
// gradients. The map and its backward run token by token. The spectral
// workspaces keep only the last token's forward state, so the backward
// recomputes the token's forward from the tape (bit-identical, it is the
// same computation on the same values) before differentiating it. At n = 4
// the structural form takes sphere4's fixed-size path for tokens in its
// domain (every |z| < 1, |σ| ≤ 1), which equals spectral.Sphere's results
// and whose backward recomputes only the two Cayley transforms, not H.
type worker struct {
	*shell.Worker
	m    *Mixer
	draw []float64 // tokens×k: ∂L/∂raw, grown to the largest chunk
	h    []float64 // n×n: H recomputed in Backward
	g    []float64 // n×n: ∂L/∂H of the unit-radius matrix

	// Structural form.
	sphere         *spectral.Sphere[float64]
	s4             *sphere4 // n = 4: the fast path of sphere4's domain, else nil
	zu, zv         []float64
	dzu, dzv, dsig []float64
	gbU, gbV, gbS  []float64 // private ∂L/∂b_U, b_V, b_sigma
	gsU, gsV, gsS  float64   // private ∂L/∂s_U, s_V, s_sigma
	ggU, ggV       float64   // private ∂L/∂γ_U, γ_V

	// Normalized form.
	norm  *spectral.Normalizer[float64]
	dA    []float64
	gaRes float64   // private ∂L/∂α_res
	gbRes []float64 // private ∂L/∂b_res
}

var _ shell.Residual = (*worker)(nil)

// Residual builds H_res token by token. A token's own record is that of
// forwardSphere or forwardNormalized.
func (w *worker) Residual(res []float64, c shell.Chunk) error {
	nn := w.m.cfg.N * w.m.cfg.N
	for t := range c.Tokens {
		raw, h := c.Raw(t), res[t*nn:(t+1)*nn]
		var err error
		if w.m.structural {
			err = w.forwardSphere(h, c.Rec(t), raw)
		} else {
			err = w.forwardNormalized(h, c.Rec(t), raw)
		}
		if err != nil {
			return shell.TokenError("shc", t, "H_res", err)
		}
	}
	return nil
}

// forwardSphere computes z_U, z_V, σ from the raw logits, records
// tanh(s_U·ℓ_U + b_U), tanh(s_V·ℓ_V + b_V) and σ in tape, and writes
// H = r·(J + U_z·U·diag(σ)·Vᵀ·U_zᵀ) into res.
func (w *worker) forwardSphere(res, tape, raw []float64) error {
	m := w.m
	l := m.l
	thU, thV, sig := tape[:l], tape[l:2*l], tape[2*l:m.resLen]
	rU, rV, rS := raw[:l], raw[l:2*l], raw[2*l:]
	if l > 0 {
		su, sv := m.sU.Value[0], m.sV.Value[0]
		bU, bV := m.bU.Value, m.bV.Value
		for k := range l {
			thU[k] = math.Tanh(su*rU[k] + bU[k])
			thV[k] = math.Tanh(sv*rV[k] + bV[k])
		}
	}
	ss, bS := m.sS.Value[0], m.bS.Value
	for i := range sig {
		sig[i] = math.Tanh(ss*rS[i] + bS[i])
	}
	w.scaleZ(thU, thV)
	if w.s4 == nil || !w.forward4(res, sig) {
		if _, err := w.sphere.Forward(res, w.zu, w.zv, sig); err != nil {
			return err
		}
	}
	if r := m.cfg.Radius; r != 1 {
		for i := range res {
			res[i] *= r
		}
	}
	return nil
}

// scaleZ sets z_U = γ_U·thU and z_V = γ_V·thV.
func (w *worker) scaleZ(thU, thV []float64) {
	m := w.m
	if m.l == 0 {
		return
	}
	gu, gv := m.gU.Value[0], m.gV.Value[0]
	for k := range thU {
		w.zu[k] = gu * thU[k]
		w.zv[k] = gv * thV[k]
	}
}

// forwardNormalized records A = α_res·raw + b_res in a and writes
// H = r·A/σ₁(A) into res.
func (w *worker) forwardNormalized(res, a, raw []float64) error {
	m := w.m
	alpha, b := m.aRes.Value[0], m.bRes.Value
	a = a[:len(raw)]
	for i, v := range raw {
		a[i] = alpha*v + b[i]
	}
	_, err := w.norm.Forward(res, a, m.cfg.Radius)
	return err
}

// ResidualBackward differentiates Residual token by token.
func (w *worker) ResidualBackward(dres []float64, c shell.Chunk) []float64 {
	m := w.m
	nn, k := m.cfg.N*m.cfg.N, m.resLen
	if len(w.draw) < c.Tokens*k {
		w.draw = make([]float64, c.Tokens*k)
	}
	for t := range c.Tokens {
		draw, g := w.draw[t*k:(t+1)*k], dres[t*nn:(t+1)*nn]
		if m.structural {
			w.backwardSphere(draw, c.Raw(t), c.Rec(t), g)
		} else {
			w.backwardNormalized(draw, c.Raw(t), c.Rec(t), g)
		}
	}
	return w.draw[:c.Tokens*k]
}

// backwardSphere sets draw = ∂L/∂raw and accumulates the gradients of the
// structural parameters, given the token's raw logits, its residual record
// and dres = ∂L/∂H_res.
func (w *worker) backwardSphere(draw, raw, tape, dres []float64) {
	m := w.m
	l := m.l
	thU, thV, sig := tape[:l], tape[l:2*l], tape[2*l:m.resLen]
	rU, rV, rS := raw[:l], raw[l:2*l], raw[2*l:]
	w.scaleZ(thU, thV)
	r := m.cfg.Radius
	for i, v := range dres {
		w.g[i] = r * v
	}
	if w.s4 == nil || !w.backward4(sig) {
		w.backwardGeneric(sig)
	}
	if l > 0 {
		su, sv := m.sU.Value[0], m.sV.Value[0]
		gu, gv := m.gU.Value[0], m.gV.Value[0]
		for k := range l {
			// z = γ·t, t = tanh(s·r + b): ∂γ = Σ dz·t, ∂(s·r + b) = dz·γ·(1 − t²).
			dz, t := w.dzu[k], thU[k]
			w.ggU += dz * t
			d := dz * gu * (1 - t*t)
			w.gbU[k] += d
			w.gsU += d * rU[k]
			draw[k] = su * d

			dz, t = w.dzv[k], thV[k]
			w.ggV += dz * t
			d = dz * gv * (1 - t*t)
			w.gbV[k] += d
			w.gsV += d * rV[k]
			draw[l+k] = sv * d
		}
	}
	ss := m.sS.Value[0]
	for i, s := range sig {
		d := w.dsig[i] * (1 - s*s)
		w.gbS[i] += d
		w.gsS += d * rS[i]
		draw[2*l+i] = ss * d
	}
}

// backwardGeneric sets w.dzu, w.dzv and w.dsig from w.g = ∂L/∂H with
// spectral.Sphere, recomputing the token's forward first.
func (w *worker) backwardGeneric(sig []float64) {
	if _, err := w.sphere.Forward(w.h, w.zu, w.zv, sig); err != nil {
		// The same inputs succeeded in Forward; the computation is
		// deterministic, so this cannot happen.
		panic(fmt.Errorf("shc: recomputing H_res: %w", err))
	}
	if err := w.sphere.Backward(w.dzu, w.dzv, w.dsig, w.g); err != nil {
		w.nanZ()
	}
}

// nanZ fills w.dzu, w.dzv and w.dsig with NaN: ∂L/∂H_res is NaN, infinite
// or overflows, and NaN reaches every gradient it touches, as arithmetic
// would, rather than a panic.
func (w *worker) nanZ() {
	fill(w.dzu, math.NaN())
	fill(w.dzv, math.NaN())
	fill(w.dsig, math.NaN())
}

// forward4 is sphere.Forward by sphere4 for n = 4 (w.zu, w.zv and sig set).
// It reports false, leaving res untouched, outside sphere4's domain.
func (w *worker) forward4(res, sig []float64) bool {
	zu, zv, s := (*[3]float64)(w.zu), (*[3]float64)(w.zv), (*[3]float64)(sig)
	return fits4(zu, zv, s) && w.s4.forward((*[16]float64)(res), zu, zv, s)
}

// backward4 is backwardGeneric by sphere4 for n = 4. It reports false,
// doing nothing, outside sphere4's domain, which is the same decision
// forward4 took for the token.
func (w *worker) backward4(sig []float64) bool {
	zu, zv, s := (*[3]float64)(w.zu), (*[3]float64)(w.zv), (*[3]float64)(sig)
	if !fits4(zu, zv, s) {
		return false
	}
	// forward4 took the fast path on these values, so the Cayley transforms
	// are finite. As in spectral.Sphere.Backward, a non-finite ∂L/∂H or
	// gradient gives NaN.
	g := (*[16]float64)(w.g)
	if !f64.AllFinite(g[:]) {
		w.nanZ()
		return true
	}
	if !w.s4.backward((*[3]float64)(w.dzu), (*[3]float64)(w.dzv), (*[3]float64)(w.dsig), zu, zv, s, g) {
		w.nanZ()
	}
	return true
}

// backwardNormalized sets draw = ∂L/∂raw and accumulates the gradients of
// α_res and b_res, given the token's raw logits, A and dres = ∂L/∂H_res.
func (w *worker) backwardNormalized(draw, raw, a, dres []float64) {
	m := w.m
	a = a[:len(raw)]
	if _, err := w.norm.Forward(w.h, a, m.cfg.Radius); err != nil {
		panic(fmt.Errorf("shc: recomputing H_res: %w", err)) // as in backwardSphere
	}
	if _, err := w.norm.Backward(w.dA, dres); err != nil {
		fill(w.dA, math.NaN()) // as in backwardSphere
	}
	alpha := m.aRes.Value[0]
	// A = α·raw + b: ∂α = Σ dA·raw, ∂b = dA, ∂raw = α·dA.
	for i, d := range w.dA {
		w.gaRes += d * raw[i]
		w.gbRes[i] += d
		draw[i] = alpha * d
	}
}

// FlushResidual adds the private gradients of the residual parameters into
// the Params and zeroes them.
func (w *worker) FlushResidual() {
	m := w.m
	if !m.structural {
		shell.FlushScalar(m.aRes, &w.gaRes)
		shell.Flush(m.bRes, w.gbRes)
		return
	}
	if m.l > 0 {
		shell.Flush(m.bU, w.gbU)
		shell.Flush(m.bV, w.gbV)
		shell.FlushScalar(m.sU, &w.gsU)
		shell.FlushScalar(m.sV, &w.gsV)
		shell.FlushScalar(m.gU, &w.ggU)
		shell.FlushScalar(m.gV, &w.ggV)
	}
	shell.Flush(m.bS, w.gbS)
	shell.FlushScalar(m.sS, &w.gsS)
}

func fill(s []float64, v float64) {
	for i := range s {
		s[i] = v
	}
}
