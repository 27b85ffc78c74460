// Package head is the coefficient head shared by the mHC family of mixers
// (mhc, mhclite, shc): it turns one token's streams X (n×C) into h_pre,
// h_post and k raw residual logits, and back-propagates through that map.
//
// Following mHC (arXiv 2512.24880, §4):
//
//	x̂      = RMSNorm(vec(X))            over all nC values, no learned gain
//	y      = x̂·Φ                        Φ = [φ_pre φ_post φ_res] ∈ R^{nC×(2n+k)}
//	h_pre  = sigmoid(α_pre·y_pre + b_pre)
//	h_post = 2·sigmoid(α_post·y_post + b_post)
//	raw    = y_res                      (k values; the mixer maps them to H_res)
//
// Φ is stored transposed, as the (2n+k)×nC row-major parameter "phi" whose
// rows 0..n−1 are φ_pre's columns, rows n..2n−1 φ_post's and the last k
// φ_res's: every output is then one contiguous dot product. The reference
// init (mHC-lite and s²HC code) is Φ = 0, b_pre = b_post = +1 on the home
// stream (layer mod n) and −1 elsewhere, gates α = 0.01: h_pre = 0.73106 /
// 0.26894 and h_post = 1.46212 / 0.53788.
//
// Cost per token: (2n+k)·nC multiply-adds forward and twice that backward.
// ForwardChunk and BackwardChunk do them as matrix products over a chunk of
// tokens, which runs several times faster than token by token.
//
// # Float32 products
//
// SetFloat32Products(true) runs those three products (y = X·Φᵀ, ∂Φ += dyᵀ·X,
// ∂X += dy·Φ) in float32 (gemm.Mul32), about twice as fast, on float32
// copies of X and Φ, rounded by ForwardChunk and kept in the Worker for the
// chunk's BackwardChunk (a stamp in the records tells it they are still
// there; otherwise it rounds them again), and of dy. Their results are
// widened back into the float64 records, the float64 private ∂Φ (at the
// next chunk or at Flush, straight into Phi.Grad) and the float64 ∂X. The
// RMSNorm, the sigmoids, the tapes and every parameter and gradient stay
// float64 (Φ too, unless stored in float32: see below): only the rounding
// of y and of the products' gradients changes, to float32's (about 1e-7
// relative), and the order in which the RMSNorm's sum of squares is
// accumulated (f32.From64SumSquares computes it in the pass that rounds X). The RMSNorm's term of ∂X is added in the pass that
// widens the product's ∂X (f32.AddTo64Scaled), with the float64 path's
// rounding. Φ is rounded once per forward chunk, not once per Flush: the
// head cannot tell when a caller changes Phi.Value.
//
// # Float32 storage of Φ
//
// SetFloat32Storage (hc.Float32Storage) goes one step further for
// networks trained in float32: Φ's value and gradient then live in float32
// slices the caller owns (net puts them in its float32 parameter arena and
// updates them with its float32 AdamW). The products read that Φ as it is,
// with no rounding pass, and a Worker accumulates its chunks' ∂Φ in
// float32 and adds it into the float32 gradient at Flush; Phi.Value and
// Phi.Grad are left alone until the storage is detached, which widens the
// float32 value back into Phi.Value.
package head

import (
	"fmt"
	"math"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/floats"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/f32"
	"github.com/hyperconn/hyperconn/internal/f64"
	"github.com/hyperconn/hyperconn/internal/gemm"
	"github.com/hyperconn/hyperconn/internal/rms"
)

// Eps is added to the mean square inside the RMSNorm of vec(X).
const Eps = 1e-6

// Head holds the shared parameters. Create it with New.
type Head struct {
	n, c, k int
	// Phi is the (2n+k)×nC projection, stored transposed (see package doc).
	Phi *hc.Param
	// Gates holds α_pre and α_post.
	Gates *hc.Param
	// BPre and BPost are the biases b_pre, b_post (n each).
	BPre, BPost *hc.Param
	// single selects the float32 products (SetFloat32Products).
	single bool
	// v32 and g32, when not nil, hold Φ and its gradient in float32
	// (SetFloat32Storage).
	v32, g32 []float32
}

