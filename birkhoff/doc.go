// Package birkhoff computes with doubly stochastic matrices: the Birkhoff
// polytope {H ≥ 0, H·1 = 1, 1ᵀ·H = 1ᵀ} onto which the mHC mixer
// (arXiv 2512.24880) projects its residual matrix H_res.
//
// # Storage
//
// Every matrix is n×n, row-major, in a plain []F with F float32 or float64:
// entry (i, j) is m[i*n+j]. Row i of a residual matrix holds the weights that
// build output stream i, so row sums are the forward gain and column sums the
// backward (gradient) gain. Computation is in float64 whatever F is; results
// are rounded to F once, and every certificate is measured on the rounded
// result.
//
// # Projection
//
// Project writes the doubly stochastic scaling P = diag(e^f)·exp(Z)·diag(e^g)
// of a logit matrix Z. Three methods compute it:
//
//   - Fixed is the mHC paper's map, reproduced exactly: M⁰ = exp(Z), then
//     Options.Iterations sweeps (default 20) of column then row
//     normalisation, no epsilon. Rows are exact; columns are not. The worked
//     example of the mHC-lite paper (exp(Z) = [[.5,ε,ε],[.5,ε,ε],[ε,1,1]],
//     ε = 1e-13) ends with column sums (1.8197, 0.5901, 0.5901).
//   - Tolerance sweeps until the max marginal error is at most Options.Tol.
//     Sinkhorn contracts at rate σ₂(P)² per sweep, which approaches 1 when P
//     is near a permutation: then it needs very many sweeps.
//   - Exact runs one sweep, then Newton's method on the semi-dual
//     φ(g) = Σ_i LSE_j(Z_ij + g_j) − Σ_j g_j with the gauge g_{n−1} = 0,
//     a dense Cholesky solve of its Hessian diag(Pᵀ1) − PᵀP (formed as a
//     weighted graph Laplacian, without cancellation) and Armijo
//     backtracking. It reaches a max marginal error of 1e-13 in float64 in a
//     median 3–5 steps for n ≤ 16, including logits far from any doubly
//     stochastic matrix (no perfect matching on their large entries).
//
// Every call returns Stats, the certificate: iterations taken, the result's
// max |row or column sum − 1|, whether that meets the tolerance, and the
// number of connected components of the result's support (above 1 when
// entries have underflowed and the result is block diagonal up to
// permutations, as near a permutation matrix). Nothing hides an
// approximation: Fixed reports its real column error.
//
// When the logit range exceeds MaxScalingRange, exp would underflow, and the
// projection runs in the log domain instead (log-sum-exp normalisations; the
// same map). No epsilon is ever added to a denominator.
//
// # Gradients
//
// Workspace.Backward returns ∂L/∂Z for an upstream ∂L/∂P. For Fixed it
// unrolls the recorded sweeps: the exact gradient of the truncated map, in
// O(Iterations·n²). For Exact it differentiates the optimality conditions:
//
//	A = P∘G, a = A1, b = Aᵀ1,
//	(I − PᵀP + Π)·y = b − Pᵀa,  x = a − P·y,
//	∂L/∂Z = P∘(G − x·1ᵀ − 1·yᵀ),
//
// one O(n³) Cholesky solve; its rows and columns sum to zero. I − PᵀP is
// singular, once for every connected component of P's support; Π = Σ_k
// 1_k·1_kᵀ/|k| over the components' column sets (11ᵀ/n for a connected
// support) fixes each component's free constant, which cancels in
// P∘(G − x·1ᵀ − 1·yᵀ): the result is the true gradient, finite and unique,
// also when the support has fallen apart (Stats.Components > 1). Near the
// identity (the mixers' init), the 20-sweep gradient differs from the true
// gradient of the projection by about 100%.
//
// # Cost
//
// Fixed: n² exponentials and 40·n² multiply-adds forward, as much again
// backward. Exact: n² exponentials, then per Newton step n³/2 multiply-adds
// for the Hessian, n³/6 for its Cholesky factor, n exponentials and n² for the
// line search; its backward is one more n³/2 + n³/6. At n = 4 and n = 16
// Exact forward plus backward is faster than Fixed-20 forward plus backward
// (BenchmarkProject). A Workspace makes both allocation-free.
//
// A mixer that projects one matrix per token and differentiates them all
// later uses Workspace.ProjectFixed and BackwardFixed instead: the same map
// and gradient bit for bit, but the kernel and the 2·Iterations
// normalisation factors go to a caller-held record (1 + n² + 2·Iterations·n
// values), so the backward rebuilds the iterates with multiplies instead of
// projecting again; at n = 4 both run as AVX2 kernels (BenchmarkFixedRecord:
// about 3.5× less per token than Project, Project, Backward).
//
// # Permutations, rounding, decomposition
//
// Permutations of {0,…,n−1} are numbered in lexicographic order (index 0 is
// the identity, n!−1 the reversal); Permutation and PermutationIndex convert
// both ways via the Lehmer code, and NewPerms tabulates all n! of them for
// n ≤ MaxPermN = 8 (8! = 40320; beyond that the table and a mixture's weights
// grow factorially, and it is refused). Permutation p is the matrix P with
// P[i, p[i]] = 1: row i, which builds output stream i, reads input stream
// p[i]. Mix forms H = Σ_k w_k P_k (mHC-lite's H_res; exactly doubly
// stochastic when w is a softmax) in O(n·n!), and MixBackward gives
// ∂L/∂w_k = ⟨G, P_k⟩; neither allocates.
//
// Round (Altschuler, Weed and Rigollet, arXiv 1705.09634, Alg. 2) makes any
// nonnegative matrix exactly doubly stochastic in O(n²), moving it at most
// 2·(‖r−1‖₁ + ‖c−1‖₁) in L1: for example after a Fixed projection.
//
// Decompose writes a doubly stochastic matrix as at most (n−1)²+1 weighted
// permutations by greedy bottleneck matching (Birkhoff–von Neumann), with the
// max-abs reconstruction error in Residual, for exporting and interpreting
// learned mixers: Decompose([[.5,.3,.2],[.2,.5,.3],[.3,.2,.5]]) gives
// 0.5·[0 1 2] + 0.3·[1 2 0] + 0.2·[2 0 1], residual 0.
//
// # Errors
//
// A NaN or infinite logit (or a logit range above 1e150) is an error
// wrapping ErrNonFinite, and the destination is left untouched. Slices whose
// lengths do not match n, or n < 1, are programmer errors: Project panics
// with ErrShape, as gonum's mat does.
package birkhoff
