package hc

import (
	"math"

	"gonum.org/v1/gonum/blas"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

// refChunk is the dynamic HC chunk as it was before the fused kernels of
// hc_chunk.go: X̄ materialised row by row with a plain dot and scale, the
// three products X̄·W, X̄ᵀ·∂Z and ∂Z·Wᵀ through gemm, and the RMS norm's
// backward row by row. BenchmarkChunk times it beside the current code.
// It uses only the first 3n + n² values of a token's tape.
type refChunk struct {
	h                   *HC
	xbar, dxbar, z      []float64
	wcat, gw            []float64
	gb, gam, gar, gs, g []float64
}

func newRefChunk(h *HC, rows int) *refChunk {
	c, m := h.c, h.n+2
	return &refChunk{h: h, xbar: make([]float64, rows*c), dxbar: make([]float64, rows*c),
		z: make([]float64, rows*m), wcat: make([]float64, c*m), gw: make([]float64, c*m),
		gb: make([]float64, h.n), gam: make([]float64, h.n), gar: make([]float64, h.n*h.n),
		gs: make([]float64, 2)}
}

func (w *refChunk) pack() {
	h := w.h
	n, m := h.n, h.n+2
	for k := range h.c {
		row := w.wcat[k*m : (k+1)*m]
		row[0] = h.wb.Value[k]
		row[1] = h.wm.Value[k]
		copy(row[2:], h.wr.Value[k*n:(k+1)*n])
	}
}

func (w *refChunk) normalize(tape, x []float64, tokens, tl int, record bool) {
	n, c := w.h.n, w.h.c
	for t := range tokens {
		inv := tape[t*tl : t*tl+n]
		for i := range n {
			r := t*n + i
			xi := x[r*c : (r+1)*c]
			if record {
				inv[i] = 1 / math.Sqrt(refDot(xi, xi)/float64(c)+normEps)
			}
			for k, v := range xi {
				w.xbar[r*c+k] = inv[i] * v
			}
		}
	}
}

func (w *refChunk) act(z float64) float64 {
	if w.h.applyTanh {
		return math.Tanh(z)
	}
	return z
}

func (w *refChunk) dact(t float64) float64 {
	if w.h.applyTanh {
		return 1 - t*t
	}
	return 1
}

func (w *refChunk) forward(pre, post, res, tape, x []float64, tokens, tl int) {
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
	c, m := h.c, n+2
	rows := tokens * n
	w.pack()
	w.normalize(tape, x, tokens, tl, true)
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
}

func (w *refChunk) backward(dx, x, tape, dpre, dpost, dres []float64, tokens, tl int) {
	h := w.h
	n, nn := h.n, h.n*h.n
	for t := range tokens {
		dp, dq, dr := dpre[t*n:(t+1)*n], dpost[t*n:(t+1)*n], dres[t*nn:(t+1)*nn]
		for i := range n {
			w.gb[i] += dq[i]
			w.gam[i] += dp[i]
			for j := range n {
				w.gar[i*n+j] += dr[j*n+i]
			}
		}
	}
	c, m := h.c, n+2
	rows := tokens * n
	w.pack()
	w.normalize(tape, x, tokens, tl, false)
	sa, sb := h.sAlpha.Value[0], h.sBeta.Value[0]
	dz := w.z[:rows*m]
	for t := range tokens {
		rec := tape[t*tl : (t+1)*tl]
		tb, tm, tr := rec[n:2*n], rec[2*n:3*n], rec[3*n:3*n+nn]
		dp, dq, dr := dpre[t*n:(t+1)*n], dpost[t*n:(t+1)*n], dres[t*nn:(t+1)*nn]
		for i := range n {
			d := dz[(t*n+i)*m : (t*n+i+1)*m]
			w.gs[1] += dq[i] * tb[i]
			w.gs[0] += dp[i] * tm[i]
			d[0] = dq[i] * sb * w.dact(tb[i])
			d[1] = dp[i] * sa * w.dact(tm[i])
			for j := range n {
				v := tr[i*n+j]
				w.gs[0] += dr[j*n+i] * v
				d[2+j] = dr[j*n+i] * sa * w.dact(v)
			}
		}
	}
	xbar, dxbar := w.xbar[:rows*c], w.dxbar[:rows*c]
	gemm.Mul(blas.Trans, blas.NoTrans, c, m, rows, 1, xbar, c, dz, m, 1, w.gw, m)
	gemm.Mul(blas.NoTrans, blas.Trans, rows, c, m, 1, dz, m, w.wcat, m, 0, dxbar, c)
	for t := range tokens {
		inv := tape[t*tl : t*tl+n]
		for i := range n {
			r := t*n + i
			xb, dxb := xbar[r*c:(r+1)*c], dxbar[r*c:(r+1)*c]
			proj := refDot(xb, dxb) / float64(c)
			dxi := dx[r*c : (r+1)*c]
			for k, v := range dxb {
				dxi[k] += (v - xb[k]*proj) * inv[i]
			}
		}
	}
}

// refDot returns x·y, summed in order.
func refDot(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}
