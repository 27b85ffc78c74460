package mhc

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/f64"
)

// Form selects the map from H̃_res to H_res.
type Form int

const (
	// Sinkhorn is the paper's map: exp(H̃_res), then Config.Projection.
	// The default.
	Sinkhorn Form = iota
	// DeepSeekV4 is DeepSeek-V4's production map (see DeepSeekV4Config):
	// a softmax + ε, then Projection.Iterations rounds of normalisations
	// with ε in every denominator.
	DeepSeekV4
)

var formNames = [...]string{Sinkhorn: "sinkhorn", DeepSeekV4: "deepseek-v4"}

// String returns "sinkhorn" or "deepseek-v4" (or "Form(k)" for another k).
func (f Form) String() string {
	if f >= 0 && int(f) < len(formNames) {
		return formNames[f]
	}
	return fmt.Sprintf("Form(%d)", int(f))
}

// DefaultEps is DeepSeek-V4's ε: added to h_pre, to the softmax and to every
// denominator of the normalisations.
const DefaultEps = 1e-6

// DeepSeekV4Config is the mHC of DeepSeek-V4 (open weights; n = 4 there):
// the head as mHC's (RMS over all nC values with no learned weight, one
// linear map split [pre, post, comb], each × its gate + its bias), with
//
//	h_pre  = σ(·) + ε
//	h_post = 2σ(·)
//	M      = softmax of each column of H̃_res, + ε     (row-softmax in PyTorch's layout)
//	M      ← M with each row divided by (its sum + ε)  (PyTorch: column normalisation)
//	19 × { columns, then rows, divided by (sum + ε) }  (PyTorch: rows, then columns)
//	H_res  = M
//
// ε = 1e-6 and 20 rounds (Projection.Iterations), in float64 (DeepSeek-V4
// computes them in float32). net's mixer "mhc-v4" is this preset, and
// net.Config.Reduce = "merge" adds DeepSeek-V4's stream-merging head as the
// network's reduce. Rows are
// normalised last, so the row sums are
// S/(S + ε), within about ε of 1, and the columns are off by the gap 19
// rounds leave: MaxDeviation reports the larger, as for Fixed-20. The
// backward runs through the unrolled rounds. The init is mHC's.
//
// # Orientation
//
// Row i of H_res builds output stream i (the library's convention); the
// PyTorch code's comb is its transpose, comb[s][t] = H_res[t][s], the weight
// of input stream s in output stream t, with comb's logits at s·n + t of
// the comb part of the linear map. The logit of H_res[i][j] here is
// b_res[i·n + j] plus the gated row 2n + i·n + j of Φ ("phi", stored
// transposed: row r is column r of the PyTorch weight). So a port copies
// pre, post and their biases as they are, and transposes the n×n
// arrangement of comb: our Φ row 2n + i·n + j = their weight column
// 2n + j·n + i, our b_res[i·n + j] = their comb base [j·n + i], and their
// comb matrix = our H_resᵀ (TestDeepSeekV4 checks this mapping against an
// independent transcription in the PyTorch layout).
func DeepSeekV4Config(n, c, layer int) Config {
	return Config{N: n, C: c, Layer: layer, Form: DeepSeekV4, Eps: DefaultEps,
		Projection: PaperConfig(n, c, layer).Projection}
}

// Production is DeepSeek-V4's map from an n×n logit matrix H̃ to H_res on
// its own (the map of the DeepSeekV4 form, without the head), with its
// unrolled backward: a workspace that keeps every intermediate matrix of
// the last Forward. Create it with NewProduction; one Production serves one
// goroutine.
type Production struct {
	n     int
	eps   float64
	steps int       // normalisations after the softmax: 1 + 2·(rounds − 1)
	sm    []float64 // n²: the softmax (M_0 − ε)
	m     []float64 // (steps+1)·n²: M_0 and the result of each normalisation
	den   []float64 // steps·n: each normalisation's denominators (sum + ε)
	d     []float64 // n²: the adjoint
}

