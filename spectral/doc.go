// Package spectral provides the spectral-norm numerics of hyperconn: exact
// singular values of small dense matrices, a warm-started power iteration,
// the Cayley transform, the Helmert basis, and the two spectral-sphere
// parameterisations of a residual mixer (SPEC §3.4, §5), each with its
// backward pass.
//
// # What it computes
//
// Norm, Values, MinValue, EffectiveRank and DistJ summarise the singular
// values σ₁ ≥ σ₂ ≥ … of a matrix: the spectral norm σ₁, the smallest value,
// the effective rank exp(−Σ pᵢ log pᵢ) with pᵢ = σᵢ/Σσ, and ‖M − J‖₂ with
// J = 11ᵀ/n. They are exact to a few units of roundoff: the closed form at
// 2×2, one-sided Jacobi (written here, in float64, whatever the element
// type) above. SVD is the reusable workspace form that also yields singular
// vectors. Note that gonum's mat.Norm(A, 2) is the Frobenius norm, not σ₁.
//
// Power estimates σ₁ from below by power iteration with a vector kept between
// calls; it suits large or slowly changing matrices, never a single cold step.
//
// Cayley maps a skew-symmetric A = skew(z) to the orthogonal
// U = (I + A)⁻¹(I − A). Helmert is the orthonormal basis U_z of 1^⊥.
//
// Sphere builds the sHC residual matrix of n streams,
//
//	H = J + U_z·U·diag(σ)·Vᵀ·U_zᵀ,  U = Cayley(skew(z_U)),  V = Cayley(skew(z_V)),
//
// whose rows and columns sum to 1 and whose singular values are
// {1} ∪ {|σᵢ|}, so ‖H‖₂ = 1 whenever |σᵢ| ≤ 1 (the sHC mixer feeds
// σ = tanh(·)). Entries may be negative. These properties survive products,
// so a deep stack of such mixers neither amplifies nor attenuates the mean
// stream and never amplifies anything else. Normalizer is the alternative
// form H = r·A/σ₁(A) for an unconstrained A, with the exact σ₁.
//
// # Storage and conventions
//
// Matrices are dense row-major slices: element (i, j) of an r×c matrix is
// m[i*c+j]. Row i of a mixer holds the weights that build output stream i,
// so H·1 is the forward gain and 1ᵀ·H the backward gain (SPEC §2).
//
// The free parameters of an m×m skew matrix are its strict upper triangle in
// row-major order, z of length SkewLen(m) = m(m−1)/2: for m = 3,
// z = (A₀₁, A₀₂, A₁₂), with A_ji = −A_ij. Gradients with respect to z follow
// the same order: ∂L/∂z_k = ∂L/∂A_ij − ∂L/∂A_ji.
//
// Backward passes take the upstream gradient G = ∂L/∂(output), with the
// shape of the output, and overwrite (never accumulate into) their
// destinations. They use what the last Forward stored in the
// workspace, so one workspace serves one forward/backward pair at a time; use
// one workspace per goroutine.
//
// Every function is generic over Float (float32 or float64). Arithmetic is in
// float64 and results are rounded once to the element type.
//
// # Errors
//
// A NaN or an infinity in user data is reported by a returned error that
// wraps ErrNonFinite, and a finite input too large for the result wraps
// ErrRange; destinations are then left untouched. Normalizer reports the zero
// matrix with ErrZeroNorm. Test with errors.Is. The scalar summaries (Norm
// and friends) return NaN or +Inf instead, as math functions do, and list
// their special cases. A length that does not match the stated dimensions is
// a programmer error: the function panics with ErrShape, and a Backward
// after a failed Forward, or before any, panics with ErrNoForward.
//
// # Cost
//
// Workspaces (SVD, Power, Cayley, Sphere, Normalizer) do not allocate in
// steady state, nor do Norm, MinValue, EffectiveRank and DistJ for matrices
// of at most 256 elements. One Jacobi sweep over an n×n matrix costs about
// 4n³ flops and n ≤ 64 needs 5–10 sweeps; Norm takes about 1 µs at n = 4 and
// 50 µs at n = 16 on the project's machines. A Sphere forward costs about
// 6m³ + 2n²m flops (0.3 µs at n = 4), forward and backward together 0.8 µs.
//
// # Worked example
//
// With z_U = z_V = 0 the Cayley factors are identities and
// H = J + σ·(I − J) for a common σ. At n = 4 and σ = tanh(4) = 0.999329 this
// is the sHC initialisation of SPEC §3.4: diagonal 0.999497, off-diagonal
// 1.677e-4, rows and columns summing to 1, and ‖H‖₂ = max(1, σ) = 1. See
// ExampleSphere.
package spectral
