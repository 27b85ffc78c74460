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
package head

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/floats"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/gemm"
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

// K returns the number of raw residual logits.
func (h *Head) K() int { return h.k }

// TapeLen is the number of float64 a token's Forward records.
func (h *Head) TapeLen() int { return 1 + 2*h.n + h.k + 2*h.n }

// Worker is one goroutine's scratch and private gradients.
type Worker struct {
	h     *Head
	dy    []float64 // tokens×(2n+k), grown to the largest chunk
	phi   []float64 // private ∂L/∂Φ; holds nothing while fresh
	fresh bool      // no chunk since the last Flush: phi is logically zero
	gates [2]float64
	bPre  []float64
	bPost []float64
}

// NewWorker returns a worker for h.
func (h *Head) NewWorker() *Worker {
	return &Worker{h: h, dy: make([]float64, 2*h.n+h.k), phi: make([]float64, len(h.Phi.Value)), fresh: true,
		bPre: make([]float64, h.n), bPost: make([]float64, h.n)}
}

// Forward writes h_pre (n), h_post (n) and the raw residual logits (k) of the
// token x (n×C) and records tape (TapeLen values): 1/rms, y, h_pre, h_post.
func (w *Worker) Forward(pre, post, raw, tape, x []float64) {
	w.ForwardChunk(pre, post, tape, len(tape), x, 1)
	copy(raw, w.h.Raw(tape))
}

// ForwardChunk is Forward for tokens consecutive tokens, with one matrix
// product for all their projections: pre and post are tokens×n, x is
// tokens×nC, and token t's record starts at tape[t·stride] (stride ≥
// TapeLen, so that a mixer may keep its own record after the head's). The raw
// logits stay in the records: see Raw.
func (w *Worker) ForwardChunk(pre, post, tape []float64, stride int, x []float64, tokens int) {
	h := w.h
	n, nc, r := h.n, h.n*h.c, 2*h.n+h.k
	// y_t = x_t·Φᵀ into each record, then scaled by 1/rms_t.
	gemm.Mul(blas.NoTrans, blas.Trans, tokens, r, nc, 1, x, nc, h.Phi.Value, nc, 0, tape[1:], stride)
	ap, aq := h.Gates.Value[0], h.Gates.Value[1]
	for t := range tokens {
		xt := x[t*nc : (t+1)*nc]
		rec := tape[t*stride : t*stride+h.TapeLen()]
		inv := 1 / math.Sqrt(floats.Dot(xt, xt)/float64(nc)+Eps)
		rec[0] = inv
		y := rec[1 : 1+r]
		floats.Scale(inv, y)
		p, q := pre[t*n:(t+1)*n], post[t*n:(t+1)*n]
		for i := range n {
			p[i] = sigmoid(ap*y[i] + h.BPre.Value[i])
			q[i] = 2 * sigmoid(aq*y[n+i]+h.BPost.Value[i])
		}
		copy(rec[1+r:], p)
		copy(rec[1+r+n:], q)
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
		floats.AddScaled(dx[t*nc:(t+1)*nc], -inv*inv*s/float64(nc), x[t*nc:(t+1)*nc])
		floats.Scale(inv, dy)
	}
	// ∂Φ += dysᵀ·X and ∂X += dys·Φ, one product each for the chunk. The
	// first chunk after a Flush overwrites the private ∂Φ instead of
	// adding to zeros, so that Flush need not clear it.
	beta := 1.0
	if w.fresh {
		beta, w.fresh = 0, false
	}
	gemm.Mul(blas.Trans, blas.NoTrans, r, nc, tokens, 1, w.dy[:tokens*r], r, x, nc, beta, w.phi, nc)
	gemm.Mul(blas.NoTrans, blas.NoTrans, tokens, nc, r, 1, w.dy, r, h.Phi.Value, nc, 1, dx, nc)
}

// Flush adds the private gradients into the Params' Grad and zeroes them.
func (w *Worker) Flush() {
	h := w.h
	if !w.fresh {
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
