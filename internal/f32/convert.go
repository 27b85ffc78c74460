package f32

// Add sets dst[i] += x[i] (equal lengths; it panics with ErrShape
// otherwise).
func Add(dst, x []float32) {
	if len(x) != len(dst) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dst) &^ 7
		if n > 0 {
			addAVX2(dst[:n], x[:n])
		}
	}
	AddGo(dst[n:], x[n:])
}

// AddGo is the pure-Go twin of Add.
func AddGo(dst, x []float32) {
	if len(x) != len(dst) {
		panic(ErrShape)
	}
	for i, v := range x {
		dst[i] += v
	}
}

// From64 rounds src to float32 into dst (equal lengths; it panics with
// ErrShape otherwise), as float32(v) does.
func From64(dst []float32, src []float64) {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dst) &^ 7
		if n > 0 {
			from64AVX2(dst[:n], src[:n])
		}
	}
	From64Go(dst[n:], src[n:])
}

// From64Go is the pure-Go twin of From64.
func From64Go(dst []float32, src []float64) {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// To64 widens src into dst (equal lengths; it panics with ErrShape
// otherwise); exact.
func To64(dst []float64, src []float32) {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	n := 0
	if HasAVX2 {
		n = len(dst) &^ 7
		if n > 0 {
			to64AVX2(dst[:n], src[:n])
		}
	}
	To64Go(dst[n:], src[n:])
}

// To64Go is the pure-Go twin of To64.
func To64Go(dst []float64, src []float32) {
	if len(src) != len(dst) {
		panic(ErrShape)
	}
	for i, v := range src {
		dst[i] = float64(v)
	}
}
