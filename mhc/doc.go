// Package mhc is the Manifold-Constrained Hyper-Connection mixer of DeepSeek
// (mHC, arXiv 2512.24880): the residual matrix is projected onto the doubly
// stochastic matrices, so that neither the forward signal (row sums) nor the
// gradient (column sums) can grow or shrink across depth.
//
// # Equations
//
// For one token with streams X ∈ R^{n×C} (row i = stream i), with
// x̂ = RMSNorm(vec(X)) over all nC values:
//
//	h_pre  = sigmoid(α_pre·x̂φ_pre + b_pre)            ∈ R^n
//	h_post = 2·sigmoid(α_post·x̂φ_post + b_post)       ∈ R^n
//	H̃_res = α_res·mat(x̂φ_res) + b_res                 ∈ R^{n×n}
//	H_res  = Sinkhorn(H̃_res)
//	X'     = H_res·X + h_postᵀ·F(h_pre·X)
//
// Row i of H_res holds the weights that build output stream i (its row sums
// are the forward gain, its column sums the backward gain); PyTorch ports
// store the transpose.
//
// # Projection: the paper's and the exact one
//
// PaperConfig projects as the paper does: exp(H̃_res), then 20
// Sinkhorn-Knopp sweeps (column, then row normalisation), backward through
// the unrolled sweeps. Rows are then exact, columns are not: far from the
// init the column sums can be off by 1e-4 to 10%, and MaxDeviation reports
// the worst one seen. ExactConfig projects to the float64 floor (max marginal
// error ≤ 1e-13, birkhoff.Exact) and back-propagates with the implicit
// gradient, which costs one n×n Cholesky solve instead of 40 unrolled
// normalisations. Near the identity, the unrolled 20-sweep gradient differs
// from the true gradient of the projection by about 100% (birkhoff tests).
//
// # DeepSeek-V4's production form
//
// DeepSeekV4Config (Config.Form = DeepSeekV4) is the formula DeepSeek-V4
// ships: h_pre = σ(·) + ε, a softmax of each column of H̃_res plus ε (a
// row-softmax in PyTorch's layout), one row normalisation, then 19 rounds
// of column and row normalisations, each denominator the sum + ε
// (ε = 1e-6); backward through the unrolled rounds. Its comb matrix is
// H_resᵀ, and its comb logits and biases map to this package's transposed
// (see DeepSeekV4Config for the exact index mapping). MaxDeviation reports
// its row and column gaps as it does Fixed-20's.
//
// # Init
//
// The paper gives no init for b_* and φ_*; the reference code's choice is
// the default: φ = 0, b_res 0 on the diagonal and −8 off it, b_pre = b_post
// = +1 on the home stream (layer mod n) and −1 elsewhere, gates α = 0.01. At
// n = 4 that gives H_res with diagonal 0.998995 and off-diagonal 3.351e-4,
// h_pre 0.73106 / 0.26894 and h_post 1.46212 / 0.53788.
//
// # Cost per token
//
// The head: (2n + n²)·nC multiply-adds forward, twice that backward (at n = 4,
// C = 256: 24·1024). The projection: n² exponentials plus 40·n² operations
// (Fixed-20) or a few n³ Newton steps (Exact); backward 40·n² multiplies to
// rebuild the sweeps from the tape's record (birkhoff.ProjectFixed keeps the
// kernel and the 40 normalisation factors, 1 + n² + 40·n values per token)
// plus 40·n² for the unrolled adjoint, or one n³ solve (implicit). With
// float32 products (hc.Float32Products, on in float32 networks) the head's
// three products run in float32. The mixing itself is done by hc.Layer.
// Nothing allocates in steady state.
package mhc
