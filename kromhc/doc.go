// Package kromhc is KromHC (arXiv 2601.21579, ICML 2026): the residual
// matrix is a Kronecker product of small doubly stochastic factors, each a
// convex combination of its own permutation matrices, so H_res is exactly
// doubly stochastic at any n that is a product of small factors — n = 16
// (2·2·2·2) included, where mHC-lite's 16! permutations are impossible —
// with far fewer parameters than mHC-lite.
//
// # Equations
//
// For one token with streams X ∈ R^{n×C} (row i = stream i), with
// x̂ = RMSNorm(vec(X)) over all nC values, h_pre and h_post as in mHC, and
// n = i_1·i_2·…·i_K (Config.Factors):
//
//	w_k    = softmax(α_res·x̂φ_k + b_k)       ∈ R^{i_k!}, one φ_k ∈ R^{nC×i_k!} per factor
//	U_k    = Σ_j w_{k,j}·P_j                  over the i_k! permutations of size i_k
//	H_res  = U_1 ⊗ U_2 ⊗ … ⊗ U_K
//	X'     = H_res·X + h_postᵀ·F(h_pre·X)
//
// Stream a has the digits (a_1, …, a_K) in the mixed radix (i_1, …, i_K),
// most significant first, and H_res[a][b] = Π_k U_k[a_k][b_k]. Row i of
// H_res holds the weights that build output stream i; PyTorch ports store
// the transpose (as do the factors: transpose each U_k).
//
// A Kronecker product of doubly stochastic matrices is doubly stochastic
// (its row sums are products of the factors' row sums), so the guarantee
// holds by construction: the deviation from doubly stochastic is a few
// ulps per token at any logit scale (≤ 8e-16 measured at σ = 5 for n up to
// 16) and stays at that level through products of 64 layers (≤ 2.5e-15).
// The set reached is smaller than the Birkhoff polytope: every H_res is a
// Kronecker product, so a permutation is reachable exactly when it acts on
// each digit separately (the reversal of the streams is, a cyclic shift by
// one is not).
//
// # Parameters
//
// φ_res has K = Σ_k i_k! columns: 4 at n = 4 (2·2), 6 at n = 8, 8 at n = 16,
// against n² = 16, 64, 256 for mHC and n! = 24, 40320 for mHC-lite.
// NumParams gives the total; at C = 256 a sub-layer's mixer holds 12303
// values at n = 4 (mHC 24603, mHC-lite 32803) and 45081 at n = 8 (mHC
// 163923, mHC-lite 82648467).
//
// # Init
//
// As mHC-lite's reference init, factor by factor: φ = 0, each factor's
// identity logit 0 and its other permutations' −8, gates 0.01, so each
// 2×2 factor is [[0.999665, 0.000335], [0.000335, 0.999665]] and H_res at
// n = 4 has diagonal 0.999329; the head as mHC's.
//
// # Cost per token
//
// The head: (2n + K)·nC multiply-adds forward and twice that backward. The
// map: K exponentials, the factors' mixtures, and K·n² multiplies for the
// Kronecker product, about 3K·n² backward. Nothing allocates in steady state.
package kromhc
