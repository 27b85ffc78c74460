package cpu

import "testing"

// TestFeatures logs what was detected and checks the one implication
// between the features.
func TestFeatures(t *testing.T) {
	t.Logf("AVX %v, AVX2 %v", AVX, AVX2)
	if AVX2 && !AVX {
		t.Error("AVX2 without AVX")
	}
}
