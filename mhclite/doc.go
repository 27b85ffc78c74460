// Package mhclite is the mHC-lite mixer (arXiv 2601.05732, reference code
// github.com/FFTYYY/mhc-lite): a manifold-constrained hyper-connection whose
// residual matrix is a convex combination of permutation matrices, and so
// doubly stochastic by construction, with no Sinkhorn iteration.
//
// # Equations
//
// For one token with streams X ∈ R^{n×C} (row i = stream i), with
// x̂ = RMSNorm(vec(X)) over all nC values:
//
//	h_pre  = sigmoid(α_pre·x̂φ_pre + b_pre)            ∈ R^n
//	h_post = 2·sigmoid(α_post·x̂φ_post + b_post)       ∈ R^n
//	w      = softmax(α_res·x̂φ_res + b_res)             ∈ R^{n!}
//	H_res  = Σ_k w_k·P_k                               ∈ R^{n×n}
//	X'     = H_res·X + h_postᵀ·F(h_pre·X)
//
// with φ_pre, φ_post ∈ R^{nC×n}, φ_res ∈ R^{nC×n!}, gates α_* (scalars) and
// biases b_*. h_pre and h_post are mHC's, computed by the same shared head
// as package mhc.
//
// # Orientation and permutation order
//
// Row i of H_res holds the weights that build output stream i (its row sums
// are the forward gain, its column sums the backward gain); PyTorch ports
// store the transpose. P_k is the permutation matrix with P_k[i, p_k(i)] = 1,
// so (P_k·X) has stream p_k(i) in row i: output stream i reads input stream
// p_k(i). The permutations p_k are all n! permutations of {0, …, n−1} in
// lexicographic order, index 0 the identity and n!−1 the reversal;
// birkhoff.Permutation and birkhoff.PermutationIndex convert between a
// permutation and its index, and Mixer.Perms returns the table. Entry k of
// b_res, of a row of φ_res and of w belongs to p_k.
//
// # What is exact
//
// w ≥ 0 and Σ_k w_k = 1, so every row and every column of H_res sums to
// Σ_k w_k = 1: H_res is doubly stochastic for every token and every
// parameter value, up to the rounding of an n!-term sum (a few ulps, see
// below; the conformance suite checks ≤ 1e-12 per token far from the init
// at n ≤ 8), and so is any product of such matrices across depth. The gradient is exact as well: no truncated
// iteration is unrolled, unlike mHC's 20 Sinkhorn sweeps. The softmax is
// shifted by its largest logit, so no logit range overflows; a logit far
// below the largest gets weight exactly 0, which lets H_res be exactly a
// permutation matrix.
//
// The price is factorial: n! = 2, 6, 24, 120, 720, 5040, 40320 for
// n = 2..8. New refuses n > MaxN = 8: at n = 9 a token would need
// 362880 weights and φ_res 9C×362880 parameters.
//
// # Init
//
// The reference code's init is the default: φ = 0, b_res = 0 for the
// identity and −8 for every other permutation, b_pre = b_post = +1 on the
// home stream (layer mod n) and −1 elsewhere, gates α = 0.01. With
// e = exp(−8) and W = 1 + (n!−1)·e, every token then has w_0 = 1/W and
// w_k = e/W for k ≥ 1; (n−1)! permutations send i to j ≠ i, so
//
//	H_res[i, j] = (n−1)!·e/W   (i ≠ j),   H_res[i, i] = 1 − (n−1)·(n−1)!·e/W.
//
// At n = 4: diagonal 0.994008, off-diagonal 0.001997 (mhc's Sinkhorn of the
// same −8 logits gives 0.998995 and 3.351e-4: a mixture of 23 permutations
// spreads more mass off the diagonal than one n×n logit matrix). h_pre is
// 0.73106 / 0.26894 and h_post 1.46212 / 0.53788, as in mhc. The same −8
// is far from the identity at large n, because (n!−1)·e grows: the diagonal
// is 0.969 at n = 5, 0.838 at n = 6, 0.461 at n = 7 and 0.185 at n = 8
// (TestInitClosedForm); Config.OffIdentity sets another value.
//
// # Interpreting a trained mixer
//
// Mixer.WeightsTo returns a token's n! weights w: which permutations, that
// is which routings of streams, the token uses. H_res alone does not
// determine them (for n ≥ 3 the n! permutation matrices are linearly
// dependent); birkhoff.Decompose of an H_res gives a different, sparse
// decomposition of at most (n−1)²+1 terms.
//
// # Cost per token
//
// The head: (2n + n!)·nC multiply-adds forward, twice that backward (at
// n = 4, C = 256: 32·1024, against mhc's 24·1024). The softmax: n!
// exponentials. The mixture: n·n! compensated additions (TwoSum), its
// adjoint n·n! additions. The mixing itself is done by hc.Layer. Nothing
// allocates in steady state.
//
// The worker is an hc.ChunkWorker, as mhc's is: the head's products for a
// Layer's whole chunk of tokens are three matrix products through
// internal/gemm (X·Φᵀ forward; ∂Φ and ∂X backward) rather than one
// matrix-vector product per token, which pays where the backend blocks
// them (OpenBLAS); the softmax and the mixture stay per token. Each worker
// keeps the chunk's logit gradients, tokens×(2n + n!) and tokens×n!
// values, grown to its largest chunk.
//
// Measured on this project's 2-core machine (BenchmarkLayer against
// BenchmarkLayerMHC, n = 4, 256 tokens, one training step without the
// branch, best of 10, one core): 1.9 ms against mhc's 2.3 ms at C = 64,
// 7.5 ms against 7.1 ms at C = 256. mhc's 20 unrolled Sinkhorn sweeps
// cost about what mHC-lite's 8 extra head rows cost.
//
// Memory is what limits n. Parameters: (2n + n!)·nC + 2n + n! + 3, almost
// all of them φ_res; every chunk of an hc.Layer holds a private gradient of
// the same size, and the tape holds 2·n! + 4n + 1 values per
// token. At n = 8, C = 256 φ_res alone is 40320×2048 numbers (660 MB), and
// the head streams all of it for every token (BenchmarkStreams: a step
// over 16 tokens at C = 16 costs about 90 µs at n = 4 and 200 ms at
// n = 8). In practice n ≤ 5 is what fits.
//
// The mixture entries add (n−1)! weights each, equal at the init: summed
// plainly they would round the same way at every step (a bias of 4e-14 per
// entry at n = 8, and noise that spoils finite-difference checks), so both
// the softmax's normaliser and the mixture are compensated sums, correct to
// about one rounding. H_res's row and column sums are then 1 within a few
// ulps (measured: ≤ 2.2e-16 per token, ≤ 1.2e-15 for a product of 64).
//
// # Worked example
//
// n = 2, C = 3, at init: the two permutations are the identity and the swap,
// w = softmax(0, −8) = (0.999665, 0.000335), and
//
//	H_res = 0.999665·I + 0.000335·[[0 1] [1 0]] = [[0.999665 0.000335] [0.000335 0.999665]],
//
// exactly the doubly stochastic matrix mhc's exact projection gives for the
// same logits (at n = 2 every doubly stochastic matrix is such a mixture).
// See Example.
package mhclite
