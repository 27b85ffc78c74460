package hc

// The per-token mixing of a Layer: for one token with n streams x_0 … x_{n−1}
// of width C (row i at x[i*C:(i+1)*C]),
//
//	readMix       dst = Σ_i pre[i]·x_i
//	writeMix      y_i = post[i]·f + Σ_j res[i*n+j]·x_j
//	writeBackMix  dx_j = Σ_i res[i*n+j]·dy_i,  df = Σ_i post[i]·dy_i,
//	              dpost[i] = dy_i·f,  dres[i*n+j] = dy_i·x_j
//	readBackMix   dpre[i] = din·x_i,  dx_i += pre[i]·din
//
// Written as n or n² separate axpy and dot loops of length C, these are
// bound by loads, stores and the latency of one running sum at a time. The
// pure-Go kernels below instead stream several rows through one loop over
// the columns, keeping up to five running sums in registers, in blocks of
// four rows. On amd64 with AVX the assembly of kernel_amd64.s takes over,
// four columns or four rows per instruction: all four functions for n = 4
// (the depth-32 network's), the combinations (combine) for every n. The
// purego build tag turns it off.
//
// Every output element is summed in the same order, with the same roundings,
// as the plain loops: a combination starts with its first product and adds
// one product at a time in increasing i (or j); a dot product adds one
// product at a time in increasing column, starting from +0. Nothing is fused
// into an FMA: the assembly has none, and the Go code converts every product
// with float64(·), which the Go spec defines to round, so that no compiler
// may fuse it (gc does for x*y + z on arm64 and with GOAMD64=v3). So the
// assembly, the pure-Go kernels and the plain loops agree bit for bit, on
// every machine and build; kernel_test.go checks that for many n and C.
// In particular, coefficients of exactly 0 and 1 (HC at init, H_res a
// permutation) give the exact copies and sums the conformance suite expects.

// readMix sets dst = Σ_i pre[i]·x_i, summed in order of i, where x holds
// len(pre) rows of length len(dst). dst must not alias x.
func readMix(dst, pre, x []float64) {
	switch {
	case len(pre) == 4 && asmRead4(dst, pre, x):
	case len(pre) == 1 && !useAVX: // spare the plain residual combine's dispatch
		scaleTo(dst, pre[0], x[:len(dst)])
	default:
		combine(dst, 0, nil, pre, 1, x, len(pre))
	}
}

// writeMix sets row i of dst (n×C, n = len(post)) to
// post[i]·f + Σ_j res[i*n+j]·x_j, the sum taken in order of j after the
// product with f. dst must not alias x or f.
func writeMix(dst, post, res, x, f []float64) {
	n, c := len(post), len(f)
	switch {
	case n == 4 && asmWrite4(dst, post, res, x, f):
	case n == 4:
		writeMix4(dst, post, res, x, f)
	default:
		for i := range n {
			combine(dst[i*c:(i+1)*c], post[i], f, res[i*n:(i+1)*n], 1, x, n)
		}
	}
}

// writeBackMix is the backward pass of writeMix, given dout = ∂L/∂y (n×C,
// n = len(post)): it sets dx_j = Σ_i res[i*n+j]·dout_i and
// df = Σ_i post[i]·dout_i (both summed in order of i), dpost[i] = dout_i·f
// and dres[i*n+j] = dout_i·x_j. dx and df must not alias the inputs.
func writeBackMix(dx, df, dpost, dres, post, res, x, f, dout []float64) {
	n, c := len(post), len(f)
	if n == 4 && asmWriteBack4(dx, df, dpost, dres, post, res, x, f, dout) {
		return
	}
	for j := range n {
		combine(dx[j*c:(j+1)*c], 0, nil, res[j:], n, dout, n)
	}
	combine(df, 0, nil, post, 1, dout, n)
	for i := range n {
		dots(dpost[i:i+1], dres[i*n:(i+1)*n], dout[i*c:(i+1)*c], f, x)
	}
}

