package net

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/floats"

	"github.com/hyperconn/hyperconn/internal/gemm"
	"github.com/hyperconn/hyperconn/internal/head"
	"github.com/hyperconn/hyperconn/mhc"
)

// merge is the stream-merging head of DeepSeek-V4's mHC, the network's
// reduce when Config.Reduce is ReduceMerge (ReduceSum sums the streams,
// hc.Reduce). For a row's streams X (n×C), with the RMS taken over
// all n·C values and no learned gain, as the mixers' coefficient head:
//
//	x̂   = vec(X)/√(mean(vec(X)²) + head.Eps)
//	w   = σ(α·x̂φ + b) + ε                 φ ∈ R^{nC×n}, ε = mhc.DefaultEps
//	red = Σ_i w_i·X_i                      (C values)
//
// φ is stored transposed (n×nC, "merge.phi"), α is "merge.alpha" (init
// head.DefaultGate, no decay) and b "merge.b" (init 0, no decay), so at init
// every stream has the weight σ(0) + ε = 0.5 + 1e-6. Its parameters stay
// float64 in a float32 network, like the mixers'.
type merge struct {
	n, c       int
	phi, alpha *Param
	bias       *Param
	inv, y, s  []float64 // per row: 1/RMS; rows×n: x·φᵀ and σ(α·inv·y + b)
	dys        []float64 // rows×n: ∂L/∂y
}

func newMerge(n, c int) *merge {
	return &merge{n: n, c: c,
		phi:   &Param{Name: "phi", Value: make([]float64, n*n*c), Grad: make([]float64, n*n*c)},
		alpha: &Param{Name: "alpha", Value: []float64{head.DefaultGate}, Grad: make([]float64, 1), NoDecay: true},
		bias:  &Param{Name: "b", Value: make([]float64, n), Grad: make([]float64, n), NoDecay: true},
	}
}

// params returns phi, alpha and b.
func (g *merge) params() []*Param { return []*Param{g.phi, g.alpha, g.bias} }

// grow sizes the per-row buffers for rows rows.
func (g *merge) grow(rows int) {
	if len(g.inv) >= rows {
		return
	}
	g.inv = make([]float64, rows)
	g.y, g.s = make([]float64, rows*g.n), make([]float64, rows*g.n)
	g.dys = make([]float64, rows*g.n)
}

// forward writes red (rows×C) from the streams x (rows×n×C).
func (g *merge) forward(red, x []float64, rows int) {
	n, c, nc := g.n, g.c, g.n*g.c
	g.grow(rows)
	gemm.Mul(blas.NoTrans, blas.Trans, rows, n, nc, 1, x, nc, g.phi.Value, nc, 0, g.y, n)
	a, b := g.alpha.Value[0], g.bias.Value
	for t := range rows {
		xt := x[t*nc : (t+1)*nc]
		inv := 1 / math.Sqrt(floats.Dot(xt, xt)/float64(nc)+head.Eps)
		g.inv[t] = inv
		d := red[t*c : (t+1)*c]
		clear(d)
		for i := range n {
			s := sigmoid(a*inv*g.y[t*n+i] + b[i])
			g.s[t*n+i] = s
			floats.AddScaled(d, s+mhc.DefaultEps, xt[i*c:(i+1)*c])
		}
	}
}

// backward writes ∂L/∂x into dx (rows×n×C) given dred = ∂L/∂red and the
// streams x of the last forward, and adds the parameters' gradients.
func (g *merge) backward(dx, dred, x []float64, rows int) {
	n, c, nc := g.n, g.c, g.n*g.c
	a := g.alpha.Value[0]
	for t := range rows {
		xt, dt := x[t*nc:(t+1)*nc], dred[t*c:(t+1)*c]
		inv := g.inv[t]
		var r float64 // ∂L/∂inv = Σ_i ∂z_i·α·y_i
		for i := range n {
			s := g.s[t*n+i]
			// red = Σ w_i X_i: ∂w_i = ⟨∂red, X_i⟩, ∂X_i = w_i·∂red.
			dw := floats.Dot(dt, xt[i*c:(i+1)*c])
			dxi := dx[t*nc+i*c : t*nc+(i+1)*c]
			for k, v := range dt {
				dxi[k] = (s + mhc.DefaultEps) * v
			}
			// w = σ(z) + ε, z = α·inv·y + b.
			dz := dw * s * (1 - s)
			y := g.y[t*n+i]
			g.alpha.Grad[0] += dz * inv * y
			g.bias.Grad[i] += dz
			g.dys[t*n+i] = a * inv * dz
			r += dz * a * y
		}
		// inv = (mean(x²) + ε)^(−1/2): ∂inv/∂x = −inv³·x/(nC).
		floats.AddScaled(dx[t*nc:(t+1)*nc], -r*inv*inv*inv/float64(nc), xt)
	}
	// y = x·φᵀ: ∂φ += ∂yᵀ·x, ∂x += ∂y·φ.
	gemm.Mul(blas.Trans, blas.NoTrans, n, nc, rows, 1, g.dys[:rows*n], n, x, nc, 1, g.phi.Grad, nc)
	gemm.Mul(blas.NoTrans, blas.NoTrans, rows, nc, n, 1, g.dys[:rows*n], n, g.phi.Value, nc, 1, dx, nc)
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}
