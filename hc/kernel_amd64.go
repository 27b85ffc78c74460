//go:build !purego

package hc

import "github.com/hyperconn/hyperconn/internal/cpu"

// useAVX reports whether the AVX kernels of kernel_amd64.s may run (they
// need nothing newer: no AVX2, no FMA). Tests clear it to run the pure-Go
// kernels.
var useAVX = cpu.AVX

// read4AVX sets dst = Σ_i pre[i]·x_i for 4 rows of length c.
//
//go:noescape
func read4AVX(dst, pre, x *float64, c int)

// write4AVX sets row i of dst to post[i]·f + Σ_j res[4i+j]·x_j.
//
//go:noescape
func write4AVX(dst, post, res, x, f *float64, c int)

// writeBack4AVX is writeBackMix for n = 4.
//
//go:noescape
func writeBack4AVX(dx, df, dpost, dres, post, res, x, f, dout *float64, c int)

// readBack4AVX is readBackMix for n = 4.
//
//go:noescape
func readBack4AVX(dx, dpre, pre, x, din *float64, c int)

// combAVX sets dst = a0·v0 + Σ_{t<m} a[t·astride]·x_t; a nil v0 drops the
// first term.
//
//go:noescape
func combAVX(dst *float64, c int, a0 float64, v0, a *float64, astride int, x *float64, m int)

// asmCombine runs combine with AVX, if available, and reports whether it
// did. The slicing checks every length before the assembly runs.
func asmCombine(dst []float64, a0 float64, v0 []float64, a []float64, stride int, x []float64, m int) bool {
	c := len(dst)
	if !useAVX || c == 0 || m < 1 || stride < 1 {
		return false
	}
	a, x = a[:(m-1)*stride+1], x[:m*c]
	var pv0 *float64
	if v0 != nil {
		pv0 = &v0[:c][0]
	}
	combAVX(&dst[0], c, a0, pv0, &a[0], stride, &x[0], m)
	return true
}

// asmRead4 runs readMix for n = 4 with AVX, if available, and reports
// whether it did. The slicing checks every length before the assembly runs.
func asmRead4(dst, pre, x []float64) bool {
	c := len(dst)
	if !useAVX || c == 0 {
		return false
	}
	pre, x = pre[:4], x[:4*c]
	read4AVX(&dst[0], &pre[0], &x[0], c)
	return true
}

// asmWrite4 runs writeMix for n = 4 with AVX, if available, and reports
// whether it did.
func asmWrite4(dst, post, res, x, f []float64) bool {
	c := len(f)
	if !useAVX || c == 0 {
		return false
	}
	dst, post, res, x = dst[:4*c], post[:4], res[:16], x[:4*c]
	write4AVX(&dst[0], &post[0], &res[0], &x[0], &f[0], c)
	return true
}

// asmWriteBack4 runs writeBackMix for n = 4 with AVX, if available, and
// reports whether it did.
func asmWriteBack4(dx, df, dpost, dres, post, res, x, f, dout []float64) bool {
	c := len(f)
	if !useAVX || c == 0 {
		return false
	}
	dx, df, dpost, dres = dx[:4*c], df[:c], dpost[:4], dres[:16]
	post, res, x, dout = post[:4], res[:16], x[:4*c], dout[:4*c]
	writeBack4AVX(&dx[0], &df[0], &dpost[0], &dres[0], &post[0], &res[0], &x[0], &f[0], &dout[0], c)
	return true
}

// asmReadBack4 runs readBackMix for n = 4 with AVX, if available, and
// reports whether it did.
func asmReadBack4(dx, dpre, pre, x, din []float64) bool {
	c := len(din)
	if !useAVX || c == 0 {
		return false
	}
	dx, dpre, pre, x = dx[:4*c], dpre[:4], pre[:4], x[:4*c]
	readBack4AVX(&dx[0], &dpre[0], &pre[0], &x[0], &din[0], c)
	return true
}
