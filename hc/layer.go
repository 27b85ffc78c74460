package hc

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/hyperconn/hyperconn/internal/f64"
	"github.com/hyperconn/hyperconn/internal/gemm"
)

// chunkParts runs a Layer's chunks as gemm.Parts: on the calling goroutine
// and gemm's helpers (gemm.SetThreads caps them), one chunk start to
// finish on one goroutine.
type chunkParts struct{ l *Layer }

// Part runs chunk k.
func (c *chunkParts) Part(k int) { c.l.runChunk(k) }

// DefaultChunks is the number of token ranges a Layer cuts a batch into
// unless SetChunks says otherwise.
const DefaultChunks = 8

// MinChunkTokens is the fewest tokens a Layer puts in one range, unless the
// batch is smaller: a mixer that computes its coefficients with matrix
// products (the mHC family, sHC) runs them on a whole range at once, and
// products of a few rows waste most of their time.
const MinChunkTokens = 32

// stages of a Layer: which call may come next.
const (
	stageEmpty    = iota // no valid batch
	stagePre             // Pre succeeded: Post may follow
	stagePost            // Post succeeded: PostBackward may follow
	stagePostBack        // PostBackward done: PreBackward may follow
)

// operations a chunk can run.
const (
	opCoef = iota
	opRead
	opWrite
	opWriteBack
	opReadBack
)

// Layer is one hyper-connected sub-layer: it wraps a branch F with the
// residual streams of a batch, using the coefficients a Mixer computes per
// token,
//
//	X' = H_res·X + h_postᵀ·F(h_pre·X).
//
// A training step is Pre, the branch, Post, then PostBackward, the branch's
// backward, PreBackward. Layer copies what the backward passes need (the
// streams, the branch output, the coefficients and the mixer's tapes), so the
// caller may reuse its buffers at once. Its buffers grow to the largest batch
// seen and are reused: steady-state calls do not allocate.
//
// # Concurrency
//
// A Layer is not safe for concurrent use; it splits each call across
// goroutines itself. Pre, Post, PostBackward, PreBackward, Apply and
// SetChunks panic with ErrConcurrent if another of them is running on the
// same Layer (an atomic flag: the check is cheap, but it only sees calls
// that overlap in time; the race detector sees the rest).
//
// Several Layers may share one Mixer (tied weights): their forward passes
// may run at once, since Workers only read the Params, but each
// PreBackward adds the Layer's parameter gradients into the mixer's shared
// Grad, so those calls must not overlap; one that starts while another
// Layer is adding into the same mixer panics with ErrConcurrent. Nothing
// may change the Params' Value while any of these calls runs.
type Layer struct {
	m       Mixer
	n, c    int
	tapeLen int
	plain   bool // m is Residual: every coefficient is 1 (see runPlain)

	maxChunks int
	minTokens int // fewest tokens per range (MinChunkTokens, or 1 after SetChunks)
	workers   []Worker
	errs      []error
	gradNorm  float64 // ‖dout‖_F of the last PostBackward
	parts     chunkParts
	op        int
	chunks    int // chunks of the current call
	stage     int

	busy atomic.Bool // a call is running (see Concurrency)

	tokens                int
	x, f                  []float64 // copies of the streams and the branch output
	pre, post, res        []float64
	dpre, dpost, dres     []float64
	outSS                 []float64 // per token, Σ dout² of the last PostBackward
	xin                   *float64  // first element of the x given to Pre (nil if empty)
	tape                  []float64
	dst, dx, df, dout, in []float64 // arguments of the running call
	applyIn, applyOut     []float64
}

// NewLayer returns a Layer that mixes with m, cutting batches into at most
// DefaultChunks token ranges of at least MinChunkTokens tokens (a batch of
// 64 into two). It panics with ErrShape if m's shape is not
// positive.
func NewLayer(m Mixer) *Layer {
	n, c := m.Shape()
	if n < 1 || c < 1 {
		shapePanic("mixer shape n=%d C=%d", n, c)
	}
	l := &Layer{m: m, n: n, c: c, tapeLen: m.TapeLen()}
	_, l.plain = m.(residual)
	l.SetChunks(DefaultChunks)
	l.minTokens = MinChunkTokens
	return l
}

