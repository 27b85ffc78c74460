package cpu

import "testing"

// TestFeatures logs what was detected and checks the one implication
// between the features.
func TestFeatures(t *testing.T) {
	t.Logf("AVX %v, AVX2 %v, FMA %v, AVX512 %v", AVX, AVX2, FMA, AVX512)
	if AVX2 && !AVX {
		t.Error("AVX2 without AVX")
	}
	if FMA && !AVX2 {
		t.Error("FMA without AVX2")
	}
	if AVX512 && !FMA {
		t.Error("AVX512 without FMA")
	}
}
