package net

import (
	"math/rand/v2"
	"testing"
)

// summaryOf returns the Summary fields as Diagnose measures them.
func summaryOf(d Diagnostics) Summary {
	s := Summary{ForwardAmax: d.Composite.Mean.ForwardAmax, BackwardAmax: d.Composite.Mean.BackwardAmax,
		SampledForwardAmax: d.Composite.Sampled.ForwardAmax, SampledBackwardAmax: d.Composite.Sampled.BackwardAmax}
	for _, l := range d.Layers {
		s.MaxDSDeviation = max(s.MaxDSDeviation, l.MaxDSDeviation)
	}
	return s
}

// TestSummarize checks that Summarize is Diagnose's values, bit for bit,
// for every mixer, away from the init (perturbed weights), where the gains
// of hc and the sum errors of mhc differ from 1 and 0.
func TestSummarize(t *testing.T) {
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(41, 0))
			cfg := gradCheckConfig(name)
			cfg.Depth = 5
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			mustPanicWith(t, ErrSequence, "Summarize before a batch", func() { m.Summarize(2) })
			perturb(m, rnd, 0.3)
			rows := 7
			x := randNormal(rnd, rows*m.Config().Inputs)
			if _, _, err := m.Forward(x, []int{0, 1, 2, 3, 4, 0, 1}); err != nil {
				t.Fatal(err)
			}
			for _, samples := range []int{0, 3, 100} {
				got, want := m.Summarize(samples), summaryOf(m.Diagnose(samples))
				if got != want {
					t.Errorf("samples %d: Summarize %+v, Diagnose %+v", samples, got, want)
				}
			}
			if s := m.Summarize(0); name == MixerHC && (s.ForwardAmax == 1 || s.MaxDSDeviation == 0) {
				t.Errorf("hc away from the init: %+v, want gains off 1", s)
			}
		})
	}
}
