package f32

// AddTo64 sets dst[i] += float64(x[i]) (equal lengths; it panics with
// ErrShape otherwise): a float32 result widened, exactly, and added into a
// float64 accumulator with one rounding, without a float64 copy of x.
func AddTo64(dst []float64, x []float32) {
	if len(x) != len(dst) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dst) &^ 7
		if n > 0 {
			addTo64AVX2(dst[:n], x[:n])
		}
	}
	AddTo64Go(dst[n:], x[n:])
}

// AddTo64Go is the pure-Go twin of AddTo64.
func AddTo64Go(dst []float64, x []float32) {
	if len(x) != len(dst) {
		panic(ErrShape)
	}
	for i, v := range x {
		dst[i] += float64(v)
	}
}