// New returns a head for n streams of width c and k raw residual logits,
// with the reference init for the sub-layer with index layer.
func New(n, c, k, layer int) (*Head, error) {
	if n < 1 || c < 1 || k < 0 {
		return nil, fmt.Errorf("head: n = %d, C = %d, k = %d: want n ≥ 1, C ≥ 1, k ≥ 0", n, c, k)
	}
	if layer < 0 {
		return nil, fmt.Errorf("head: layer %d: want ≥ 0", layer)
	}
	rows := 2*n + k
	h := &Head{n: n, c: c, k: k,
		Phi:   &hc.Param{Name: "phi", Value: make([]float64, rows*n*c), Grad: make([]float64, rows*n*c)},
		Gates: &hc.Param{Name: "alpha", Value: []float64{DefaultGate, DefaultGate}, Grad: make([]float64, 2), NoDecay: true},
		BPre:  &hc.Param{Name: "b_pre", Value: make([]float64, n), Grad: make([]float64, n), NoDecay: true},
		BPost: &hc.Param{Name: "b_post", Value: make([]float64, n), Grad: make([]float64, n), NoDecay: true},
	}
	for i := 0; i < n; i++ {
		v := -1.0
		if i == layer%n {
			v = 1
		}
		h.BPre.Value[i], h.BPost.Value[i] = v, v
	}
	return h, nil
}

// Params returns phi, alpha, b_pre, b_post.
func (h *Head) Params() []*hc.Param { return []*hc.Param{h.Phi, h.Gates, h.BPre, h.BPost} }

// SetFloat32Products selects float32 (on) or float64 (off, the default)
// matrix products for every Worker of h, with the contract of
// hc.Float32Products: it takes effect from the next ForwardChunk and must
// not be called between a chunk's forward and backward pass, nor while a
// Worker runs. With it off the results are bit-identical to a head that
// never had it on.
// Turning it off detaches a float32 storage of Φ (see SetFloat32Storage).
func (h *Head) SetFloat32Products(on bool) {
	if !on {
		h.detach()
	}
	h.single = on
}

// Float32Params returns Φ, the one parameter SetFloat32Storage accepts.
func (h *Head) Float32Params() []*hc.Param { return []*hc.Param{h.Phi} }

// SetFloat32Storage implements hc.Float32Storage for Φ: from the next
// forward chunk, Φ's value is read from value (len(Phi.Value) float32, Φ
// rounded) and its gradient added into grad, and Phi.Value and Phi.Grad
// are left alone. Float32 products must be on. Nil value and grad detach
// the storage, widening value back into Phi.Value. Every Worker must have
// been flushed, and none may run.
func (h *Head) SetFloat32Storage(p *hc.Param, value, grad []float32) error {
	if p != h.Phi {
		name := "<nil>"
		if p != nil {
			name = p.Name
		}
		return fmt.Errorf("head: parameter %q cannot be held in float32: only %q can", name, h.Phi.Name)
	}
	if value == nil && grad == nil {
		h.detach()
		return nil
	}
	if !h.single {
		return fmt.Errorf("head: float32 storage of %q needs float32 products on", p.Name)
	}
	if len(value) != len(p.Value) || len(grad) != len(p.Value) {
		return fmt.Errorf("head: float32 storage of %q: len(value) = %d, len(grad) = %d, want %d",
			p.Name, len(value), len(grad), len(p.Value))
	}
	h.v32, h.g32 = value, grad
	return nil
}

// detach ends a float32 storage of Φ, widening its value into Phi.Value.
func (h *Head) detach() {
	if h.v32 != nil {
		f32.To64(h.Phi.Value, h.v32)
		h.v32, h.g32 = nil, nil
	}
}

// Float32Products reports whether h runs its products in float32.
func (h *Head) Float32Products() bool { return h.single }

// K returns the number of raw residual logits.
func (h *Head) K() int { return h.k }

// TapeLen is the number of float64 a token's Forward records: 1/rms, y
// (2n+k), h_pre, h_post and a stamp (see ForwardChunk).
func (h *Head) TapeLen() int { return 1 + 2*h.n + h.k + 2*h.n + 1 }

// Worker is one goroutine's scratch and private gradients.
type Worker struct {
	h     *Head
	dy    []float64 // tokens×(2n+k), grown to the largest chunk
	rms   []float64 // per token, the factor of x in ∂x (float32 products)
	phi   []float64 // private ∂L/∂Φ; holds nothing while fresh
	fresh bool      // no chunk since the last Flush: phi (s.dphi with float32 storage) is logically zero
	gates [2]float64
	bPre  []float64
	bPost []float64
	s     *single // float32 scratch, made at the first float32 chunk
	// pend: s.dphi holds a float32 chunk's ∂Φ, not yet added into phi.
	// Flush adds it straight into Phi.Grad.
	pend bool
}

