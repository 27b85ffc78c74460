package net

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/hyperconn/hyperconn/hc"
)

var (
	// ErrShape is the panic value for slices whose lengths do not match the
	// dimensions given to a layer, the loss or the optimiser. It signals a
	// programmer error, as gonum's mat.ErrShape does.
	ErrShape = errors.New("net: dimension mismatch")

	// ErrNonFinite is wrapped by the errors returned when user data, logits,
	// gradients or a learning rate hold NaN or ±Inf.
	ErrNonFinite = errors.New("net: non-finite value")

	// ErrLabel is wrapped by the errors returned when a class label is
	// outside [0, classes).
	ErrLabel = errors.New("net: label out of range")
)

// Param is one named trainable tensor: its values, the gradient accumulated
// by the backward passes (same length, same order), and whether the
// optimiser must skip weight decay for it (biases, norm gains, mixer static
// parts and gates). It is the hc frame's parameter type itself, so a
// network hands the parameters of its layers and of its mixers to one
// AdamW.
type Param = hc.Param

// newParam returns a Param of size k with zeroed value and gradient.
func newParam(name string, k int, noDecay bool) Param {
	return Param{Name: name, Value: make([]float64, k), Grad: make([]float64, k), NoDecay: noDecay}
}

// DefaultRMSEps is the ε added to the mean square inside RMSNorm's square
// root when a zero RMSNorm.Eps is given (the LLaMA reference value).
const DefaultRMSEps = 1e-6

// Linear is the affine map y = x·W + b applied to every row of a batch:
// x is rows×In, W is In×Out, b has Out entries and y is rows×Out, all
// row-major. W's row i holds the weights leaving input feature i.
//
// Linear holds no activations: Backward is given the forward input again, so
// one Linear may serve several batches, and neither pass allocates.
type Linear struct {
	In, Out int
	W       Param // In×Out row-major; decayed.
	B       Param // Out; NoDecay.
}

// NewLinear returns an In×Out Linear named name (parameters name+".w" and
// name+".b"), with Glorot/Xavier-uniform weights
// W_ij ~ U(−a, a), a = √(6/(in+out)), drawn row-major from rnd, and zero
// bias. The same rnd state gives bit-for-bit the same weights.
// NewLinear panics with ErrShape if in or out is below 1, and rnd must not
// be nil.
func NewLinear(name string, in, out int, rnd *rand.Rand) *Linear {
	if in < 1 || out < 1 {
		panic(ErrShape)
	}
	l := &Linear{
		In:  in,
		Out: out,
		W:   newParam(name+".w", in*out, false),
		B:   newParam(name+".b", out, true),
	}
	a := math.Sqrt(6 / float64(in+out))
	for i := range l.W.Value {
		l.W.Value[i] = a * (2*rnd.Float64() - 1)
	}
	return l
}

// Params returns pointers to W and B, in that order.
func (l *Linear) Params() []*Param { return []*Param{&l.W, &l.B} }

// Forward writes x·W + b into dst. x must have rows·In elements and dst
// rows·Out; otherwise Forward panics with ErrShape. dst must not overlap x.
// Cost: 2·rows·In·Out flops.
func (l *Linear) Forward(dst, x []float64, rows int) {
	l.generic().forward(dst, x, rows)
}

// generic returns the generic layer that runs l's passes (layers written
// once for both precisions, generic.go), reading l's parameters in place.
func (l *Linear) generic() *linear[float64] {
	return &linear[float64]{in: l.In, out: l.Out, w: view(&l.W), b: view(&l.B)}
}

// Backward takes the forward input x and the gradient dy of the loss with
// respect to the output (rows×Out), adds xᵀ·dy to W.Grad and the column sums
// of dy to B.Grad, and, unless dx is nil, overwrites dx (rows×In) with
// dy·Wᵀ. Lengths that do not match rows, In and Out panic with ErrShape.
// dx must not overlap dy. Cost: 4·rows·In·Out flops (2·rows·In·Out with a
// nil dx).
func (l *Linear) Backward(dx, dy, x []float64, rows int) {
	l.generic().backward(dx, dy, x, rows)
}

// RMSNorm normalises each row of a rows×C batch by its root mean square and
// scales it by a learned gain:
//
//	y_j = g_j · x_j / √(mean_k x_k² + ε).
//
// The gain starts at 1 and is not decayed. Like Linear it keeps no state
// between passes.
type RMSNorm struct {
	C    int     // features per row
	Eps  float64 // ε; NewRMSNorm sets DefaultRMSEps.
	Gain Param   // C entries; NoDecay.
}

// NewRMSNorm returns an RMSNorm over rows of width c, named name (parameter
// name+".g"), with unit gain and Eps = DefaultRMSEps. It panics with ErrShape
// if c is below 1.
func NewRMSNorm(name string, c int) *RMSNorm {
	if c < 1 {
		panic(ErrShape)
	}
	n := &RMSNorm{C: c, Eps: DefaultRMSEps, Gain: newParam(name+".g", c, true)}
	for i := range n.Gain.Value {
		n.Gain.Value[i] = 1
	}
	return n
}

