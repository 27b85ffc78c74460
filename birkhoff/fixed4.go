package birkhoff

import "math"

// The n = 4 bodies of ProjectFixed and BackwardFixed in the scaling domain.
// sweeps4 and unroll4 run the AVX2 kernels of fixed4_amd64.s when the CPU
// has them, and otherwise their pure-Go twins sweeps4Go and unroll4Go,
// straight-line code on sixteen locals. Both keep every floating-point
// operation of fixed, normalize, unroll and Deviation, in the same order
// (multiplies, adds and divides only, no FMA), so they equal the general
// code bit for bit; TestFixed4Twins and TestProjectFixedBits check it.
//
// The forward's sums leave out the +0 the general code starts them from:
// the summands are never −0 (they are exponentials, and products of them
// with reciprocals of positive sums), and +0 + x = x for every other x. The
// backward keeps it: an upstream gradient may hold −0.

// fixed4 writes into p the Fixed projection of the logits z with as many
// sweeps as rec records, recording into rec, and returns its Deviation.
func fixed4(p *[16]float64, rec []float64, z *[16]float64) float64 {
	kernel4(p, z)
	rec[0] = recScaling
	copy(rec[1:17], p[:])
	sweeps4(p, rec[17:])
	return deviation4(p)
}

// kernel4 is shift(true) at n = 4: it sets p to exp(z − column max).
func kernel4(p, z *[16]float64) {
	m0 := z[0]
	m1 := z[1]
	m2 := z[2]
	m3 := z[3]
	if v := z[4]; v > m0 {
		m0 = v
	}
	if v := z[5]; v > m1 {
		m1 = v
	}
	if v := z[6]; v > m2 {
		m2 = v
	}
	if v := z[7]; v > m3 {
		m3 = v
	}
	if v := z[8]; v > m0 {
		m0 = v
	}
	if v := z[9]; v > m1 {
		m1 = v
	}
	if v := z[10]; v > m2 {
		m2 = v
	}
	if v := z[11]; v > m3 {
		m3 = v
	}
	if v := z[12]; v > m0 {
		m0 = v
	}
	if v := z[13]; v > m1 {
		m1 = v
	}
	if v := z[14]; v > m2 {
		m2 = v
	}
	if v := z[15]; v > m3 {
		m3 = v
	}
	p[0] = math.Exp(z[0] - m0)
	p[1] = math.Exp(z[1] - m1)
	p[2] = math.Exp(z[2] - m2)
	p[3] = math.Exp(z[3] - m3)
	p[4] = math.Exp(z[4] - m0)
	p[5] = math.Exp(z[5] - m1)
	p[6] = math.Exp(z[6] - m2)
	p[7] = math.Exp(z[7] - m3)
	p[8] = math.Exp(z[8] - m0)
	p[9] = math.Exp(z[9] - m1)
	p[10] = math.Exp(z[10] - m2)
	p[11] = math.Exp(z[11] - m3)
	p[12] = math.Exp(z[12] - m0)
	p[13] = math.Exp(z[13] - m1)
	p[14] = math.Exp(z[14] - m2)
	p[15] = math.Exp(z[15] - m3)
}

// deviation4 is Deviation at n = 4.
func deviation4(p *[16]float64) float64 {
	// Deviation: rows, then columns.
	var dev float64
	dev = max(dev, math.Abs((((p[0]+p[1])+p[2])+p[3])-1))
	dev = max(dev, math.Abs((((p[4]+p[5])+p[6])+p[7])-1))
	dev = max(dev, math.Abs((((p[8]+p[9])+p[10])+p[11])-1))
	dev = max(dev, math.Abs((((p[12]+p[13])+p[14])+p[15])-1))
	dev = max(dev, math.Abs((((p[0]+p[4])+p[8])+p[12])-1))
	dev = max(dev, math.Abs((((p[1]+p[5])+p[9])+p[13])-1))
	dev = max(dev, math.Abs((((p[2]+p[6])+p[10])+p[14])-1))
	dev = max(dev, math.Abs((((p[3]+p[7])+p[11])+p[15])-1))
	return dev
}

// sweeps4 runs len(f)/8 sweeps on a in place, writing into f each sweep's
// column factors 1/colsum, then its row factors 1/rowsum.
func sweeps4(a *[16]float64, f []float64) {
	if useAVX2 {
		if t := len(f) / 8; t > 0 {
			f = f[:8*t]
			sweeps4AVX2(a, &f[0], t)
		}
		return
	}
	sweeps4Go(a, f)
}

// sweeps4Go is the pure-Go twin of sweeps4AVX2.
func sweeps4Go(p *[16]float64, f []float64) {
	a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33 := p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]
	for ; len(f) >= 8; f = f[8:] {
		x := (*[8]float64)(f[:8])
		c0 := 1 / (((a00 + a10) + a20) + a30)
		c1 := 1 / (((a01 + a11) + a21) + a31)
		c2 := 1 / (((a02 + a12) + a22) + a32)
		c3 := 1 / (((a03 + a13) + a23) + a33)
		a00, a01, a02, a03 = a00*c0, a01*c1, a02*c2, a03*c3
		a10, a11, a12, a13 = a10*c0, a11*c1, a12*c2, a13*c3
		a20, a21, a22, a23 = a20*c0, a21*c1, a22*c2, a23*c3
		a30, a31, a32, a33 = a30*c0, a31*c1, a32*c2, a33*c3
		r0 := 1 / (((a00 + a01) + a02) + a03)
		r1 := 1 / (((a10 + a11) + a12) + a13)
		r2 := 1 / (((a20 + a21) + a22) + a23)
		r3 := 1 / (((a30 + a31) + a32) + a33)
		a00, a01, a02, a03 = a00*r0, a01*r0, a02*r0, a03*r0
		a10, a11, a12, a13 = a10*r1, a11*r1, a12*r1, a13*r1
		a20, a21, a22, a23 = a20*r2, a21*r2, a22*r2, a23*r2
		a30, a31, a32, a33 = a30*r3, a31*r3, a32*r3, a33*r3
		x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7] = c0, c1, c2, c3, r0, r1, r2, r3
	}
	p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15] = a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33
}