// single is a Worker's scratch for the float32 products. x holds a chunk's
// X (tokens×nC) and, once ∂Φ is done, its ∂X; y holds yᵀ (r×tokens) or dy
// (tokens×r).
type single struct {
	x, y      []float32 // grown to the largest chunk
	phi, dphi []float32 // r×nC: Φ, and one chunk's ∂Φ
	// stamp, when not 0, is that of the last float32 forward chunk, of
	// tokens tokens, whose X and Φ x and phi still hold.
	stamp  float64
	tokens int
}

// stamps numbers the float32 forward chunks of every Worker, from 1: a
// chunk writes its number into each token's record, so that its backward
// pass can tell that the float32 X and Φ it needs are still in the
// Worker's scratch, instead of rounding them again. (The float64 path
// records 0.) A float64 holds the count exactly up to 2⁵³.
var stamps atomic.Uint64

// single32 returns w's float32 scratch for tokens tokens, growing it if
// needed.
func (w *Worker) single32(tokens int) *single {
	h := w.h
	nc, r := h.n*h.c, 2*h.n+h.k
	if w.s == nil {
		w.s = &single{phi: make([]float32, r*nc), dphi: make([]float32, r*nc)}
	}
	s := w.s
	if len(s.x) < tokens*nc {
		s.x = make([]float32, tokens*nc)
	}
	if len(s.y) < tokens*r {
		s.y = make([]float32, tokens*r)
	}
	return s
}

// NewWorker returns a worker for h.
func (h *Head) NewWorker() *Worker {
	return &Worker{h: h, dy: make([]float64, 2*h.n+h.k), phi: make([]float64, len(h.Phi.Value)), fresh: true,
		bPre: make([]float64, h.n), bPost: make([]float64, h.n)}
}

// Forward writes h_pre (n), h_post (n) and the raw residual logits (k) of the
// token x (n×C) and records tape (TapeLen values): 1/rms, y, h_pre, h_post
// and a stamp.
func (w *Worker) Forward(pre, post, raw, tape, x []float64) {
	w.ForwardChunk(pre, post, tape, len(tape), x, 1)
	copy(raw, w.h.Raw(tape))
}

// ForwardChunk is Forward for tokens consecutive tokens, with one matrix
// product for all their projections: pre and post are tokens×n, x is
// tokens×nC, and token t's record starts at tape[t·stride] (stride ≥
// TapeLen, so that a mixer may keep its own record after the head's). The raw
// logits stay in the records: see Raw.
//
// With float32 products, the chunk's float32 X and Φ stay in the Worker's
// scratch for the chunk's BackwardChunk, and every record ends with a stamp
// that identifies them; a float64 chunk stamps 0.
func (w *Worker) ForwardChunk(pre, post, tape []float64, stride int, x []float64, tokens int) {
	h := w.h
	n, nc, r := h.n, h.n*h.c, 2*h.n+h.k
	// y_t = x_t·Φᵀ into each record, then scaled by 1/rms_t.
	var stamp float64
	if h.single {
		s := w.single32(tokens)
		x32, y32 := s.x[:tokens*nc], s.y[:tokens*r]
		// One pass per token rounds x_t and sums its squares (in float64,
		// in f32.SumSquares's order rather than floats.Dot's).
		for t := range tokens {
			ss := f32.From64SumSquares(x32[t*nc:(t+1)*nc], x[t*nc:(t+1)*nc])
			tape[t*stride] = rms.Inv(ss, x[t*nc:(t+1)*nc], nc, Eps)
		}
		phi32 := h.v32
		if phi32 == nil {
			f32.From64(s.phi, h.Phi.Value)
			phi32 = s.phi
		}
		// yᵀ = Φ·Xᵀ: OpenBLAS's Sgemm runs X·Φᵀ 2× slower when 2n+k is
		// not a multiple of 16.
		gemm.Mul32(blas.NoTrans, blas.Trans, r, tokens, nc, 1, phi32, nc, x32, nc, 0, y32, tokens)
		for t := range tokens {
			rec := tape[t*stride : t*stride+1+r]
			inv, y := rec[0], rec[1:]
			for j := range y {
				y[j] = float64(y32[j*tokens+t]) * inv
			}
		}
		stamp = float64(stamps.Add(1))
		s.stamp, s.tokens = stamp, tokens
	} else {
		gemm.Mul(blas.NoTrans, blas.Trans, tokens, r, nc, 1, x, nc, h.Phi.Value, nc, 0, tape[1:], stride)
	}
	ap, aq := h.Gates.Value[0], h.Gates.Value[1]
	for t := range tokens {
		rec := tape[t*stride : t*stride+h.TapeLen()]
		y := rec[1 : 1+r]
		if !h.single {
			xt := x[t*nc : (t+1)*nc]
			inv := rms.Inv(floats.Dot(xt, xt), xt, nc, Eps)
			rec[0] = inv
			floats.Scale(inv, y)
		}
		p, q := pre[t*n:(t+1)*n], post[t*n:(t+1)*n]
		for i := range n {
			p[i] = sigmoid(ap*y[i] + h.BPre.Value[i])
			q[i] = 2 * sigmoid(aq*y[n+i]+h.BPost.Value[i])
		}
		if !f64.AllFinite(y) {
			// x·Φ overflowed (or 1/rms is not normal): the sigmoids would
			// hide an infinity behind 0 or 1. A NaN h_pre makes the Layer
			// report the token (hc.ErrNotFinite).
			p[0] = math.NaN()
		}
		copy(rec[1+r:], p)
		copy(rec[1+r+n:], q)
		rec[1+r+2*n] = stamp
	}
}

