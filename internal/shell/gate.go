package shell

import (
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

// Gate is the affine map z = α_res·raw + b_res that mhc, mhclite, kromhc
// and orthohc put between the head's raw residual logits and their map:
// one gate α_res ("alpha_res", init head.DefaultGate) and one bias per
// logit ("b_res", init 0 for the caller to set). Both are NoDecay.
type Gate struct {
	Alpha, Bias *hc.Param
}

// NewGate returns the gate of k logits.
func NewGate(k int) Gate {
	a, b := head.ResidualGate(k)
	return Gate{Alpha: a, Bias: b}
}

// Params returns α_res and b_res, or none when there are no logits (n = 1).
func (g Gate) Params() []*hc.Param {
	if len(g.Bias.Value) == 0 {
		return nil
	}
	return []*hc.Param{g.Alpha, g.Bias}
}

// Logits writes z[i] = α_res·raw[i] + b_res[off+i] for the logits off…
// off+len(raw)−1.
func (g Gate) Logits(z, raw []float64, off int) {
	a, b := g.Alpha.Value[0], g.Bias.Value[off:off+len(raw)]
	for i, r := range raw {
		z[i] = a*r + b[i]
	}
}

// GateGrad is one Worker's private gradients of a Gate and its chunk's
// ∂L/∂raw.
type GateGrad struct {
	g     Gate
	alpha float64
	bias  []float64
	draw  []float64 // tokens×k, grown to the largest chunk
}

// NewGrad returns zeroed private gradients of g.
func (g Gate) NewGrad() *GateGrad {
	k := len(g.Bias.Value)
	return &GateGrad{g: g, bias: make([]float64, k), draw: make([]float64, k)}
}

// Draw returns the chunk's ∂L/∂raw (tokens×k), growing it if needed; its
// values are those the last Backward calls wrote.
func (gg *GateGrad) Draw(tokens int) []float64 {
	k := len(gg.bias)
	if len(gg.draw) < tokens*k {
		gg.draw = make([]float64, tokens*k)
	}
	return gg.draw[:tokens*k]
}

// Backward takes ∂L/∂z = dz of token t's logits off…off+len(dz)−1 (raw
// their raw values) through z = α·raw + b: ∂α += Σ dz·raw, ∂b += dz, and
// ∂raw = α·dz into the chunk's Draw (which must have been grown for t).
func (gg *GateGrad) Backward(t, off int, raw, dz []float64) {
	k := len(gg.bias)
	a := gg.g.Alpha.Value[0]
	draw, bias := gg.draw[t*k+off:t*k+off+len(dz)], gg.bias[off:off+len(dz)]
	for i, d := range dz {
		gg.alpha += d * raw[i]
		bias[i] += d
		draw[i] = a * d
	}
}

// Flush adds the private gradients into the Gate's Params and zeroes them.
func (gg *GateGrad) Flush() {
	FlushScalar(gg.g.Alpha, &gg.alpha)
	Flush(gg.g.Bias, gg.bias)
}