// SetChunks sets how many contiguous token ranges a batch is cut into: k,
// or the number of tokens if fewer. (A new Layer cuts a batch into at most
// DefaultChunks ranges of at least MinChunkTokens tokens; SetChunks drops
// that floor.) Each range has its own Worker,
// created when first needed, so memory for private gradients grows with k,
// and parallelism is capped at k. Parameter gradients are summed range by
// range in a fixed order, so for a given k every result is bit-for-bit the
// same whatever GOMAXPROCS is; changing k changes that summation order, and
// so the rounding of the parameter gradients (nothing else). SetChunks
// panics with ErrShape if k < 1.
func (l *Layer) SetChunks(k int) {
	l.enter("SetChunks")
	defer l.busy.Store(false)
	if k < 1 {
		shapePanic("chunks %d < 1", k)
	}
	l.errs = make([]error, k)
	l.maxChunks, l.minTokens = k, 1
}

// Mixer returns the mixer of l.
func (l *Layer) Mixer() Mixer { return l.m }

// Tokens returns the number of tokens of the current batch: those of the
// last Pre if it succeeded, 0 if it failed.
func (l *Layer) Tokens() int { return l.tokens }

// Coefficients returns views of the last batch's coefficients: pre and post
// are tokens×n, res is tokens×n×n (token t's H_res row-major at
// res[t*n*n:]). They are valid until the next Pre and must not be modified.
// After a failed Pre they are empty.
func (l *Layer) Coefficients() (pre, post, res []float64) {
	t := l.tokens
	return l.pre[:t*l.n], l.post[:t*l.n], l.res[:t*l.n*l.n]
}

// MeanResTo writes into dst the token average of the last batch's H_res
// (n×n, row-major) and returns dst. A nil dst is allocated. With no batch
// it writes zeros.
func (l *Layer) MeanResTo(dst []float64) []float64 {
	nn := l.n * l.n
	if dst == nil {
		dst = make([]float64, nn)
	}
	if len(dst) != nn {
		shapePanic("len(dst) = %d, want %d", len(dst), nn)
	}
	clear(dst)
	if l.tokens == 0 {
		return dst
	}
	for t := range l.tokens {
		for i, v := range l.res[t*nn : (t+1)*nn] {
			dst[i] += v
		}
	}
	inv := 1 / float64(l.tokens)
	for i := range dst {
		dst[i] *= inv
	}
	return dst
}

// Pre computes the coefficients of every token of x (tokens×n×C) and writes
// the branch input h_pre·X of each token into dst (tokens×C). It keeps a copy
// of x, the coefficients and the mixer's tapes for the calls that follow.
// dst may alias x.
//
// A NaN or an infinity in x, or in a coefficient computed from it, is
// reported as an error wrapping ErrNotFinite; dst is then untouched and the
// layer holds no batch. Pre panics with ErrShape if the lengths do not match.
func (l *Layer) Pre(dst, x []float64, tokens int) error {
	l.enter("Pre")
	defer l.busy.Store(false)
	return l.preRun(dst, x, tokens)
}

// preRun is Pre on a Layer already entered.
func (l *Layer) preRun(dst, x []float64, tokens int) error {
	n, c := l.n, l.c
	if tokens < 0 || len(x) != tokens*n*c || len(dst) != tokens*c {
		shapePanic("Pre: tokens=%d n=%d C=%d: len(x)=%d len(dst)=%d", tokens, n, c, len(x), len(dst))
	}
	l.stage = stageEmpty
	l.grow(tokens)
	l.xin = nil
	if len(x) > 0 {
		l.xin = &x[0]
	}
	if !f64.CopyFinite(l.x, x) { // copy and check in one pass
		l.tokens, l.chunks = 0, 0
		return checkFinite("x", x)
	}
	l.run(opCoef)
	for k := range l.chunks {
		if err := l.errs[k]; err != nil {
			l.tokens, l.chunks = 0, 0
			return err
		}
	}
	l.dst = dst
	l.run(opRead)
	l.dst = nil
	l.stage = stagePre
	return nil
}

