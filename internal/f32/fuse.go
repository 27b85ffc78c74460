package f32

// From64SumSquares rounds src to float32 into dst, as From64 does, and
// returns Σ src[i]² accumulated in float64 in the fixed order of
// SumSquares (element i into partial sum i mod Lanes, combined by the same
// tree), in one pass over src (equal lengths; it panics with ErrShape
// otherwise). The result depends only on src, not on the processor.
func From64SumSquares(dst []float32, src []float64) float64 {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	var s [Lanes]float64
	n := 0
	if HasAVX2 {
		n = len(dst) &^ (Lanes - 1)
		if n > 0 {
			from64SumSquaresAVX2(dst[:n], src[:n], &s)
		}
	}
	for i := n; i < len(src); i++ {
		v := src[i]
		dst[i] = float32(v)
		s[i%Lanes] += float64(v * v)
	}
	return combine(&s)
}

// From64SumSquaresGo is the pure-Go twin of From64SumSquares.
func From64SumSquaresGo(dst []float32, src []float64) float64 {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	var s [Lanes]float64
	for i, v := range src {
		dst[i] = float32(v)
		s[i%Lanes] += float64(v * v)
	}
	return combine(&s)
}

// AddTo64Scaled sets dst[i] = (dst[i] + a·x[i]) + float64(g[i]), rounding
// after each operation (equal lengths; it panics with ErrShape otherwise):
// gonum's floats.AddScaled(dst, a, x) followed by AddTo64(dst, g), in one
// pass and bit for bit.
func AddTo64Scaled(dst []float64, a float64, x []float64, g []float32) {
	if len(x) != len(dst) || len(g) != len(dst) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dst) &^ 7
		if n > 0 {
			addTo64ScaledAVX2(dst[:n], a, x[:n], g[:n])
		}
	}
	AddTo64ScaledGo(dst[n:], a, x[n:], g[n:])
}

// AddTo64ScaledGo is the pure-Go twin of AddTo64Scaled.
func AddTo64ScaledGo(dst []float64, a float64, x []float64, g []float32) {
	if len(x) != len(dst) || len(g) != len(dst) {
		panic(ErrShape)
	}
	for i, v := range x {
		t := float64(dst[i] + float64(a*v))
		dst[i] = t + float64(g[i])
	}
}
