package hc

import (
	"fmt"

	"github.com/hyperconn/hyperconn/internal/f64"
	"github.com/hyperconn/hyperconn/internal/rms"
)

// The dynamic part of HC over a chunk of T tokens. Row r = t·n + i of the
// T·n×C matrix X is stream i of token t, x̄ = ρ·x its RMS norm with
// ρ = 1/√(x·x/C + ε), and the logits of the row are
//
//	z = x̄·W = ρ·(x·W),   W = [W_beta W_m W_r]   (C×(n+2)):
//
// column 0 feeds h_post, column 1 h_pre and columns 2..n+1 row i of H_resᵀ.
// X̄ is never formed: one pass over x (f64.SqDots) gives x·x and the n+2
// products x·w_j, which ρ then scales. The tape keeps ρ and z. Backward,
// with ∂z the gradient of the row's logits and g = ρ·∂z,
//
//	∂W += x̄ᵀ·∂z = xᵀ·g                (f64.Ger, for the n rows of a token)
//	∂x += ρ·(W·∂z) − ρ³·(x·W·∂z)/C·x
//	    = W·g − ρ·(z·g)/C·x            (f64.AddCombination),
//
// since x·W·∂z = (z·∂z)/ρ: the norm's backward needs only a dot product of
// n+2 values. Every row is computed on its own, so a token's results do not
// depend on the chunk it is in, nor its position there.

// packWeights copies the columns of W = [W_beta W_m W_r] into the rows of
// w.wt (W transposed, (n+2)×C).
func (w *hcWorker) packWeights() {
	h := w.h
	n, c := h.n, h.c
	copy(w.wt[:c], h.wb.Value)
	copy(w.wt[c:2*c], h.wm.Value)
	wr := h.wr.Value
	for j := range n {
		row := w.wt[(2+j)*c : (3+j)*c]
		for k := range row {
			row[k] = wr[k*n+j]
		}
	}
}

// ForwardChunk implements ChunkWorker: Forward for tokens consecutive
// tokens. A token's tape is as Forward's: 1/rms of each stream; tanh of the
// n h_post logits, the n h_pre logits and the n² H_res logits; then the
// n·(n+2) logits z themselves, row by row.
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
	w.packWeights()
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		inv, tb, tm, tr, z := rec[:n], rec[n:2*n], rec[2*n:3*n], rec[3*n:3*n+nn], rec[3*n+nn:]
		p, q, rs := pre[t*n:(t+1)*n], post[t*n:(t+1)*n], res[t*nn:(t+1)*nn]
		for i := range n {
			r := t*n + i
			zr := z[i*m : (i+1)*m]
			ss := f64.SqDots(zr, x[r*c:(r+1)*c], w.wt)
			rho := rms.Inv(ss, x[r*c:(r+1)*c], c, normEps)
			inv[i] = rho
			for j := range zr {
				zr[j] *= rho
			}
			if !f64.AllFinite(zr) {
				// x·W overflowed, or 1/rms is not normal: tanh would hide
				// an infinity behind ±1.
				return fmt.Errorf("hc: token %d, stream %d: ρ·x·W = %v: %w", t, i, zr, ErrNotFinite)
			}
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
// tokens laid out as in ForwardChunk. Row by row it forms g = ρ·∂z from
// the coefficients' gradients and the tape, adds xᵀ·g to the private ∂W and
// W·g − ρ·(z·g)/C·x to dx.
func (w *hcWorker) BackwardChunk(dx, x, tape, dpre, dpost, dres []float64, tokens int) {
	h := w.h
	n, nn := h.n, h.n*h.n
	if !w.gradsSet && h.dynamic {
		// The first chunk after a Flush starts the private ∂W afresh.
		clear(w.gwt)
	}
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
		return
	}
	c, m, tl := h.c, n+2, h.tapeLen
	w.packWeights()
	gsa, gsb := w.grads[len(w.grads)-2], w.grads[len(w.grads)-1]
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		inv, tb, tm, tr, z := rec[:n], rec[n:2*n], rec[2*n:3*n], rec[3*n:3*n+nn], rec[3*n+nn:]
		dp, dq, dr := dpre[t*n:(t+1)*n], dpost[t*n:(t+1)*n], dres[t*nn:(t+1)*nn]
		xt := x[t*n*c : (t+1)*n*c]
		for i := range n {
			g := w.g[i*m : (i+1)*m]
			gsb[0] += dq[i] * tb[i]
			gsa[0] += dp[i] * tm[i]
			g[0] = dq[i] * sb * w.dact(tb[i])
			g[1] = dp[i] * sa * w.dact(tm[i])
			for j := range n {
				v := tr[i*n+j]
				gsa[0] += dr[j*n+i] * v
				g[2+j] = dr[j*n+i] * sa * w.dact(v)
			}
			rho := inv[i]
			var zg float64
			for j, zj := range z[i*m : (i+1)*m] {
				g[j] *= rho
				zg += zj * g[j]
			}
			r := t*n + i
			if rms.Tiny(rho) {
				// −ρ·zg/C·x with ρ² underflowing: zg carries one ρ (g
				// does), so form (−zg/C)·(ρ·x).
				f64.AddCombination(dx[r*c:(r+1)*c], 0, xt[i*c:(i+1)*c], g, w.wt)
				a := -zg / float64(c)
				for k, v := range xt[i*c : (i+1)*c] {
					dx[r*c+k] += a * (rho * v)
				}
				continue
			}
			f64.AddCombination(dx[r*c:(r+1)*c], -rho*zg/float64(c), xt[i*c:(i+1)*c], g, w.wt)
		}
		f64.Ger(w.gwt, w.g, xt, n)
	}
}