// Post writes into dst (tokens×n×C) the new streams H_res·X + h_postᵀ·f of
// every token, where X is the batch given to Pre and f (tokens×C) is the
// branch output. It keeps a copy of f for PostBackward. dst may alias f, or
// the x given to Pre (an in-place update of the residual stream).
//
// A NaN or an infinity in f is reported as an error wrapping ErrNotFinite,
// with dst untouched. So is an output that overflows (finite X and f whose
// mix exceeds the float64 range; found by a scan of each range right after
// it is written, while in cache): dst is then restored if it is the x given
// to Pre (the in-place update of the streams), and otherwise holds the
// output, ±Inf where it overflowed. Either way the Layer keeps its batch
// and Post may be called again. Post panics with ErrSequence if no Pre succeeded, and
// with ErrShape if the lengths do not match.
func (l *Layer) Post(dst, f []float64) error {
	l.enter("Post")
	defer l.busy.Store(false)
	return l.postRun(dst, f)
}

// postRun is Post on a Layer already entered.
func (l *Layer) postRun(dst, f []float64) error {
	if l.stage < stagePre {
		panic(fmt.Errorf("%w: Post before a successful Pre", ErrSequence))
	}
	t, n, c := l.tokens, l.n, l.c
	if len(f) != t*c || len(dst) != t*n*c {
		shapePanic("Post: tokens=%d n=%d C=%d: len(f)=%d len(dst)=%d", t, n, c, len(f), len(dst))
	}
	if err := checkFinite("f", f); err != nil {
		return err
	}
	copy(l.f, f)
	l.dst = dst
	l.run(opWrite)
	l.dst = nil
	for k := range l.chunks {
		if err := l.errs[k]; err != nil {
			if len(dst) > 0 && &dst[0] == l.xin {
				copy(dst, l.x) // the in-place update: restore the streams
			}
			return err
		}
	}
	l.stage = stagePost
	return nil
}

// PostBackward is the backward pass of Post. Given dout = ∂L/∂X' (tokens×n×C)
// it writes dx = H_resᵀ·dout (tokens×n×C, overwritten) and df = h_post·dout
// (tokens×C, overwritten), and keeps ∂L/∂H_res and ∂L/∂h_post of every token
// for PreBackward. dx and df must not alias dout or each other. dout is
// not checked: a NaN or an infinity in it flows into dx, df and the
// gradients.
// It panics with ErrSequence if Post has not run, and with ErrShape if the
// lengths do not match.
func (l *Layer) PostBackward(dx, df, dout []float64) {
	l.enter("PostBackward")
	defer l.busy.Store(false)
	if l.stage < stagePost {
		panic(fmt.Errorf("%w: PostBackward before Post", ErrSequence))
	}
	t, n, c := l.tokens, l.n, l.c
	if len(dx) != t*n*c || len(df) != t*c || len(dout) != t*n*c {
		shapePanic("PostBackward: tokens=%d n=%d C=%d: len(dx)=%d len(df)=%d len(dout)=%d",
			t, n, c, len(dx), len(df), len(dout))
	}
	l.dx, l.df, l.dout = dx, df, dout
	l.run(opWriteBack)
	l.dx, l.df, l.dout = nil, nil, nil
	var ss float64
	for _, v := range l.outSS[:t] { // in token order: the same for any split
		ss += v
	}
	l.gradNorm = math.Sqrt(ss)
	l.stage = stagePostBack
}

// GradNorm returns ‖dout‖_F, the Frobenius norm of the gradient of the
// output streams given to the last PostBackward (0 before the first).
// PostBackward sums each token's squares right after reading its dout,
// while it is in cache, and adds the tokens in order, so the value does not
// depend on GOMAXPROCS or the number of ranges.
func (l *Layer) GradNorm() float64 { return l.gradNorm }

