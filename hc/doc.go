// Package hc is the frame every residual hyper-connection of hyperconn plugs
// into, and the unconstrained Hyper-Connections (HC) of Zhu et al.,
// arXiv 2409.19606.
//
// # What it computes
//
// A hyper-connection widens the residual stream of a network into n parallel
// streams of width C. One token's state is X ∈ R^{n×C}; a sub-layer with
// branch F (attention or an MLP, owning its own pre-norm) maps it to
//
//	X' = H_res·X + h_postᵀ·F(h_pre·X)
//
// with a read vector h_pre ∈ R^n (the branch input h_pre·X is one C-vector),
// a write vector h_post ∈ R^n and a residual matrix H_res ∈ R^{n×n}. Row i of
// H_res holds the weights that build output stream i, so H_res·1 (row sums)
// is the forward gain and 1ᵀ·H_res (column sums) the backward gain. PyTorch
// ports store the transpose; a port of their numbers must transpose.
//
// The network starts from n copies of the embedding (Expand) and ends with
// the sum of the streams (Reduce), followed by its final norm.
//
// # Storage order
//
// Everything is float64, flat and row-major. A batch of T tokens is T×n×C:
// token t's stream i is x[(t*n+i)*C : (t*n+i+1)*C]. Branch inputs and
// outputs are T×C. Per-token coefficients are h_pre, h_post: T×n and H_res:
// T×n×n, row i of token t's H_res at res[(t*n+i)*n:].
//
// # The frame: Mixer, Worker, Layer
//
// A parameterisation (HC here; mhc, mhclite and shc elsewhere) implements
// Mixer: it maps one token's streams to that token's coefficients, through a
// Worker that also back-propagates through that map. Layer owns everything
// else: the batch, the mixing, the copies the backward passes need, the
// goroutines. A training step is
//
//	l.Pre(in, x, T)          // coefficients; in = h_pre·X per token
//	F(f, in)                 // the branch, the caller's
//	l.Post(x2, f)            // x2 = H_res·X + h_postᵀ·f per token
//	l.PostBackward(dx, df, dx2) // dx = H_resᵀ·dx2, df = h_post·dx2
//	F'(din, df)              // the branch's backward, the caller's
//	l.PreBackward(dx, din)   // dx += h_preᵀ·din + coefficient path; θ.Grad +=
//
// Invariants: NaN or ±Inf in x, f or a coefficient is a returned error
// wrapping ErrNotFinite with the destination untouched, and so is an output
// of Post that overflows (see Post for its destination); streams of any finite magnitude are normalised
// without overflow (up to 1e300 the coefficients are those of the scaled
// streams to 1e−12); wrong lengths panic with ErrShape; calls out of order
// panic with ErrSequence; a Layer used by two goroutines at once, or two
// Layers adding gradients into one shared mixer at once, panic with
// ErrConcurrent (see Layer). The backward passes do not check their
// inputs: a NaN or an infinity in dout or din flows into dx and the
// parameter gradients, as it does in any autodiff framework; check the
// gradients before an update (net's Trainer stops on a non-finite global
// gradient norm). Sizes are bounded: NumParams (and each mixer package's)
// refuses more than MaxParams parameter values or more than MaxN streams,
// with an error wrapping ErrTooLarge that names the memory needed. After a warm-up
// call at the largest batch size, no call allocates. A batch is cut into at
// most DefaultChunks contiguous token ranges of at least MinChunkTokens
// tokens (see Layer.SetChunks), each
// with its own Worker and run on the calling goroutine or one of the
// library's helper goroutines (at most Threads() at once; SetThreads);
// parameter gradients are then added range by range in a fixed order, so
// every result is bit-for-bit the same for any thread count.
//
// Residual(C) is the plain residual connection as a Mixer (n = 1, every
// coefficient 1, no parameters): a Layer over it computes exactly x + F(x),
// the baseline for overhead and accuracy comparisons.
//
// # HC: static and dynamic
//
// New(Config) builds the HC mixer of sub-layer k. In the paper's symbols the
// static coefficients are the write weights B ∈ R^{1×n}, the read weights
// A_m ∈ R^{n×1} and A_r ∈ R^{n×n}, with h_post = B, h_pre = A_mᵀ and
// H_res = A_rᵀ. They are parameters (B, A_m, A_r), initialised to
//
//	B = 1ᵀ,  A_m = e_{k mod n},  A_r = I,
//
// so at init the branch of sub-layer k reads stream k mod n and writes to all
// streams, and H_res = I. From n identical streams every stream then stays
// identical to the state of a plain pre-norm residual network, bit for bit
// (HC paper, App. H.1); Reduce gives their sum.
//
// Dynamic HC (Config.Dynamic) adds a token-dependent part to every
// coefficient. Let x̄_i = x_i / √(mean_c x_ic² + 1e-6) be stream i normalised
// over C (an RMS norm without a learned gain; the 1e-6 keeps a zero stream
// finite). With W_beta, W_m ∈ R^C and W_r ∈ R^{C×n} (row-major), all zero at
// init, and scalar scales s_alpha = s_beta = 0.01 at init:
//
//	h_post[i]   = B[i]      + s_beta  · tanh(x̄_i·W_beta)
//	h_pre[i]    = A_m[i]    + s_alpha · tanh(x̄_i·W_m)
//	H_res[j][i] = A_r[i][j] + s_alpha · tanh(x̄_i·W_r[:, j])
//
// Everything indexed by i comes from stream i: stream i decides how much of
// the branch it receives, how much it contributes to the branch input, and
// (column i of H_res, row i of the paper's A_r) how it is read into each
// output stream. Config.NoTanh drops the tanh. The static parts and the
// scales are marked NoDecay (HC §4: weight decay on them caused
// divergence). At init tanh(0) = 0, so dynamic HC starts exactly as static
// HC; the gradients of s_alpha and s_beta are then exactly zero until the
// W's move.
//
// H_res is unconstrained: its row and column sums drift from 1 in training,
// the instability the constrained mixers (mhc, mhclite, shc) remove.
//
// # Cost
//
// Per token the frame costs (n² + 2n)·C multiply-adds forward and
// (2n² + 4n)·C backward, plus the mixer's. Static HC adds O(n²) per token;
// dynamic HC (n + 3)·C per stream forward (the norm's sum of squares and the
// n + 2 projections, in one pass over the stream) and twice that backward,
// in the AVX kernels of internal/f64 (its worker is a ChunkWorker; so are
// the mHC family's and sHC's, which use matrix products). A measured
// comparison with Residual, branch included, is in the package benchmarks
// (BenchmarkLayer); BenchmarkChunk times dynamic HC's own part.
//
// The frame's multiply-adds run in kernels that pass over the columns once
// for several streams: assembly for n = 4 on amd64 with AVX (the build tag
// purego selects pure Go), pure Go otherwise. Every kernel gives the same
// bits as one axpy or dot loop per stream, on every machine
// (BenchmarkTokenKernels compares the two).
//
// # Worked example
//
// Static HC, n = 2, sub-layer k = 1, one token with streams x_0 = (1, 2) and
// x_1 = (3, 4), branch F(u) = 2u: h_pre = e_1 reads u = x_1 = (3, 4), the
// branch gives f = (6, 8), and with H_res = I and h_post = (1, 1) the new
// streams are x_0 + f = (7, 10) and x_1 + f = (9, 12). See Example.
package hc