// Params returns a pointer to the gain.
func (n *RMSNorm) Params() []*Param { return []*Param{&n.Gain} }

// generic returns the generic layer that runs n's passes, reading n's
// gain in place.
func (n *RMSNorm) generic() *rmsNorm[float64] {
	return &rmsNorm[float64]{c: n.C, eps: n.Eps, gain: view(&n.Gain)}
}

// Forward writes the normalised rows of x into dst; both hold rows·C
// elements, else Forward panics with ErrShape. dst may be x itself.
// Cost: 4·rows·C flops.
func (n *RMSNorm) Forward(dst, x []float64, rows int) {
	n.generic().forward(dst, x, rows)
}

// Backward takes the forward input x and the upstream gradient dy, adds
// Σ_rows dy ⊙ x·ρ to the gain's gradient (ρ = 1/rms of the row) and
// overwrites dx with
//
//	dx_k = ρ·(g_k·dy_k − x_k·ρ²·(Σ_j g_j·dy_j·x_j)/C).
//
// All three hold rows·C elements, else Backward panics with ErrShape.
// dx may be dy itself. Cost: about 10·rows·C flops.
func (n *RMSNorm) Backward(dx, dy, x []float64, rows int) {
	n.generic().backward(dx, dy, x, rows)
}

// GELU writes the exact Gaussian error linear unit of every element of x
// into dst:
//
//	gelu(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)),
//
// the erf form (PyTorch's default), not the tanh approximation. dst and x
// must have equal length, else GELU panics with ErrShape; dst may be x.
// Special cases: gelu(+Inf) = +Inf, gelu(−Inf) = NaN (−Inf·0), gelu(NaN) = NaN.
func GELU(dst, x []float64) {
	if len(dst) != len(x) {
		panic(ErrShape)
	}
	geluKernel(dst, nil, x)
}

// GELUBackward overwrites dx with dy ⊙ gelu'(x), where
//
//	gelu'(x) = Φ(x) + x·φ(x) = ½·(1 + erf(x/√2)) + x·exp(−x²/2)/√(2π),
//
// x being the forward input. All three must have equal length, else it
// panics with ErrShape; dx may be dy.
func GELUBackward(dx, dy, x []float64) {
	if len(dx) != len(x) || len(dy) != len(x) {
		panic(ErrShape)
	}
	geluBackKernel(dx, dy, x, nil)
}

// SoftmaxCrossEntropy scores a rows×classes batch of logits (rows =
// len(labels)) against integer labels. It returns the mean over rows of the
// cross-entropy −log softmax(z_r)[y_r], and the number of rows whose largest
// logit (the first, on ties) is at the label. Unless dlogits is nil it
// overwrites dlogits with the gradient of that mean,
//
//	∂loss/∂z_rj = (softmax(z_r)_j − [j = y_r]) / rows.
//
// Each row is shifted by its maximum before exponentiation, so any finite
// logits are safe. A non-finite logit (wrapping ErrNonFinite) or a label
// outside [0, classes) (wrapping ErrLabel) is reported as an error before
// anything is written. len(logits) must be rows·classes and a non-nil
// dlogits as long, else it panics with ErrShape; dlogits may be logits.
// An empty batch has loss 0.
func SoftmaxCrossEntropy(dlogits, logits []float64, labels []int, classes int) (loss float64, correct int, err error) {
	rows := len(labels)
	if classes < 1 || len(logits) != rows*classes || (dlogits != nil && len(dlogits) != len(logits)) {
		panic(ErrShape)
	}
	if err := checkLabels(labels, classes); err != nil {
		return 0, 0, err
	}
	for i, v := range logits {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("net: softmax cross-entropy: logit %v at row %d, class %d: %w", v, i/classes, i%classes, ErrNonFinite)
		}
	}
	if rows == 0 {
		return 0, 0, nil
	}
	scale := 1 / float64(rows)
	for r, y := range labels {
		z := logits[r*classes : (r+1)*classes]
		arg := 0
		for j, v := range z {
			if v > z[arg] {
				arg = j
			}
		}
		if arg == y {
			correct++
		}
		zmax := z[arg]
		var s float64
		for _, v := range z {
			s += math.Exp(v - zmax)
		}
		loss += math.Log(s) - (z[y] - zmax)
		if dlogits != nil {
			d := dlogits[r*classes : (r+1)*classes]
			for j, v := range z {
				d[j] = math.Exp(v-zmax) / s * scale
			}
			d[y] -= scale
		}
	}
	return loss * scale, correct, nil
}

// checkLabels returns an error wrapping ErrLabel for the first label
// outside [0, classes): the check of SoftmaxCrossEntropy and of the
// float32 LM's loss.
func checkLabels(labels []int, classes int) error {
	for r, y := range labels {
		if y < 0 || y >= classes {
			return fmt.Errorf("net: softmax cross-entropy: row %d has label %d, want [0, %d): %w", r, y, classes, ErrLabel)
		}
	}
	return nil
}
