// Package idhc is identity Hyper-Connections: the residual matrix is the
// identity, H_res = I, exactly and at every step of training, while h_pre
// and h_post stay dynamic as in mHC. It is the baseline that the 2026
// mixers are compared against (an ablation of mHC's conference version and
// a component of later models): streams are never mixed, so the forward
// signal and the gradient of the residual path are carried unchanged
// through any depth, and what a constrained H_res adds over it is the
// mixing alone.
//
// # Equations
//
// For one token with streams X ∈ R^{n×C} (row i = stream i), with
// x̂ = RMSNorm(vec(X)) over all nC values:
//
//	h_pre  = sigmoid(α_pre·x̂φ_pre + b_pre)            ∈ R^n
//	h_post = 2·sigmoid(α_post·x̂φ_post + b_post)       ∈ R^n
//	H_res  = I
//	X'     = H_res·X + h_postᵀ·F(h_pre·X) = X + h_postᵀ·F(h_pre·X)
//
// H_res has no parameters and no gradient: it is written as the constant
// 1.0 on the diagonal and 0 elsewhere, never computed, so it is I bit for
// bit whatever the parameters and the data.
//
// # Init
//
// As mHC's head (reference code): φ = 0, b_pre = b_post = +1 on the home
// stream (layer mod n) and −1 elsewhere, gates α = 0.01: h_pre 0.73106 /
// 0.26894 and h_post 1.46212 / 0.53788.
//
// # Cost per token
//
// The head only: 2n·nC multiply-adds forward and twice that backward; float32
// products and float32 storage of Φ as the other coefficient-head mixers
// (internal/shell). Nothing allocates in steady state.
package idhc