// PreBackward is the backward pass of Pre. Given din = ∂L/∂(h_pre·X)
// (tokens×C, the branch's input gradient) it adds h_preᵀ·din and the
// gradient through the coefficient map into dx (tokens×n×C), and adds the
// parameters' gradients into their Grad. Gradients are reduced in a fixed
// order, so the result does not depend on GOMAXPROCS. dx must not alias din.
// din is not checked: a NaN or an infinity in it flows into dx and the
// parameters' Grad.
// PreBackward panics with ErrSequence unless PostBackward ran since the last
// Post or PreBackward, and with ErrShape if the lengths do not match.
func (l *Layer) PreBackward(dx, din []float64) {
	l.enter("PreBackward")
	defer l.busy.Store(false)
	if l.stage != stagePostBack {
		panic(fmt.Errorf("%w: PreBackward without a PostBackward after Post", ErrSequence))
	}
	t, n, c := l.tokens, l.n, l.c
	if len(dx) != t*n*c || len(din) != t*c {
		shapePanic("PreBackward: tokens=%d n=%d C=%d: len(dx)=%d len(din)=%d", t, n, c, len(dx), len(din))
	}
	l.dx, l.in = dx, din
	l.run(opReadBack)
	l.dx, l.in = nil, nil
	l.flush()
	l.stage = stagePost
}

// Apply runs the forward pass of the whole sub-layer: Pre, then branch(out,
// in) on the tokens×C branch input, then Post into dst (tokens×n×C). The
// buffers handed to branch belong to the Layer and are reused by the next
// Apply. An error from branch is wrapped and returned, with dst untouched.
func (l *Layer) Apply(dst, x []float64, tokens int, branch func(out, in []float64) error) error {
	l.enter("Apply")
	defer l.busy.Store(false)
	c := l.c
	if tokens < 0 {
		shapePanic("Apply: tokens=%d", tokens)
	}
	l.applyIn = grow(l.applyIn, tokens*c)
	l.applyOut = grow(l.applyOut, tokens*c)
	if err := l.preRun(l.applyIn, x, tokens); err != nil {
		return err
	}
	if err := branch(l.applyOut, l.applyIn); err != nil {
		return fmt.Errorf("hc: branch: %w", err)
	}
	return l.postRun(dst, l.applyOut)
}

// enter marks l busy for the call named what, or panics with
// ErrConcurrent if another call is running on l.
func (l *Layer) enter(what string) {
	if !l.busy.CompareAndSwap(false, true) {
		panic(fmt.Errorf("%w: Layer.%s called while another call runs on the same Layer", ErrConcurrent, what))
	}
}

// flush adds the Workers' private gradients into the mixer's Params, one
// Worker after the other, holding the mixer's flag (its first Param's):
// another Layer flushing into the same mixer at once panics.
func (l *Layer) flush() {
	var flag *int32
	if ps := l.m.Params(); len(ps) > 0 {
		flag = &ps[0].flushing
		if !atomic.CompareAndSwapInt32(flag, 0, 1) {
			panic(fmt.Errorf("%w: two Layers add gradients into one mixer (%T) at once", ErrConcurrent, l.m))
		}
		defer atomic.StoreInt32(flag, 0)
	}
	for k := range l.chunks {
		l.workers[k].Flush()
	}
}

// grow resizes the per-batch buffers for tokens tokens.
func (l *Layer) grow(tokens int) {
	n, c := l.n, l.c
	l.tokens = tokens
	l.x = grow(l.x, tokens*n*c)
	l.f = grow(l.f, tokens*c)
	l.pre = grow(l.pre, tokens*n)
	l.post = grow(l.post, tokens*n)
	l.res = grow(l.res, tokens*n*n)
	l.dpre = grow(l.dpre, tokens*n)
	l.dpost = grow(l.dpost, tokens*n)
	l.dres = grow(l.dres, tokens*n*n)
	l.outSS = grow(l.outSS, tokens)
	l.tape = grow(l.tape, tokens*l.tapeLen)
	l.chunks = min(l.maxChunks, (tokens+l.minTokens-1)/l.minTokens)
	for len(l.workers) < l.chunks {
		l.workers = append(l.workers, l.m.NewWorker())
	}
}

// grow returns s resized to length n, reusing its storage when it can.
func grow(s []float64, n int) []float64 {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]float64, n)
}

// run runs op over every chunk of the current batch.
func (l *Layer) run(op int) {
	l.op = op
	l.parts.l = l
	gemm.Parts(l.chunks, &l.parts)
}