// readBackMix is the backward pass of readMix, given din = ∂L/∂dst: it sets
// dpre[i] = din·x_i and adds pre[i]·din to row i of dx (n×C, n = len(pre)).
// dx must not alias din or x.
func readBackMix(dx, dpre, pre, x, din []float64) {
	n, c := len(pre), len(din)
	if n == 4 && asmReadBack4(dx, dpre, pre, x, din) {
		return
	}
	i := 0
	for ; i+4 <= n; i += 4 {
		d, xs := dx[i*c:(i+4)*c], x[i*c:(i+4)*c]
		dpre[i], dpre[i+1], dpre[i+2], dpre[i+3] = dotAxpy4(
			d[:c], d[c:2*c], d[2*c:3*c], d[3*c:],
			pre[i], pre[i+1], pre[i+2], pre[i+3],
			xs[:c], xs[c:2*c], xs[2*c:3*c], xs[3*c:], din)
	}
	for ; i < n; i++ {
		dpre[i] = dotAxpy(dx[i*c:(i+1)*c], pre[i], x[i*c:(i+1)*c], din)
	}
}

// combine sets dst = a0·v0 + Σ_i a[i*stride]·x_i, where x holds m ≥ 1 rows
// of length len(dst). A nil v0 drops the first term. The sum is taken left
// to right, one product at a time.
func combine(dst []float64, a0 float64, v0 []float64, a []float64, stride int, x []float64, m int) {
	if asmCombine(dst, a0, v0, a, stride, x, m) {
		return
	}
	c := len(dst)
	row := func(i int) []float64 { return x[i*c : (i+1)*c] }
	coef := func(i int) float64 { return a[i*stride] }
	// The first block sets dst from up to five terms.
	i := min(m, 4)
	switch {
	case v0 == nil && i == 1:
		scaleTo(dst, coef(0), row(0))
	case v0 == nil && i == 2:
		lin2(dst, coef(0), coef(1), row(0), row(1))
	case v0 == nil && i == 3:
		lin3(dst, coef(0), coef(1), coef(2), row(0), row(1), row(2))
	case v0 == nil:
		lin4(dst, coef(0), coef(1), coef(2), coef(3), row(0), row(1), row(2), row(3))
	case i == 1:
		lin2(dst, a0, coef(0), v0, row(0))
	case i == 2:
		lin3(dst, a0, coef(0), coef(1), v0, row(0), row(1))
	case i == 3:
		lin4(dst, a0, coef(0), coef(1), coef(2), v0, row(0), row(1), row(2))
	default:
		lin5(dst, a0, coef(0), coef(1), coef(2), coef(3), v0, row(0), row(1), row(2), row(3))
	}
	// Then four, two or one more at a time.
	for ; i+4 <= m; i += 4 {
		acc4(dst, coef(i), coef(i+1), coef(i+2), coef(i+3), row(i), row(i+1), row(i+2), row(i+3))
	}
	if i+2 <= m {
		acc2(dst, coef(i), coef(i+1), row(i), row(i+1))
		i += 2
	}
	if i < m {
		acc1(dst, coef(i), row(i))
	}
}

// dots sets d0[0] = g·v0 and d[j] = g·x_j for the len(d) rows x_j of x
// (length len(g) each), every product summed in order of the columns.
func dots(d0, d, g, v0, x []float64) {
	c, m := len(g), len(d)
	row := func(i int) []float64 { return x[i*c : (i+1)*c] }
	if m == 4 {
		d0[0], d[0], d[1], d[2], d[3] = dot5(g, v0, row(0), row(1), row(2), row(3))
		return
	}
	d0[0] = dot1(g, v0)
	i := 0
	for ; i+4 <= m; i += 4 {
		d[i], d[i+1], d[i+2], d[i+3] = dot4(g, row(i), row(i+1), row(i+2), row(i+3))
	}
	if i+2 <= m {
		d[i], d[i+1] = dot2(g, row(i), row(i+1))
		i += 2
	}
	if i < m {
		d[i] = dot1(g, row(i))
	}
}

