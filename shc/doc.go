// Package shc is the spectral-sphere hyper-connection mixer (s²HC,
// arXiv 2603.20896; construction from the official code, github
// 6zHAOyi/s2HC): the residual matrix keeps its row sums, its column sums
// and its spectral norm at exactly r (1 by default), while its entries may
// be negative. Neither the forward signal nor the gradient can grow across
// depth, and unlike a doubly stochastic matrix the mixer can rotate and
// sign-flip the streams' differences.
//
// # Equations
//
// For one token with streams X ∈ R^{n×C} (row i = stream i), m = n − 1 and
// x̂ = RMSNorm(vec(X)) over all nC values, the shared mHC head
// (internal/head) gives h_pre = sigmoid(·), h_post = 2·sigmoid(·) and
// m² raw residual logits ℓ = x̂·W_res, split in that order into ℓ_U and ℓ_V
// (m(m−1)/2 each) and ℓ_S (m) (SPEC §3.4 calls them r; here r is the
// radius). Then
//
//	z_U = γ_U·tanh(s_U·ℓ_U + b_U)        z_V = γ_V·tanh(s_V·ℓ_V + b_V)
//	σ   = tanh(s_σ·ℓ_S + b_σ)            ∈ R^m
//	U   = (I + skew(z_U))⁻¹(I − skew(z_U))   V likewise   (Cayley, m×m)
//	H_res = r·(J + U_z·U·diag(σ)·Vᵀ·U_zᵀ)
//	X'  = H_res·X + h_postᵀ·F(h_pre·X)
//
// with J = 11ᵀ/n and U_z the n×m Helmert basis of 1^⊥ (spectral.Helmert);
// skew(z) fills the strict upper triangle row by row (spectral.Skew). The
// scales s_U, s_V, s_σ and γ_U, γ_V are learnable scalars. Row i of H_res
// holds the weights that build output stream i: H_res·1 is the forward gain,
// 1ᵀ·H_res the backward gain. The reference code mixes with
// einsum('... s t, ... s d -> ... t d'), i.e. it stores the transpose; since
// (U·diag(σ)·Vᵀ)ᵀ = V·diag(σ)·Uᵀ, porting its weights means swapping the U
// and V parameters (b, s, γ and the corresponding rows of W_res).
//
// # What is exact
//
// Structural form (the default, PaperConfig). U_z·U_zᵀ = I − J, U_zᵀ1 = 0
// and U, V are orthogonal, so for every parameter value
//
//	H_res·1 = r·1,   1ᵀ·H_res = r·1ᵀ,   singular values r·({1} ∪ {|σᵢ|}),
//
// and |σᵢ| ≤ 1 (tanh) makes ‖H_res‖₂ = r. For r = 1 all three survive
// products: a stack of L layers has sums 1 and norm 1 whatever L. In float64
// each holds to a few units of roundoff (measured: ≤ 2e-15 per token with
// logits at scale 5, ≤ 4e-15 for a product of 64 layers; Deviation measures
// it). Entries are signed, so the induced ∞-norm max_i Σ_j |H_ij| can reach
// √n: report spectral metrics, not only sums. H_res cannot equal a
// permutation matrix exactly (a Cayley factor never has the eigenvalue −1,
// and J + U_z·U_zᵀ = I holds only to rounding); the identity is approached
// as σ → 1.
//
// Normalized form (NormalizedConfig). H_res = r·A/σ₁(A) with the
// unconstrained A = α_res·mat(x̂φ_res) + b_res (the head then emits n²
// logits). σ₁ is the exact largest singular value (spectral.Normalizer, a
// Jacobi SVD), never a power-iteration estimate: one cold power step
// underestimates σ₁ and overshoots the sphere, by +68% in median at n = 4
// (SPEC §3.4). Only ‖H_res‖₂ = r is promised (to ~1e-15); sums are free,
// and a product of such matrices has norm ≤ r^L, not = r^L. With φ = 0,
// b_res = P and r = 1, H_res is the permutation matrix P exactly.
//
// # Init
//
// Structural, as the reference code: W_res = 0 (the head's φ = 0),
// b_U = b_V = 0, b_σ = 4, s_U = s_V = s_σ = 0.01, γ_U = γ_V = 1. Then
// U = V = I, σ = tanh(4) = 0.999329 and H_res = J + σ·(I − J): at n = 4 the
// diagonal is 0.999497 and the off-diagonal 1.677e-4. The head's init (SPEC
// §3.2) gives h_pre = 0.73106 / 0.26894 and h_post = 1.46212 / 0.53788 on
// and off the home stream (layer mod n). At init the gradients of the
// scales and of γ are exactly zero (they multiply ℓ = 0 and tanh(0) = 0);
// they become non-zero once φ moves.
//
// Normalized: α_res = 0.01 and b_res = I, so A = I and H_res = r·I exactly.
// A = I has n equal singular values, where σ₁ is not differentiable: the
// backward returns one element of the subdifferential (that of the singular
// vectors the SVD picks), which treats the streams asymmetrically. The first
// optimiser step leaves this point.
//
// At n = 1, H_res = [r] and there are no residual parameters. At n = 2,
// m = 1 has no rotation: only b_σ and s_σ exist.
//
// # Parameters and tape
//
// Params lists the head's phi, alpha, b_pre, b_post, then b_U, b_V,
// b_sigma, s_U, s_V, s_sigma, gamma_U, gamma_V (structural) or alpha_res,
// b_res (normalized); the residual ones are NoDecay. Per token the tape
// holds the head's record plus tanh(s_U·ℓ_U + b_U), tanh(s_V·ℓ_V + b_V)
// and σ (m² values), or A (n²). The spectral workspaces keep only the last
// token's state, so Backward recomputes a token's H_res from the tape
// (bit-identically) before differentiating it.
//
// # Errors
//
// A NaN or an infinity reaching z_U, z_V, σ or A (from a parameter; the
// Layer rejects non-finite data first) is a returned error wrapping both
// hc.ErrNotFinite and spectral.ErrNonFinite. Rotation parameters too large
// for an orthogonal Cayley factor (|z| beyond about 1e14, reachable only
// with a huge γ) wrap spectral.ErrRange, and A = 0 in the normalized form
// wraps spectral.ErrZeroNorm. In every case the Layer's destination is
// untouched. A NaN upstream gradient propagates NaN into the parameter
// gradients; nothing panics on data.
//
// # Cost per token
//
// The head: (2n + m²)·nC multiply-adds forward (structural; (2n + n²)·nC
// normalized), twice that backward; at n = 4, C = 256: 17·1024 forward. The
// structural H_res: about 6m³ + 2n²m flops forward (an LU per Cayley
// factor), and the backward recomputes it and adds about twice that. The
// normalized H_res: a Jacobi SVD of n×n (a few sweeps of 4n³ flops), forward
// and again in the backward. The mixing itself is hc.Layer's, and nothing
// allocates in steady state.
//
// The worker is an hc.ChunkWorker, as mhc's is: the head's products for a
// Layer's whole chunk of tokens are matrix products through internal/gemm
// rather than one matrix-vector product per token, which pays where the
// backend blocks them (OpenBLAS); H_res is built and differentiated token
// by token. BenchmarkLayer measures a whole training step of 256 tokens at
// n = 4: on the project's 2-core machine (shared, so noisy) about 6 µs per
// token at C = 64 and 15–25 µs at C = 256 for the structural form, 10 µs
// and 35–43 µs for the normalized one. The head and the mixing dominate;
// the sphere forward and backward are a few percent of the profile.
//
// # Worked example
//
// n = 3 at init: σ = tanh(4) = 0.999329, U = V = I, so
// H_res = J + σ(I − J) has diagonal 1/3 + 2σ/3 = 0.999553 and off-diagonal
// (1 − σ)/3 = 0.000224; every row and column sums to 1 and ‖H_res‖₂ = 1
// (the singular values are 1, σ, σ). See Example.
package shc
