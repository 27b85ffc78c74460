package shell

import (
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/head"
)

// Residual is what a mixer adds to the shell's Worker: its map from the raw
// residual logits of a chunk of tokens to their H_res, and back.
type Residual interface {
	// Residual writes the chunk's H_res (c.Tokens×n², row-major per token)
	// into res from the raw logits c.Raw(t), recording in c.Rec(t) what
	// ResidualBackward needs. An error names the token (the chunk's t).
	Residual(res []float64, c Chunk) error
	// ResidualBackward returns ∂L/∂raw of the chunk (c.Tokens×K, a slice
	// the Residual owns) given dres = ∂L/∂H_res (c.Tokens×n²), and
	// accumulates the map's parameter gradients privately.
	ResidualBackward(dres []float64, c Chunk) []float64
	// FlushResidual adds the map's private gradients into its Params' Grad
	// and zeroes them.
	FlushResidual()
}

// Chunk is a view of the tape of consecutive tokens: token t's record is
// the head's, then the map's.
type Chunk struct {
	// Tokens is the number of tokens.
	Tokens int
	tape   []float64
	stride int // the whole record of a token (Shell.TapeLen)
	ht     int // the head's record
	head   *head.Head
}

// Raw returns token t's raw residual logits (K values, in the head's
// record).
func (c Chunk) Raw(t int) []float64 { return c.head.Raw(c.tape[t*c.stride : (t+1)*c.stride]) }

// Rec returns token t's own record of the map (Config.RecLen values).
func (c Chunk) Rec(t int) []float64 { return c.tape[t*c.stride+c.ht : (t+1)*c.stride] }

// Worker is one goroutine's head worker and the chunk loop around a
// mixer's Residual. It implements hc.ChunkWorker.
type Worker struct {
	s    *Shell
	head *head.Worker
	r    Residual // nil: H_res = Unit·I
}

var _ hc.ChunkWorker = (*Worker)(nil)

// Worker returns a Worker that maps the residual logits with r. At n = 1 r
// is never called: H_res = [Unit]. A nil r gives H_res = Unit·I at every n.
func (s *Shell) Worker(r Residual) *Worker {
	if s.n == 1 {
		r = nil
	}
	return &Worker{s: s, head: s.head.NewWorker(), r: r}
}

func (w *Worker) chunk(tape []float64, tokens int) Chunk {
	return Chunk{Tokens: tokens, tape: tape, stride: w.s.TapeLen(), ht: w.s.head.TapeLen(), head: w.s.head}
}

// Forward computes one token's h_pre, h_post and H_res (see hc.Worker).
func (w *Worker) Forward(pre, post, res, tape, x []float64) error {
	return w.ForwardChunk(pre, post, res, tape, x, 1)
}

// ForwardChunk is Forward for consecutive tokens (see hc.ChunkWorker): the
// head's projections of the whole chunk are one matrix product, then the
// Residual maps the chunk's logits to H_res.
func (w *Worker) ForwardChunk(pre, post, res, tape, x []float64, tokens int) error {
	s := w.s
	n := s.n
	w.head.ForwardChunk(pre, post, tape, s.TapeLen(), x, tokens)
	if s.preEps != 0 {
		for i := range pre[:tokens*n] {
			pre[i] += s.preEps
		}
	}
	if w.r == nil {
		clear(res[:tokens*n*n])
		for t := range tokens {
			for i := range n {
				res[(t*n+i)*n+i] = s.unit
			}
		}
		return nil
	}
	return w.r.Residual(res[:tokens*n*n], w.chunk(tape, tokens))
}

// Backward differentiates Forward (see hc.Worker).
func (w *Worker) Backward(dx, x, tape, dpre, dpost, dres []float64) {
	w.BackwardChunk(dx, x, tape, dpre, dpost, dres, 1)
}

// BackwardChunk is Backward for consecutive tokens (see hc.ChunkWorker):
// the Residual's backward, then the head's for the whole chunk as matrix
// products.
func (w *Worker) BackwardChunk(dx, x, tape, dpre, dpost, dres []float64, tokens int) {
	s := w.s
	var draw []float64
	if w.r != nil {
		draw = w.r.ResidualBackward(dres[:tokens*s.n*s.n], w.chunk(tape, tokens))
	}
	w.head.BackwardChunk(dx, x, tape, s.TapeLen(), dpre, dpost, draw, tokens)
}

// Flush adds the head's private gradients, then the Residual's, into the
// Params.
func (w *Worker) Flush() {
	w.head.Flush()
	if w.r != nil {
		w.r.FlushResidual()
	}
}