// NewProduction returns the map for n×n matrices with the given rounds (0
// means 20: one row normalisation, then rounds − 1 column-and-row pairs)
// and ε (0 means DefaultEps). It panics with hc.ErrShape if n < 1 or rounds
// < 0, and if eps is negative or not finite.
func NewProduction(n, rounds int, eps float64) *Production {
	if n < 1 || rounds < 0 || !(eps >= 0) || math.IsInf(eps, 0) {
		panic(fmt.Errorf("%w: mhc: NewProduction(%d, %d, %v)", hc.ErrShape, n, rounds, eps))
	}
	if rounds == 0 {
		rounds = 20
	}
	if eps == 0 {
		eps = DefaultEps
	}
	steps := 1 + 2*(rounds-1)
	return &Production{n: n, eps: eps, steps: steps, sm: make([]float64, n*n), m: make([]float64, (steps+1)*n*n),
		den: make([]float64, steps*n), d: make([]float64, n*n)}
}

// Forward writes H_res of the n×n row-major logits z into h and returns its
// deviation from doubly stochastic (birkhoff.Deviation). Normalisation s
// divides rows when s is even and columns when s is odd, so the last one
// divides rows. A NaN or an infinity in z is an error wrapping
// hc.ErrNotFinite, h untouched. It panics with hc.ErrShape on lengths other
// than n².
func (p *Production) Forward(h, z []float64) (float64, error) {
	n, nn := p.n, p.n*p.n
	if len(h) != nn || len(z) != nn {
		panic(fmt.Errorf("%w: mhc: Production.Forward: len(h) = %d, len(z) = %d for n = %d", hc.ErrShape, len(h), len(z), n))
	}
	if !f64.AllFinite(z) {
		return 0, fmt.Errorf("mhc: H̃_res is not finite: %w", hc.ErrNotFinite)
	}
	for j := range n { // softmax of column j, shifted by its largest logit
		hi := math.Inf(-1)
		for i := range n {
			hi = math.Max(hi, z[i*n+j])
		}
		var s float64
		for i := range n {
			e := math.Exp(z[i*n+j] - hi)
			p.sm[i*n+j] = e
			s += e
		}
		for i := range n {
			p.sm[i*n+j] /= s
			p.m[i*n+j] = p.sm[i*n+j] + p.eps
		}
	}
	for s := range p.steps {
		x, y, den := p.m[s*nn:(s+1)*nn], p.m[(s+1)*nn:(s+2)*nn], p.den[s*n:(s+1)*n]
		for a := range n {
			var sum float64
			for b := range n {
				sum += x[at(s, a, b, n)]
			}
			den[a] = sum + p.eps
			for b := range n {
				y[at(s, a, b, n)] = x[at(s, a, b, n)] / den[a]
			}
		}
	}
	copy(h, p.m[p.steps*nn:])
	return birkhoff.Deviation(h, n), nil
}

// at is the index of entry b of line a (row a for even s, column a for
// odd s) of an n×n row-major matrix.
func at(s, a, b, n int) int {
	if s%2 == 0 {
		return a*n + b
	}
	return b*n + a
}

// Backward writes ∂L/∂z into dz given g = ∂L/∂H_res at the last Forward.
// Through y = x/(Σx + ε) along a line: ∂x = (∂y − Σ ∂y·y)/(Σx + ε); through
// a column's softmax w (+ ε): ∂z = w∘(∂M − Σ w·∂M).
// It panics with hc.ErrShape on lengths other than n².
func (p *Production) Backward(dz, g []float64) {
	n, nn := p.n, p.n*p.n
	if len(dz) != nn || len(g) != nn {
		panic(fmt.Errorf("%w: mhc: Production.Backward: len(dz) = %d, len(g) = %d for n = %d", hc.ErrShape, len(dz), len(g), n))
	}
	d := p.d
	copy(d, g)
	for s := p.steps - 1; s >= 0; s-- {
		y, den := p.m[(s+1)*nn:(s+2)*nn], p.den[s*n:(s+1)*n]
		for a := range n {
			var dot float64
			for b := range n {
				dot += d[at(s, a, b, n)] * y[at(s, a, b, n)]
			}
			for b := range n {
				k := at(s, a, b, n)
				d[k] = (d[k] - dot) / den[a]
			}
		}
	}
	for j := range n {
		var dot float64
		for i := range n {
			dot += p.sm[i*n+j] * d[i*n+j]
		}
		for i := range n {
			dz[i*n+j] = p.sm[i*n+j] * (d[i*n+j] - dot)
		}
	}
}