// writeMix4 is writeMix in pure Go for n = 4: one pass over the columns
// computes all four rows.
func writeMix4(dst, post, res, x, f []float64) {
	c := len(f)
	x0, x1, x2, x3 := x[:c], x[c : 2*c][:c], x[2*c : 3*c][:c], x[3*c : 4*c][:c]
	y0, y1, y2, y3 := dst[:c], dst[c : 2*c][:c], dst[2*c : 3*c][:c], dst[3*c : 4*c][:c]
	post, res = post[:4], res[:16]
	for k, fk := range f {
		a, b, d, e := x0[k], x1[k], x2[k], x3[k]
		s := float64(post[0] * fk)
		s += float64(res[0] * a)
		s += float64(res[1] * b)
		s += float64(res[2] * d)
		s += float64(res[3] * e)
		y0[k] = s
		s = float64(post[1] * fk)
		s += float64(res[4] * a)
		s += float64(res[5] * b)
		s += float64(res[6] * d)
		s += float64(res[7] * e)
		y1[k] = s
		s = float64(post[2] * fk)
		s += float64(res[8] * a)
		s += float64(res[9] * b)
		s += float64(res[10] * d)
		s += float64(res[11] * e)
		y2[k] = s
		s = float64(post[3] * fk)
		s += float64(res[12] * a)
		s += float64(res[13] * b)
		s += float64(res[14] * d)
		s += float64(res[15] * e)
		y3[k] = s
	}
}

// lin2 sets dst = a0·v0 + a1·v1.
func lin2(dst []float64, a0, a1 float64, v0, v1 []float64) {
	v0, v1 = v0[:len(dst)], v1[:len(dst)]
	for k := range dst {
		s := float64(a0 * v0[k])
		s += float64(a1 * v1[k])
		dst[k] = s
	}
}

// lin3 sets dst = a0·v0 + a1·v1 + a2·v2.
func lin3(dst []float64, a0, a1, a2 float64, v0, v1, v2 []float64) {
	v0, v1, v2 = v0[:len(dst)], v1[:len(dst)], v2[:len(dst)]
	for k := range dst {
		s := float64(a0 * v0[k])
		s += float64(a1 * v1[k])
		s += float64(a2 * v2[k])
		dst[k] = s
	}
}

// lin4 sets dst = a0·v0 + a1·v1 + a2·v2 + a3·v3.
func lin4(dst []float64, a0, a1, a2, a3 float64, v0, v1, v2, v3 []float64) {
	v0, v1, v2, v3 = v0[:len(dst)], v1[:len(dst)], v2[:len(dst)], v3[:len(dst)]
	for k := range dst {
		s := float64(a0 * v0[k])
		s += float64(a1 * v1[k])
		s += float64(a2 * v2[k])
		s += float64(a3 * v3[k])
		dst[k] = s
	}
}

// lin5 sets dst = a0·v0 + a1·v1 + a2·v2 + a3·v3 + a4·v4.
func lin5(dst []float64, a0, a1, a2, a3, a4 float64, v0, v1, v2, v3, v4 []float64) {
	v0, v1, v2, v3, v4 = v0[:len(dst)], v1[:len(dst)], v2[:len(dst)], v3[:len(dst)], v4[:len(dst)]
	for k := range dst {
		s := float64(a0 * v0[k])
		s += float64(a1 * v1[k])
		s += float64(a2 * v2[k])
		s += float64(a3 * v3[k])
		s += float64(a4 * v4[k])
		dst[k] = s
	}
}

// acc1 adds a0·v0 to dst.
func acc1(dst []float64, a0 float64, v0 []float64) {
	v0 = v0[:len(dst)]
	for k, s := range dst {
		s += float64(a0 * v0[k])
		dst[k] = s
	}
}

