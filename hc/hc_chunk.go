package hc

import (
	"math"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// The dynamic part of HC over a chunk of T tokens. Row r = t·n + i of the
// T·n×C matrix X̄ is x̄ = norm(x_i) of stream i of token t, and
//
//	Z = X̄·W,   W = [W_beta W_m W_r]   (C×(n+2))
//
// gives every logit of the chunk in one product: column 0 feeds h_post,
// column 1 h_pre and columns 2..n+1 row i of H_resᵀ. The backward pass is
// two more products, ∂W += X̄ᵀ·∂Z and ∂X̄ = ∂Z·Wᵀ, and the RMS norm's
// backward row by row. Every row of Z and ∂X̄ depends only on its own row
// of X̄ (or ∂Z), so a token's results do not depend on the chunk it is in
// (on gonum; OpenBLAS may round a row differently by its position).

// grow makes the per-row scratch hold rows rows of X̄, ∂X̄ and Z. It
// allocates only when a chunk is larger than every chunk before it.
func (w *hcWorker) grow(rows int) {
	c, m := w.h.c, w.h.n+2
	if len(w.xbar) < rows*c {
		w.xbar = make([]float64, rows*c)
		w.dxbar = make([]float64, rows*c)
		w.z = make([]float64, rows*m)
	}
}

// packWeights copies W_beta, W_m and W_r into the columns of w.wcat.
func (w *hcWorker) packWeights() {
	h := w.h
	n, m := h.n, h.n+2
	wb, wm, wr := h.wb.Value, h.wm.Value, h.wr.Value
	for k := range h.c {
		row := w.wcat[k*m : (k+1)*m]
		row[0] = wb[k]
		row[1] = wm[k]
		copy(row[2:], wr[k*n:(k+1)*n])
	}
}

// normalize writes X̄ for tokens tokens of x into w.xbar. When record is
// true it stores each stream's inverse RMS into the first n values of its
// token's tape; otherwise it reads them from there.
func (w *hcWorker) normalize(tape, x []float64, tokens int, record bool) {
	h := w.h
	n, c, tl := h.n, h.c, h.tapeLen
	for t := range tokens {
		inv := tape[t*tl : t*tl+n]
		for i := range n {
			r := t*n + i
			xi := x[r*c : (r+1)*c]
			if record {
				inv[i] = 1 / math.Sqrt(dot(xi, xi)/float64(c)+normEps)
			}
			scaleTo(w.xbar[r*c:(r+1)*c], inv[i], xi)
		}
	}
}

// ForwardChunk implements ChunkWorker: Forward for tokens consecutive
// tokens, with one product X̄·W for all the dynamic logits of the chunk.
// A token's tape is as Forward's: 1/rms of each stream, then tanh of the
// n h_post logits, the n h_pre logits and the n² H_res logits.
func (w *hcWorker) ForwardChunk(pre, post, res, tape, x []float64, tokens int) error {
	h := w.h
	n, nn := h.n, h.n*h.n
	b, am, ar := h.b.Value, h.am.Value, h.ar.Value
	for t := range tokens {
		p, q, rs := pre[t*n:(t+1)*n], post[t*n:(t+1)*n], res[t*nn:(t+1)*nn]
		for i := range n {
			q[i] = b[i]
			p[i] = am[i]
			for j := range n {
				rs[j*n+i] = ar[i*n+j]
			}
		}
	}
	if !h.dynamic || tokens == 0 {
		return nil
	}
	c, m, tl := h.c, n+2, h.tapeLen
	rows := tokens * n
	w.grow(rows)
	w.packWeights()
	w.normalize(tape, x, tokens, true)
	z := w.z[:rows*m]
	gemm.Mul(blas.NoTrans, blas.NoTrans, rows, m, c, 1, w.xbar, c, w.wcat, m, 0, z, m)
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		tb, tm, tr := rec[n:2*n], rec[2*n:3*n], rec[3*n:3*n+nn]
		p, q, rs := pre[t*n:(t+1)*n], post[t*n:(t+1)*n], res[t*nn:(t+1)*nn]
		for i := range n {
			zr := z[(t*n+i)*m : (t*n+i+1)*m]
			tb[i] = w.act(zr[0])
			tm[i] = w.act(zr[1])
			for j := range n {
				tr[i*n+j] = w.act(zr[2+j])
				rs[j*n+i] += sa * tr[i*n+j]
			}
			q[i] += sb * tb[i]
			p[i] += sa * tm[i]
		}
	}
	return nil
}

