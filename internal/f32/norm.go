package f32

// The kernels of a float32 RMSNorm over one row x of C values with gain g
// and inv = 1/√(mean(x²) + ε): forward y = g·x·inv (MulScaled), backward
// the gain gradient and the dot product Σ g·dy·x in one pass (RMSGrad),
// then dx = inv·(g·dy − x·c) with c = inv²·Σ/C (RMSInputGrad). Each has a
// pure-Go twin (…Go) that the assembly matches bit for bit: the products
// are rounded in the order written, without fused multiply-adds.

// MulScaled sets dst[i] = (g[i]·x[i])·s (all three the same length; it
// panics with ErrShape otherwise). dst may be x.
func MulScaled(dst, g, x []float32, s float32) {
	if len(g) != len(dst) || len(x) != len(dst) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dst) &^ 7
		if n > 0 {
			mulScaledAVX2(dst[:n], g[:n], x[:n], s)
		}
	}
	MulScaledGo(dst[n:], g[n:], x[n:], s)
}

// MulScaledGo is the pure-Go twin of MulScaled.
func MulScaledGo(dst, g, x []float32, s float32) {
	if len(g) != len(dst) || len(x) != len(dst) {
		panic(ErrShape)
	}
	g, x = g[:len(dst)], x[:len(dst)]
	for i := range dst {
		dst[i] = g[i] * x[i] * s
	}
}

// RMSGrad adds (dy[i]·x[i])·inv to dg[i] and returns Σ (g[i]·dy[i])·x[i],
// each term rounded to float32 and accumulated in float64 in the fixed
// order of SumSquares (term i into partial sum i mod Lanes, combined by
// the same tree), in one pass (all four the same length; it panics with
// ErrShape otherwise). The sum depends only on the inputs, not on the
// processor.
func RMSGrad(dg, g, dy, x []float32, inv float32) float64 {
	if len(g) != len(dg) || len(dy) != len(dg) || len(x) != len(dg) {
		panic(ErrShape)
	}
	var s [Lanes]float64
	n := 0
	if HasAVX2 {
		n = len(dg) &^ (Lanes - 1)
		if n > 0 {
			rmsGradAVX2(dg[:n], g[:n], dy[:n], x[:n], inv, &s)
		}
	}
	for i := n; i < len(dg); i++ {
		s[i%Lanes] += float64(g[i] * dy[i] * x[i])
		dg[i] += dy[i] * x[i] * inv
	}
	return combine(&s)
}

// RMSGradGo is the pure-Go twin of RMSGrad.
func RMSGradGo(dg, g, dy, x []float32, inv float32) float64 {
	if len(g) != len(dg) || len(dy) != len(dg) || len(x) != len(dg) {
		panic(ErrShape)
	}
	g, dy, x = g[:len(dg)], dy[:len(dg)], x[:len(dg)]
	var s [Lanes]float64
	for i := range dg {
		s[i%Lanes] += float64(g[i] * dy[i] * x[i])
		dg[i] += dy[i] * x[i] * inv
	}
	return combine(&s)
}

// RMSInputGrad sets dx[i] = inv·((g[i]·dy[i]) − (x[i]·c)) (all four the
// same length; it panics with ErrShape otherwise). dx may be dy or x.
func RMSInputGrad(dx, g, dy, x []float32, inv, c float32) {
	if len(g) != len(dx) || len(dy) != len(dx) || len(x) != len(dx) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dx) &^ 7
		if n > 0 {
			rmsInputGradAVX2(dx[:n], g[:n], dy[:n], x[:n], inv, c)
		}
	}
	RMSInputGradGo(dx[n:], g[n:], dy[n:], x[n:], inv, c)
}

// RMSInputGradGo is the pure-Go twin of RMSInputGrad.
func RMSInputGradGo(dx, g, dy, x []float32, inv, c float32) {
	if len(g) != len(dx) || len(dy) != len(dx) || len(x) != len(dx) {
		panic(ErrShape)
	}
	g, dy, x = g[:len(dx)], dy[:len(dx)], x[:len(dx)]
	for i := range dx {
		dx[i] = inv * (g[i]*dy[i] - x[i]*c)
	}
}
