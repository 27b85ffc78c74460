package birkhoff

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzProject drives Project with adversarial logits: a random matrix of a
// fuzzed scale with three fuzzed entries planted in it. Whatever the input,
// Project must return an error (and leave dst untouched) or a valid
// certified result; it must never panic.
func FuzzProject(f *testing.F) {
	f.Add(uint8(3), uint8(0), 1.0, 0.0, 0.0, 0.0, uint64(1))
	f.Fuzz(func(t *testing.T, nb, mb uint8, scale, a, b, c float64, seed uint64) {
		n := 1 + int(nb%16)
		method := Method(mb % 4) // 3 is an invalid method
		rnd := rand.New(rand.NewPCG(seed, 99))
		z := make([]float64, n*n)
		for i := range z {
			z[i] = scale * rnd.NormFloat64()
		}
		z[0] = a
		z[len(z)/2] += b
		z[len(z)-1] = c
		const sentinel = 12345
		dst := make([]float64, n*n)
		for i := range dst {
			dst[i] = sentinel
		}
		st, err := Project(dst, z, n, Options{Method: method})
		if err != nil {
			if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrMethod) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			for _, v := range dst {
				if v != sentinel {
					t.Fatalf("dst touched on error %v", err)
				}
			}
			return
		}
		if method == 3 {
			t.Fatal("invalid method accepted")
		}
		for _, v := range dst {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("entry %v: want finite, ≥ 0", v)
			}
		}
		if d := Deviation(dst, n); d != st.Deviation {
			t.Fatalf("Stats.Deviation %g, Deviation(dst) %g", st.Deviation, d)
		}
		if st.Converged != (st.Deviation <= Float64Floor) {
			t.Fatalf("Converged %v inconsistent with deviation %g", st.Converged, st.Deviation)
		}
		lo, hi := z[0], z[0]
		for _, v := range z {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if method == Exact && hi-lo <= 50 && !st.Converged {
			t.Fatalf("exact projection of logits in a range of %g did not converge: %+v", hi-lo, st)
		}
	})
}