// runChunk implements chunkRunner.
func (l *Layer) runChunk(k int) {
	lo, hi := k*l.tokens/l.chunks, (k+1)*l.tokens/l.chunks
	if l.plain && l.op != opWrite {
		l.runPlain(k, lo, hi)
		return
	}
	switch l.op {
	case opCoef:
		l.errs[k] = l.coefChunk(k, lo, hi)
	case opRead:
		for t := lo; t < hi; t++ {
			l.readToken(t)
		}

	case opWrite:
		if l.plain {
			l.runPlain(k, lo, hi)
		} else {
			for t := lo; t < hi; t++ {
				l.writeToken(t)
			}
		}
		// An output may overflow although X and f are finite: one scan of
		// the range, still in cache; only a failure looks token by token.
		nc := l.n * l.c
		l.errs[k] = nil
		if !f64.AllFinite(l.dst[lo*nc : hi*nc]) {
			for t := lo; t < hi; t++ {
				if err := checkFinite("output", l.dst[t*nc:(t+1)*nc]); err != nil {
					l.errs[k] = fmt.Errorf("hc: token %d: H_res·X + h_postᵀ·f overflows: %w", t, err)
					break
				}
			}
		}
	case opWriteBack:
		nc := l.n * l.c
		for t := lo; t < hi; t++ {
			l.writeBackToken(t)
			l.outSS[t] = f64.SumSquares(l.dout[t*nc : (t+1)*nc]) // still in cache
		}
	case opReadBack:
		w := l.workers[k]
		cw, chunked := w.(ChunkWorker)
		for t := lo; t < hi; t++ {
			l.readBackToken(t)
			if !chunked {
				l.coefBackToken(w, t)
			}
		}
		if chunked {
			n, c, tl := l.n, l.c, l.tapeLen
			cw.BackwardChunk(l.dx[lo*n*c:hi*n*c], l.x[lo*n*c:hi*n*c], l.tape[lo*tl:hi*tl],
				l.dpre[lo*n:hi*n], l.dpost[lo*n:hi*n], l.dres[lo*n*n:hi*n*n], hi-lo)
		}
	}
}

// runPlain runs the current op on tokens [lo, hi) (chunk k) of a Residual
// Layer (n = 1, h_pre = h_post = H_res = 1) without the general mixing: the
// coefficients are set to 1, the branch input is the stream, the output
// x + f, dx and df are dout, and PreBackward adds din to dx. The results
// are those of the general path bit for bit (products by 1 are exact); the
// gradients of the coefficients, which Residual discards, are not formed.
func (l *Layer) runPlain(k, lo, hi int) {
	c := l.c
	switch l.op {
	case opCoef:
		for _, s := range [...][]float64{l.pre[lo:hi], l.post[lo:hi], l.res[lo:hi]} {
			for i := range s {
				s[i] = 1
			}
		}
		l.errs[k] = nil
	case opRead:
		copy(l.dst[lo*c:hi*c], l.x[lo*c:hi*c])
	case opWrite:
		dst, x, f := l.dst[lo*c:hi*c], l.x[lo*c:hi*c], l.f[lo*c:hi*c]
		for i := range dst {
			dst[i] = x[i] + f[i]
		}
	case opWriteBack:
		copy(l.dx[lo*c:hi*c], l.dout[lo*c:hi*c])
		copy(l.df[lo*c:hi*c], l.dout[lo*c:hi*c])
		for t := lo; t < hi; t++ {
			l.outSS[t] = f64.SumSquares(l.dout[t*c : (t+1)*c])
		}
	case opReadBack:
		dx, in := l.dx[lo*c:hi*c], l.in[lo*c:hi*c]
		for i := range dx {
			dx[i] += in[i]
		}
	}
}

