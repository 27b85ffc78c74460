package main

import (
	"testing"

	"github.com/hyperconn/hyperconn/net"
)

// TestLMMixerCost checks that every mixer has a measured step cost (an
// unknown one would be scheduled by the fallback) and that the sweep
// starts the costliest mixer first at equal depth and steps.
func TestLMMixerCost(t *testing.T) {
	for _, m := range net.MixerNames() {
		if _, ok := lmMixerCost[m]; !ok {
			t.Errorf("mixer %s has no entry in lmMixerCost", m)
		}
	}
	if a, b := lmCost(lmKey{Mixer: net.MixerMHCV4, Depth: 4, Steps: 10}), lmCost(lmKey{Mixer: net.MixerResidual, Depth: 4, Steps: 10}); a <= b {
		t.Errorf("mhc-v4 cost %d not above the residual's %d", a, b)
	}
	if a, b := lmCost(lmKey{Mixer: net.MixerResidual, Depth: 8, Steps: 10}), lmCost(lmKey{Mixer: net.MixerMHCV4, Depth: 1, Steps: 10}); a <= b {
		t.Errorf("depth 8 residual cost %d not above the depth 1 mhc-v4's %d", a, b)
	}
}