// unroll4 back-propagates g through the sweeps recorded in rec, in place:
// it rebuilds iterate s into hist[16s : 16s+16] for s = 1 … 2·sweeps (hist
// holds at least 16 + 32·sweeps values), then applies unroll's steps.
func unroll4(g *[16]float64, rec []float64, hist []float64) {
	t := (len(rec) - 17) / 8
	if useAVX2 {
		if t > 0 {
			rec, hist = rec[:17+8*t], hist[:16+32*t]
			unroll4AVX2(g, &rec[1], &hist[0], t)
		}
		return
	}
	unroll4Go(g, rec, hist)
}

// unroll4Go is the pure-Go twin of unroll4AVX2.
func unroll4Go(g *[16]float64, rec []float64, hist []float64) {
	k := (*[17]float64)(rec[:17])
	a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33 := k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], k[9], k[10], k[11], k[12], k[13], k[14], k[15], k[16]
	steps := 0
	for f, h := rec[17:], hist[16:]; len(f) >= 8 && len(h) >= 32; f, h = f[8:], h[32:] {
		x := (*[8]float64)(f[:8])
		c0, c1, c2, c3, r0, r1, r2, r3 := x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
		a00, a01, a02, a03 = a00*c0, a01*c1, a02*c2, a03*c3
		a10, a11, a12, a13 = a10*c0, a11*c1, a12*c2, a13*c3
		a20, a21, a22, a23 = a20*c0, a21*c1, a22*c2, a23*c3
		a30, a31, a32, a33 = a30*c0, a31*c1, a32*c2, a33*c3
		m := (*[32]float64)(h[:32])
		m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10], m[11], m[12], m[13], m[14], m[15] = a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33
		a00, a01, a02, a03 = a00*r0, a01*r0, a02*r0, a03*r0
		a10, a11, a12, a13 = a10*r1, a11*r1, a12*r1, a13*r1
		a20, a21, a22, a23 = a20*r2, a21*r2, a22*r2, a23*r2
		a30, a31, a32, a33 = a30*r3, a31*r3, a32*r3, a33*r3
		m[16], m[17], m[18], m[19], m[20], m[21], m[22], m[23], m[24], m[25], m[26], m[27], m[28], m[29], m[30], m[31] = a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33
		steps += 2
	}
	g00, g01, g02, g03, g10, g11, g12, g13, g20, g21, g22, g23, g30, g31, g32, g33 := g[0]*a00, g[1]*a01, g[2]*a02, g[3]*a03, g[4]*a10, g[5]*a11, g[6]*a12, g[7]*a13, g[8]*a20, g[9]*a21, g[10]*a22, g[11]*a23, g[12]*a30, g[13]*a31, g[14]*a32, g[15]*a33
	for s := steps; s >= 2; s -= 2 {
		// Step s normalised rows.
		m := (*[16]float64)(hist[16*s : 16*s+16])
		t0 := ((((0 + g00) + g01) + g02) + g03)
		t1 := ((((0 + g10) + g11) + g12) + g13)
		t2 := ((((0 + g20) + g21) + g22) + g23)
		t3 := ((((0 + g30) + g31) + g32) + g33)
		g00, g01, g02, g03 = g00-float64(m[0]*t0), g01-float64(m[1]*t0), g02-float64(m[2]*t0), g03-float64(m[3]*t0)
		g10, g11, g12, g13 = g10-float64(m[4]*t1), g11-float64(m[5]*t1), g12-float64(m[6]*t1), g13-float64(m[7]*t1)
		g20, g21, g22, g23 = g20-float64(m[8]*t2), g21-float64(m[9]*t2), g22-float64(m[10]*t2), g23-float64(m[11]*t2)
		g30, g31, g32, g33 = g30-float64(m[12]*t3), g31-float64(m[13]*t3), g32-float64(m[14]*t3), g33-float64(m[15]*t3)
		// Step s−1 normalised columns.
		m = (*[16]float64)(hist[16*s-16 : 16*s])
		u0 := ((((0 + g00) + g10) + g20) + g30)
		u1 := ((((0 + g01) + g11) + g21) + g31)
		u2 := ((((0 + g02) + g12) + g22) + g32)
		u3 := ((((0 + g03) + g13) + g23) + g33)
		g00, g01, g02, g03 = g00-float64(m[0]*u0), g01-float64(m[1]*u1), g02-float64(m[2]*u2), g03-float64(m[3]*u3)
		g10, g11, g12, g13 = g10-float64(m[4]*u0), g11-float64(m[5]*u1), g12-float64(m[6]*u2), g13-float64(m[7]*u3)
		g20, g21, g22, g23 = g20-float64(m[8]*u0), g21-float64(m[9]*u1), g22-float64(m[10]*u2), g23-float64(m[11]*u3)
		g30, g31, g32, g33 = g30-float64(m[12]*u0), g31-float64(m[13]*u1), g32-float64(m[14]*u2), g33-float64(m[15]*u3)
	}
	g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15] = g00, g01, g02, g03, g10, g11, g12, g13, g20, g21, g22, g23, g30, g31, g32, g33
}
