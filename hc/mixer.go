package hc

import (
	"errors"
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/internal/f64"
)

// ErrShape is the panic value, wrapped, when slice lengths do not match the
// shapes they describe, or a size is out of range. Like gonum's mat.ErrShape
// it signals a programming error, not bad data.
var ErrShape = errors.New("hc: dimension mismatch")

// ErrSequence is the panic value, wrapped, when a Layer's calls come out of
// order: Post before Pre, PostBackward before Post, PreBackward before
// PostBackward.
var ErrSequence = errors.New("hc: call out of order")

// ErrNotFinite is wrapped by every error that reports a NaN or an infinity,
// in the data or in the coefficients a Mixer computed from it.
var ErrNotFinite = errors.New("hc: value not finite")

// ErrConcurrent is the panic value, wrapped, when a Layer is used by two
// goroutines at once, or when two Layers add gradients into one Mixer's
// Params at once (see Layer). Like ErrShape it signals a programming
// error: the results of such calls would be silently wrong.
var ErrConcurrent = errors.New("hc: concurrent use")

// Param is one learnable tensor of a mixer, stored flat in row-major order.
// Value and Grad have the same length. Backward passes add into Grad; the
// caller zeroes it between optimiser steps (see ZeroGrad).
type Param struct {
	// Name is the paper's symbol, unique within one mixer, e.g. "A_r".
	Name string
	// Value holds the parameter; Grad accumulates ∂L/∂Value.
	Value, Grad []float64
	// NoDecay marks tensors that must not receive weight decay (static
	// coefficients and scales; HC §4).
	NoDecay bool
	// flushing is 1 while a Layer adds its Workers' gradients into the
	// mixer whose first parameter this is (Layer.PreBackward).
	flushing int32
}

// Mixer is a parameterisation of a hyper-connection: it turns one token's
// n streams into that token's coefficients h_pre, h_post and H_res, and
// back-propagates through that map. Everything else (batching, mixing,
// goroutines, storage) belongs to Layer.
//
// A Mixer must be safe for concurrent use by Workers as long as nobody
// changes the Params' Value meanwhile. A Worker's Flush writes the shared
// Grad: Flushes of one mixer's Workers must not overlap. Layer runs them
// one after the other, and panics with ErrConcurrent if two Layers sharing
// a mixer flush into it at once (see Layer).
type Mixer interface {
	// Shape returns the number of streams n and the width C of each.
	Shape() (n, c int)
	// Params returns the learnable tensors, in a fixed order. The slice and
	// the Params are owned by the mixer; an optimiser updates Value in place.
	Params() []*Param
	// TapeLen is how many float64 one token's Forward records for its
	// Backward.
	TapeLen() int
	// NewWorker returns a Worker: scratch for one goroutine and a private
	// gradient accumulator.
	NewWorker() Worker
}

// Worker computes one token's coefficients and their backward pass. A Worker
// is used by one goroutine at a time; its gradients stay private until Flush.
type Worker interface {
	// Forward writes the coefficients of the token x (n×C, row i = stream i)
	// into pre (n), post (n) and res (n×n, row i builds output stream i),
	// and records into tape (TapeLen values) what Backward will need.
	// It returns an error only for data it cannot map (it need not check
	// finiteness: Layer checks every coefficient).
	Forward(pre, post, res, tape, x []float64) error
	// Backward is given the same x and tape as Forward and the gradients
	// dpre, dpost, dres of the loss with respect to the coefficients. It
	// adds ∂L/∂x through the coefficient map into dx (n×C) and accumulates
	// the parameters' gradients privately.
	Backward(dx, x, tape, dpre, dpost, dres []float64)
	// Flush adds the private parameter gradients into the Params' Grad and
	// zeroes them.
	Flush()
}

// ChunkWorker is a Worker that can also process a contiguous range of
// tokens in one call, for example with one matrix product over the range
// where per-token calls would take many vector products. Layer calls
// ForwardChunk and BackwardChunk instead of Forward and Backward for the
// Workers that implement it. The slices are those of the per-token calls for
// tokens consecutive tokens, laid end to end: pre and post are tokens×n, res
// tokens×n×n, x and dx tokens×n×C, and token t's tape is
// tape[t·TapeLen : (t+1)·TapeLen]. The results must be those of the
// per-token calls, up to rounding.
type ChunkWorker interface {
	Worker
	ForwardChunk(pre, post, res, tape, x []float64, tokens int) error
	BackwardChunk(dx, x, tape, dpre, dpost, dres []float64, tokens int)
}

// Float32Products is implemented by mixers that can run their own matrix
// products in float32, for networks trained in float32 (net.Config.Float32
// turns it on): the coefficient head of the mHC family and sHC. With it on, a
// product's inputs are rounded to float32 and it accumulates in float32; its
// result is widened back to float64 and everything else — parameters and their
// gradients (the float64 masters, unless the mixer keeps some in float32:
// Float32Storage), the normalisations, the projections onto the doubly
// stochastic matrices or the spectral sphere, the tapes — stays float64, so
// the mixer's exactness guarantees (row and column sums, spectral norm) are
// unchanged. Only the coefficients' rounding changes, to float32's level
// (about 1e-7 relative). It is off by default, and the gradient checks of the
// conformance suite run with it off.
// SetFloat32Products takes effect from the next forward pass; it must not
// be called while a Layer of the mixer is between Pre and PreBackward.
type Float32Products interface {
	Mixer
	SetFloat32Products(on bool)
}

// Float32Storage is implemented by mixers that can also keep the
// parameters their float32 products read (the coefficient head's Φ of the
// mHC family and sHC) in float32 storage owned by the caller, for networks
// trained in float32: net.Config.Float32 moves them into its float32
// parameter arena, where its float32 AdamW updates them with the network's
// own weights. The projections and every other parameter stay float64.
type Float32Storage interface {
	Float32Products
	// Float32Params returns the parameters, among Params, that
	// SetFloat32Storage accepts.
	Float32Params() []*Param
	// SetFloat32Storage makes the mixer read p's value from value and add
	// p's gradient into grad (both of len(p.Value), value holding p's
	// value rounded to float32) instead of using p.Value and p.Grad, which
	// are no longer read or written. Float32 products must be on; turning
	// them off, or a call with nil value and grad, detaches the storage and
	// widens value back into p.Value. It returns an error, and changes
	// nothing, for a p not in Float32Params, lengths that do not match, or
	// float32 products off. It must not be called while a Layer of the
	// mixer is between Pre and PreBackward, nor while a Worker runs, and a
	// Worker must be flushed before.
	SetFloat32Storage(p *Param, value, grad []float32) error
}

// Lookup returns the parameter of m called name, or nil.
func Lookup(m Mixer, name string) *Param {
	for _, p := range m.Params() {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// ZeroGrad sets every gradient of m's parameters to zero.
func ZeroGrad(m Mixer) {
	for _, p := range m.Params() {
		clear(p.Grad)
	}
}

// checkFinite returns an error naming the first non-finite element of s.
func checkFinite(what string, s []float64) error {
	if f64.AllFinite(s) {
		return nil
	}
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("hc: %s[%d] = %v: %w", what, i, v, ErrNotFinite)
		}
	}
	return nil
}

func shapePanic(format string, args ...any) {
	panic(fmt.Errorf("%w: "+format, append([]any{ErrShape}, args...)...))
}
