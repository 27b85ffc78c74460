// Package orthohc is an orthogonal hyper-connection mixer: the residual
// matrix is a rotation, H_res ∈ SO(n), the Cayley transform of a learned
// skew-symmetric matrix. It is the isometric alternative to the doubly
// stochastic mixers (mhc, mhclite, kromhc): every singular value of H_res
// is 1, so the residual path neither grows nor shrinks the norm of the
// streams, in the forward pass or in the gradient, through any depth — and
// unlike a doubly stochastic matrix it can rotate, not only average.
//
// # Equations
//
// For one token with streams X ∈ R^{n×C} (row i = stream i), with
// x̂ = RMSNorm(vec(X)) over all nC values, h_pre and h_post as in mHC:
//
//	z      = α_res·x̂φ_res + b_res             ∈ R^{n(n−1)/2}
//	A      = skew(z)                           A_ij = z_k, A_ji = −z_k (i < j, spectral.Skew)
//	H_res  = (I + A)⁻¹(I − A)                  spectral.Cayley
//	X'     = H_res·X + h_postᵀ·F(h_pre·X)
//
// I + A is invertible for every skew A (its eigenvalues are 1 + iλ), so the
// map is defined and smooth everywhere; its image is the rotations without
// the eigenvalue −1 (a swap of two streams is out of reach, as for sHC's
// structural form). Row i of H_res builds output stream i; PyTorch ports
// store the transpose, which for a rotation is its inverse.
//
// # Exactness
//
// spectral.Cayley restores orthogonality after its LU solve with
// Newton–Schulz steps: Orthogonality(H) = ‖HᵀH − I‖₂ is a few ulps per token
// (≤ 5e-15 measured at logit scale 5, n ≤ 16) and ≤ 2.2e-14 for a product of
// 64 layers; the tests bound both by 1e-13.
//
// # Init
//
// b_res = 0 and φ = 0, so z = 0 and H_res = I exactly; gates 0.01; the head
// as mHC's (h_pre 0.73106 / 0.26894, h_post 1.46212 / 0.53788).
//
// # Cost per token
//
// The head: (2n + n(n−1)/2)·nC multiply-adds forward and twice that
// backward. The map: an LU solve and a few Newton–Schulz steps, about
// (2/3)n³ + 2n³ flops, recomputed in the backward before the transform's
// adjoint. Nothing allocates in steady state.
package orthohc