// acc2 adds a0·v0 and then a1·v1 to dst.
func acc2(dst []float64, a0, a1 float64, v0, v1 []float64) {
	v0, v1 = v0[:len(dst)], v1[:len(dst)]
	for k, s := range dst {
		s += float64(a0 * v0[k])
		s += float64(a1 * v1[k])
		dst[k] = s
	}
}

// acc4 adds a0·v0, a1·v1, a2·v2 and a3·v3 to dst, in that order.
func acc4(dst []float64, a0, a1, a2, a3 float64, v0, v1, v2, v3 []float64) {
	v0, v1, v2, v3 = v0[:len(dst)], v1[:len(dst)], v2[:len(dst)], v3[:len(dst)]
	for k, s := range dst {
		s += float64(a0 * v0[k])
		s += float64(a1 * v1[k])
		s += float64(a2 * v2[k])
		s += float64(a3 * v3[k])
		dst[k] = s
	}
}

// dot1 returns g·v0.
func dot1(g, v0 []float64) (s0 float64) {
	v0 = v0[:len(g)]
	for k, gk := range g {
		s0 += float64(gk * v0[k])
	}
	return s0
}

// dot2 returns g·v0 and g·v1.
func dot2(g, v0, v1 []float64) (s0, s1 float64) {
	v0, v1 = v0[:len(g)], v1[:len(g)]
	for k, gk := range g {
		s0 += float64(gk * v0[k])
		s1 += float64(gk * v1[k])
	}
	return s0, s1
}

// dot4 returns g·v0, g·v1, g·v2 and g·v3.
func dot4(g, v0, v1, v2, v3 []float64) (s0, s1, s2, s3 float64) {
	v0, v1, v2, v3 = v0[:len(g)], v1[:len(g)], v2[:len(g)], v3[:len(g)]
	for k, gk := range g {
		s0 += float64(gk * v0[k])
		s1 += float64(gk * v1[k])
		s2 += float64(gk * v2[k])
		s3 += float64(gk * v3[k])
	}
	return s0, s1, s2, s3
}

// dot5 returns g·v0, g·v1, g·v2, g·v3 and g·v4.
func dot5(g, v0, v1, v2, v3, v4 []float64) (s0, s1, s2, s3, s4 float64) {
	v0, v1, v2, v3, v4 = v0[:len(g)], v1[:len(g)], v2[:len(g)], v3[:len(g)], v4[:len(g)]
	for k, gk := range g {
		s0 += float64(gk * v0[k])
		s1 += float64(gk * v1[k])
		s2 += float64(gk * v2[k])
		s3 += float64(gk * v3[k])
		s4 += float64(gk * v4[k])
	}
	return s0, s1, s2, s3, s4
}

// dotAxpy returns din·x and adds a·din to dst.
func dotAxpy(dst []float64, a float64, x, din []float64) (s float64) {
	x, din = x[:len(dst)], din[:len(dst)]
	for k, v := range din {
		s += float64(v * x[k])
		dst[k] += float64(a * v)
	}
	return s
}

// dotAxpy4 returns din·x_i and adds a_i·din to d_i, for i = 0 … 3.
func dotAxpy4(d0, d1, d2, d3 []float64, a0, a1, a2, a3 float64,
	x0, x1, x2, x3, din []float64) (s0, s1, s2, s3 float64) {
	c := len(din)
	d0, d1, d2, d3 = d0[:c], d1[:c], d2[:c], d3[:c]
	x0, x1, x2, x3 = x0[:c], x1[:c], x2[:c], x3[:c]
	for k, v := range din {
		s0 += float64(v * x0[k])
		s1 += float64(v * x1[k])
		s2 += float64(v * x2[k])
		s3 += float64(v * x3[k])
		d0[k] += float64(a0 * v)
		d1[k] += float64(a1 * v)
		d2[k] += float64(a2 * v)
		d3[k] += float64(a3 * v)
	}
	return s0, s1, s2, s3
}
