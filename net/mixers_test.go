package net

import (
	"errors"
	"strings"
	"testing"
)

// TestKromHCRefusesN checks that a kromhc model with an n that has a prime
// factor above 8 is refused with ErrConfig, before any mixer is built, and
// that NewMixer refuses it too.
func TestKromHCRefusesN(t *testing.T) {
	_, err := NewModel(Config{Mixer: MixerKromHC, N: 11, Width: 8, Depth: 2})
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "prime factor 11") {
		t.Errorf("NewModel(kromhc, N = 11) = %v, want an error wrapping ErrConfig naming the prime factor", err)
	}
	if _, err := NewModel(Config{Mixer: MixerKromHC, N: 12, Width: 8, Depth: 2}); err != nil {
		t.Errorf("NewModel(kromhc, N = 12 = 2·2·3): %v", err)
	}
	if _, err := NewMixer(MixerKromHC, 13, 8, 0); !errors.Is(err, ErrConfig) {
		t.Errorf("NewMixer(kromhc, 13) = %v, want an error wrapping ErrConfig", err)
	}
}

// TestMixersAtN16 builds every mixer but mhclite at n = 16 and runs one
// training step of a small model with it.
func TestMixersAtN16(t *testing.T) {
	for _, name := range MixerNames() {
		if name == MixerMHCLite {
			continue
		}
		m, err := NewModel(Config{Mixer: name, N: 16, Width: 8, Depth: 2, Inputs: 5, Classes: 3})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		x := make([]float64, 4*5)
		for i := range x {
			x[i] = float64(i%7) - 3
		}
		if _, _, err := m.Forward(x, []int{0, 1, 2, 0}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m.Backward()
	}
}