// Backward adds ∂L/∂x into dx and accumulates the head's parameter
// gradients privately, given the gradients of h_pre, h_post and the raw
// logits.
func (w *Worker) Backward(dx, x, tape, dpre, dpost, draw []float64) {
	w.BackwardChunk(dx, x, tape, len(tape), dpre, dpost, draw, 1)
}

// BackwardChunk is Backward for tokens consecutive tokens laid out as in
// ForwardChunk; draw is tokens×k.
func (w *Worker) BackwardChunk(dx, x, tape []float64, stride int, dpre, dpost, draw []float64, tokens int) {
	h := w.h
	n, nc, k, r := h.n, h.n*h.c, h.k, 2*h.n+h.k
	if len(w.dy) < tokens*r {
		w.dy = make([]float64, tokens*r)
	}
	if len(w.rms) < tokens {
		w.rms = make([]float64, tokens)
	}
	ap, aq := h.Gates.Value[0], h.Gates.Value[1]
	// dys_t = inv_t·∂L/∂y_t; the rms term of ∂x is added token by token.
	for t := range tokens {
		rec := tape[t*stride : t*stride+h.TapeLen()]
		inv := rec[0]
		y := rec[1 : 1+r]
		pre, post := rec[1+r:1+r+n], rec[1+r+n:1+r+2*n]
		dy := w.dy[t*r : (t+1)*r]
		for i := range n {
			// d sigmoid = s(1−s); d 2·sigmoid = post·(1 − post/2).
			gp := dpre[t*n+i] * pre[i] * (1 - pre[i])
			gq := dpost[t*n+i] * post[i] * (1 - post[i]/2)
			w.gates[0] += gp * y[i]
			w.gates[1] += gq * y[n+i]
			w.bPre[i] += gp
			w.bPost[i] += gq
			dy[i] = ap * gp
			dy[n+i] = aq * gq
		}
		copy(dy[2*n:], draw[t*k:(t+1)*k])
		// y_r = inv·⟨Φ_r, x⟩: ∂x = inv·Σ dy_r Φ_r + ∂inv·x, where
		// ∂inv = −inv³/(nC)·Σ dy_r ⟨Φ_r, x⟩ = −inv²/(nC)·Σ dy_r y_r.
		s := floats.Dot(dy, y)
		if h.single {
			// Added by backward32 with ∂X, in one pass. (inv ≥ 1e−39 there:
			// a larger x does not round to a finite float32.)
			w.rms[t] = -inv * inv * s / float64(nc)
		} else {
			rms.AddScaledSquare(dx[t*nc:(t+1)*nc], inv, s, nc, x[t*nc:(t+1)*nc])
		}
		floats.Scale(inv, dy)
	}
	// ∂Φ += dysᵀ·X and ∂X += dys·Φ, one product each for the chunk. The
	// first chunk after a Flush overwrites the private ∂Φ instead of
	// adding to zeros, so that Flush need not clear it.
	if h.single {
		w.backward32(dx, x, tape, stride, tokens)
		return
	}
	if w.pend {
		w.widen()
	}
	beta := 1.0
	if w.fresh {
		beta, w.fresh = 0, false
	}
	gemm.Mul(blas.Trans, blas.NoTrans, r, nc, tokens, 1, w.dy[:tokens*r], r, x, nc, beta, w.phi, nc)
	gemm.Mul(blas.NoTrans, blas.NoTrans, tokens, nc, r, 1, w.dy, r, h.Phi.Value, nc, 1, dx, nc)
}

