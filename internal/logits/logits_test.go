package logits

import (
	"math/rand/v2"
	"testing"
)

// TestFamilies checks the shape of every family and the property its name
// promises.
func TestFamilies(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, f := range Exactness() {
		for _, n := range []int{f.MinN, 4, 16} {
			if z := f.Gen(rnd, n); len(z) != n*n {
				t.Errorf("%s n=%d: %d logits, want %d", f.Name, n, len(z), n*n)
			}
		}
	}
	const n = 5
	z := NearIdentity().Gen(rnd, n)
	var diag, off float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j {
				diag += z[i*n+j]
			} else {
				off += z[i*n+j]
			}
		}
	}
	if diag/n-off/(n*n-n) < 5 { // 8 apart in expectation, N(0,1) noise
		t.Errorf("near-identity: diagonal mean %.2f, off-diagonal mean %.2f", diag/n, off/(n*n-n))
	}
	z = NoMatching(30).Gen(rnd, n)
	zeros := map[int]bool{}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			switch z[i*n+j] {
			case 0:
				zeros[j] = true
			case -30:
			default:
				t.Fatalf("no-matching: entry (%d,%d) = %v", i, j, z[i*n+j])
			}
		}
	}
	if len(zeros) != n-1 || zeros[1] {
		t.Errorf("no-matching: zeros in columns %v: want every column but 1", zeros)
	}
	z = WideRange(1000).Gen(rnd, n)
	lo, hi := z[0], z[0]
	for _, v := range z {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != -1000 || hi != 0 {
		t.Errorf("range-1000: logits span [%v, %v], want [−1000, 0]", lo, hi)
	}
}