// BackwardChunk implements ChunkWorker: Backward for tokens consecutive
// tokens laid out as in ForwardChunk. It recomputes X̄ from x and the
// recorded 1/rms, accumulates ∂W += X̄ᵀ·∂Z and adds the gradient of
// ∂X̄ = ∂Z·Wᵀ through the RMS norm into dx.
func (w *hcWorker) BackwardChunk(dx, x, tape, dpre, dpost, dres []float64, tokens int) {
	h := w.h
	n, nn := h.n, h.n*h.n
	fresh := !w.gradsSet
	w.gradsSet = true
	gb, gam, gar := w.grads[0], w.grads[1], w.grads[2]
	for t := range tokens {
		dp, dq, dr := dpre[t*n:(t+1)*n], dpost[t*n:(t+1)*n], dres[t*nn:(t+1)*nn]
		for i := range n {
			gb[i] += dq[i]
			gam[i] += dp[i]
			for j := range n {
				gar[i*n+j] += dr[j*n+i]
			}
		}
	}
	if !h.dynamic || tokens == 0 {
		if fresh && h.dynamic {
			clear(w.gw)
		}
		return
	}
	c, m, tl := h.c, n+2, h.tapeLen
	rows := tokens * n
	w.grow(rows)
	w.packWeights()
	w.normalize(tape, x, tokens, false)
	gsa, gsb := w.grads[len(w.grads)-2], w.grads[len(w.grads)-1]
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	dz := w.z[:rows*m]
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		tb, tm, tr := rec[n:2*n], rec[2*n:3*n], rec[3*n:3*n+nn]
		dp, dq, dr := dpre[t*n:(t+1)*n], dpost[t*n:(t+1)*n], dres[t*nn:(t+1)*nn]
		for i := range n {
			d := dz[(t*n+i)*m : (t*n+i+1)*m]
			gsb[0] += dq[i] * tb[i]
			gsa[0] += dp[i] * tm[i]
			d[0] = dq[i] * sb * w.dact(tb[i])
			d[1] = dp[i] * sa * w.dact(tm[i])
			for j := range n {
				v := tr[i*n+j]
				gsa[0] += dr[j*n+i] * v
				d[2+j] = dr[j*n+i] * sa * w.dact(v)
			}
		}
	}
	// The first chunk after a Flush overwrites the private ∂W instead of
	// adding to zeros, so that Flush need not clear it.
	beta := 1.0
	if fresh {
		beta = 0
	}
	xbar, dxbar := w.xbar[:rows*c], w.dxbar[:rows*c]
	gemm.Mul(blas.Trans, blas.NoTrans, c, m, rows, 1, xbar, c, dz, m, beta, w.gw, m)
	gemm.Mul(blas.NoTrans, blas.Trans, rows, c, m, 1, dz, m, w.wcat, m, 0, dxbar, c)
	for t := range tokens {
		inv := tape[t*tl : t*tl+n]
		for i := range n {
			r := t*n + i
			xb, dxb := xbar[r*c:(r+1)*c], dxbar[r*c:(r+1)*c]
			proj := dot(xb, dxb) / float64(c)
			dxi := dx[r*c : (r+1)*c]
			for k, v := range dxb {
				dxi[k] += (v - xb[k]*proj) * inv[i]
			}
		}
	}
}
