package spectral

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzSphere drives Sphere (float64 and float32), Norm and Normalizer with
// the same parameter vector p of length (n−1)²: p = (z_U, z_V, σ) for the
// sHC matrix and p as an (n−1)×(n−1) matrix for Norm and Normalizer. p is
// scale·sin(7i+1), overwritten by the float64s encoded in data, with p[at]
// set to special. Each entry point must return an error or a valid result,
// never panic, and leave its destination untouched on error. The seed
// corpus in testdata/fuzz/FuzzSphere covers NaN, ±Inf, ±1e308, zeros, n = 1
// and n = 16, and runs with plain go test.
func FuzzSphere(f *testing.F) {
	f.Add(uint8(3), 1.0, 0.5, uint16(0), []byte(nil))
	f.Fuzz(func(t *testing.T, nRaw uint8, scale, special float64, at uint16, data []byte) {
		n := 1 + int(nRaw%16)
		m := n - 1
		l := SkewLen(m)
		p := make([]float64, 2*l+m)
		for i := range p {
			if 8*(i+1) <= len(data) {
				p[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
			} else {
				p[i] = scale * math.Sin(float64(7*i+1))
			}
		}
		if len(p) > 0 {
			p[int(at)%len(p)] = special
		}
		finite := true
		for _, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				finite = false
			}
		}
		fuzzSphere(t, n, p, finite)
		fuzzSphere(t, n, to32(p), finite && fitsFloat32(p))
		if m > 0 {
			fuzzNorm(t, p, m, finite)
			fuzzNormalizer(t, p, m, finite)
		}
	})
}

// fitsFloat32 reports whether every value of p is finite as a float32.
func fitsFloat32(p []float64) bool {
	for _, v := range p {
		if math.IsInf(float64(float32(v)), 0) {
			return false
		}
	}
	return true
}

const sentinel = -123.25 // a value Forward never writes

func fuzzSphere[F Float](t *testing.T, n int, p []F, finite bool) {
	m := n - 1
	l := SkewLen(m)
	zu, zv, sig := p[:l], p[l:2*l], p[2*l:]
	dst := make([]F, n*n)
	for i := range dst {
		dst[i] = sentinel
	}
	s := NewSphere[F](n)
	_, err := s.Forward(dst, zu, zv, sig)
	if err != nil {
		if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrRange) {
			t.Fatalf("n=%d: unexpected error %v", n, err)
		}
		if finite == errors.Is(err, ErrNonFinite) {
			t.Fatalf("n=%d: finite inputs %v but error %v", n, finite, err)
		}
		for _, v := range dst {
			if v != sentinel {
				t.Fatalf("n=%d: dst written on error %v", n, err)
			}
		}
		return
	}
	if !finite {
		t.Fatalf("n=%d: non-finite input accepted", n)
	}
	tol := sphereTol64
	if is32[F]() {
		tol = sphereTol32
	}
	sigMax := maxAbs(to64(sig))
	if d := sumsDev(dst, n); d > tol*math.Max(1, sigMax) {
		t.Fatalf("n=%d: sums off by %.3g with max|σ| = %g", n, d, sigMax)
	}
	if sigMax <= 1 {
		if d := math.Abs(Norm(dst, n, n) - 1); d > tol {
			t.Fatalf("n=%d: |‖H‖₂ − 1| = %.3g with |σ| ≤ 1", n, d)
		}
	}
	g := make([]F, n*n)
	for i := range g {
		g[i] = F(math.Cos(float64(3*i + 2)))
	}
	du, dv, ds := make([]F, l), make([]F, l), make([]F, m)
	for i := range ds {
		ds[i] = sentinel
	}
	if err := s.Backward(du, dv, ds, g); err != nil {
		if !errors.Is(err, ErrRange) {
			t.Fatalf("n=%d: Backward: %v", n, err)
		}
		for _, v := range ds {
			if v != sentinel {
				t.Fatalf("n=%d: dsigma written on error %v", n, err)
			}
		}
	}
}

// is32 reports whether F is a float32 type.
func is32[F Float]() bool {
	var x F = 1 + 1e-10
	return x == 1
}

func fuzzNorm(t *testing.T, p []float64, m int, finite bool) {
	got := Norm(p, m, m)
	if !finite {
		if !(math.IsNaN(got) || math.IsInf(got, 1)) {
			t.Fatalf("Norm of a non-finite matrix = %v", got)
		}
		return
	}
	// Differential check against gonum where its LAPACK path is safe from
	// overflow and underflow.
	for _, v := range p {
		if a := math.Abs(v); a != 0 && (a < 1e-100 || a > 1e100) {
			return
		}
	}
	want := gonumValues(t, p, m, m)[0]
	if math.Abs(got-want) > gonumRelTol*want {
		t.Fatalf("%d×%d: Norm = %v, gonum %v", m, m, got, want)
	}
}

func fuzzNormalizer(t *testing.T, p []float64, m int, finite bool) {
	dst := make([]float64, m*m)
	for i := range dst {
		dst[i] = sentinel
	}
	z := NewNormalizer[float64](m)
	_, err := z.Forward(dst, p, 1)
	if err != nil {
		if finite == errors.Is(err, ErrNonFinite) {
			t.Fatalf("finite %v but error %v", finite, err)
		}
		if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrZeroNorm) && !errors.Is(err, ErrRange) {
			t.Fatalf("unexpected error %v", err)
		}
		for _, v := range dst {
			if v != sentinel {
				t.Fatalf("dst written on error %v", err)
			}
		}
		return
	}
	if d := math.Abs(Norm(dst, m, m) - 1); d > radiusTol {
		t.Fatalf("%d×%d: |‖A/σ₁‖₂ − 1| = %.3g", m, m, d)
	}
}