// backward32 is the end of BackwardChunk with float32 products: ∂Φ and ∂X
// of the chunk from w.dy, rounded to float32 as are X and Φ, each product
// accumulated in float32 and its result widened into w.phi (at the next
// chunk or Flush) and dx. X and Φ are rounded again unless every record of
// the chunk carries the stamp of the forward chunk whose copies the
// scratch still holds.
func (w *Worker) backward32(dx, x, tape []float64, stride, tokens int) {
	h := w.h
	nc, r := h.n*h.c, 2*h.n+h.k
	s := w.single32(tokens)
	x32, dy32 := s.x[:tokens*nc], s.y[:tokens*r]
	f32.From64(dy32, w.dy[:tokens*r])
	kept := s.stamp != 0 && s.tokens == tokens
	for t := 0; kept && t < tokens; t++ {
		kept = tape[t*stride+r+2*h.n+1] == s.stamp
	}
	phi32 := h.v32
	if !kept {
		f32.From64(x32, x[:tokens*nc])
		if phi32 == nil {
			f32.From64(s.phi, h.Phi.Value)
		}
	}
	if phi32 == nil {
		phi32 = s.phi
		if w.pend {
			w.widen()
		}
		gemm.Mul32(blas.Trans, blas.NoTrans, r, nc, tokens, 1, dy32, r, x32, nc, 0, s.dphi, nc)
		w.pend = true
	} else {
		// Float32 storage: s.dphi is the private ∂Φ, accumulated in
		// float32 and overwritten by the first chunk after a Flush.
		var beta float32 = 1
		if w.fresh {
			beta, w.fresh = 0, false
		}
		gemm.Mul32(blas.Trans, blas.NoTrans, r, nc, tokens, 1, dy32, r, x32, nc, beta, s.dphi, nc)
	}
	// ∂X overwrites X's scratch, whose stamp no record will match again.
	s.stamp = 0
	gemm.Mul32(blas.NoTrans, blas.NoTrans, tokens, nc, r, 1, dy32, r, phi32, nc, 0, x32, nc)
	// dx_t += c_t·x_t (the rms term), then += ∂X_t widened: the order of
	// the float64 path, in one pass.
	for t := range tokens {
		f32.AddTo64Scaled(dx[t*nc:(t+1)*nc], w.rms[t], x[t*nc:(t+1)*nc], x32[t*nc:(t+1)*nc])
	}
}

// widen adds the pending float32 ∂Φ into the private float64 one.
func (w *Worker) widen() {
	if w.fresh {
		f32.To64(w.phi, w.s.dphi)
		w.fresh = false
	} else {
		f32.AddTo64(w.phi, w.s.dphi)
	}
	w.pend = false
}

// Flush adds the private gradients into the Params' Grad (Φ's into the
// float32 gradient of a float32 storage) and zeroes them.
func (w *Worker) Flush() {
	h := w.h
	if w.pend {
		f32.AddTo64(h.Phi.Grad, w.s.dphi)
		w.pend = false
	}
	switch {
	case w.fresh:
	case h.g32 != nil: // float32 storage: the private ∂Φ is s.dphi
		f32.Add(h.g32, w.s.dphi)
		w.fresh = true
	default:
		floats.Add(h.Phi.Grad, w.phi)
		w.fresh = true
	}
	h.Gates.Grad[0] += w.gates[0]
	h.Gates.Grad[1] += w.gates[1]
	w.gates = [2]float64{}
	floats.Add(h.BPre.Grad, w.bPre)
	floats.Add(h.BPost.Grad, w.bPost)
	clear(w.bPre)
	clear(w.bPost)
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Raw returns the raw residual logits recorded in a token's tape.
func (h *Head) Raw(tape []float64) []float64 { return tape[1+2*h.n : 1+2*h.n+h.k] }

// DefaultGate is the init of every gate α (mHC paper, Tab. 5).
const DefaultGate = 0.01

// ResidualGate returns the gate α_res (init DefaultGate) and the bias b_res
// (k zeros, for the caller's init) that mhc and mhclite put on the raw
// residual logits: H̃ = α_res·raw + b_res. Both are NoDecay.
func ResidualGate(k int) (alpha, bias *hc.Param) {
	return &hc.Param{Name: "alpha_res", Value: []float64{DefaultGate}, Grad: make([]float64, 1), NoDecay: true},
		&hc.Param{Name: "b_res", Value: make([]float64, k), Grad: make([]float64, k), NoDecay: true}
}

// NumParams returns the number of parameter values of a head for n streams
// of width c and k raw residual logits, (2n+k)·nC + 2 + 2n, in float64 so
// that a caller can bound huge sizes before converting.
func NumParams(n, c, k float64) float64 { return (2*n+k)*n*c + 2 + 2*n }