// coefChunk computes and checks the coefficients of tokens [lo, hi). It
// reports the first error in token order: a Worker's, or a non-finite
// coefficient (h_pre, then h_post, then H_res of a token).
func (l *Layer) coefChunk(k, lo, hi int) error {
	n, c, tl := l.n, l.c, l.tapeLen
	w := l.workers[k]
	end, werr := hi, error(nil) // the tokens computed, and the error that stopped them
	if cw, ok := w.(ChunkWorker); ok {
		err := cw.ForwardChunk(l.pre[lo*n:hi*n], l.post[lo*n:hi*n], l.res[lo*n*n:hi*n*n],
			l.tape[lo*tl:hi*tl], l.x[lo*n*c:hi*n*c], hi-lo)
		if err != nil {
			return fmt.Errorf("hc: tokens %d to %d: %w", lo, hi-1, err)
		}
	} else {
		for t := lo; t < hi; t++ {
			err := w.Forward(l.pre[t*n:(t+1)*n], l.post[t*n:(t+1)*n], l.res[t*n*n:(t+1)*n*n],
				l.tape[t*tl:(t+1)*tl], l.x[t*n*c:(t+1)*n*c])
			if err != nil {
				end, werr = t, fmt.Errorf("hc: token %d: %w", t, err)
				break
			}
		}
	}
	// One scan of the whole range; only a failure looks token by token.
	if f64.AllFinite(l.pre[lo*n:end*n]) && f64.AllFinite(l.post[lo*n:end*n]) &&
		f64.AllFinite(l.res[lo*n*n:end*n*n]) {
		return werr
	}
	for t := lo; t < end; t++ {
		for _, s := range [...]struct {
			name string
			v    []float64
		}{{"h_pre", l.pre[t*n : (t+1)*n]}, {"h_post", l.post[t*n : (t+1)*n]}, {"H_res", l.res[t*n*n : (t+1)*n*n]}} {
			if err := checkFinite(s.name, s.v); err != nil {
				return fmt.Errorf("hc: token %d: %w", t, err)
			}
		}
	}
	return werr
}

// readToken writes token t's branch input h_pre·X.
func (l *Layer) readToken(t int) {
	n, c := l.n, l.c
	readMix(l.dst[t*c:(t+1)*c], l.pre[t*n:(t+1)*n], l.x[t*n*c:(t+1)*n*c])
}

// writeToken writes token t's new streams H_res·X + h_postᵀ·f.
func (l *Layer) writeToken(t int) {
	n, c := l.n, l.c
	writeMix(l.dst[t*n*c:(t+1)*n*c], l.post[t*n:(t+1)*n], l.res[t*n*n:(t+1)*n*n],
		l.x[t*n*c:(t+1)*n*c], l.f[t*c:(t+1)*c])
}

// writeBackToken is the backward pass of writeToken for token t.
func (l *Layer) writeBackToken(t int) {
	n, c := l.n, l.c
	writeBackMix(l.dx[t*n*c:(t+1)*n*c], l.df[t*c:(t+1)*c],
		l.dpost[t*n:(t+1)*n], l.dres[t*n*n:(t+1)*n*n],
		l.post[t*n:(t+1)*n], l.res[t*n*n:(t+1)*n*n],
		l.x[t*n*c:(t+1)*n*c], l.f[t*c:(t+1)*c], l.dout[t*n*c:(t+1)*n*c])
}

// readBackToken is the backward pass of readToken for token t: it sets
// ∂L/∂h_pre and adds h_preᵀ·din into dx.
func (l *Layer) readBackToken(t int) {
	n, c := l.n, l.c
	readBackMix(l.dx[t*n*c:(t+1)*n*c], l.dpre[t*n:(t+1)*n], l.pre[t*n:(t+1)*n],
		l.x[t*n*c:(t+1)*n*c], l.in[t*c:(t+1)*c])
}

// coefBackToken is the backward pass of the coefficients of token t, using
// worker w.
func (l *Layer) coefBackToken(w Worker, t int) {
	n, c, tl := l.n, l.c, l.tapeLen
	w.Backward(l.dx[t*n*c:(t+1)*n*c], l.x[t*n*c:(t+1)*n*c], l.tape[t*tl:(t+1)*tl],
		l.dpre[t*n:(t+1)*n], l.dpost[t*n:(t+1)*n], l.dres[t*n*n:(t+1)*n*n])
}

// scaleTo sets dst = a·x.
func scaleTo(dst []float64, a float64, x []float64) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = a * v
	}
}

// axpy sets dst += a·x.
func axpy(dst []float64, a float64, x []float64) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += a * v
	}
}

// dot returns x·y.
func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}
