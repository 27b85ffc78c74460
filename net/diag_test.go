package net

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Tolerances of the diagnostics tests.
const (
	// fig8Tol: the mHC Fig. 8 fixture prints its entries to two decimals,
	// so each row or column sum of four entries carries up to 4·0.005 =
	// 0.02 of rounding; the printed row sum gives 18.72 against the paper's
	// 18.73.
	fig8Tol = 0.02

	// compositeDSTol bounds the DS deviation of a composite of exactly
	// doubly stochastic matrices (mhc-exact, mhclite): a product of L
	// matrices with sums 1 ± ε keeps sums 1 ± L·ε (ε ~ 1e-15), and the
	// library's target is 1e-10.
	compositeDSTol = 1e-10

	// assocTol bounds the difference between the full composite computed
	// as H_L·(…·H_1) and as (H_L·…)·H_1: the same product associated in
	// the two orders, a few ulps per factor for L ≤ 10.
	assocTol = 1e-13
)

// fig8 is HC's first-layer H_res of the 27B model printed in mHC Fig. 8
// (arXiv 2512.24880), in the library's orientation (SPEC §6).
var fig8 = []float64{
	5.43, 4.43, 4.43, 4.43,
	-4.07, -3.07, -4.07, -4.07,
	-3.95, -3.95, -2.95, -3.95,
	-4.22, -4.22, -4.22, -3.22,
}

func TestMeasureFig8(t *testing.T) {
	s := Measure(fig8, 4)
	// Expected values: mHC Fig. 8 caption, forward 18.73, backward 6.81.
	if math.Abs(s.ForwardAmax-18.73) > fig8Tol || math.Abs(s.BackwardAmax-6.81) > fig8Tol {
		t.Errorf("Amax forward %.4f, backward %.4f; want 18.73 and 6.81 within %g", s.ForwardAmax, s.BackwardAmax, fig8Tol)
	}
	// The row norm is the largest Σ|entries| of a row: row 0, 18.72 (by hand).
	if math.Abs(s.RowNorm-18.72) > 1e-12 {
		t.Errorf("row norm %v, want 18.72", s.RowNorm)
	}
	if s.MinEntry != -4.22 || s.DSDeviation < 17 {
		t.Errorf("min entry %v, DS deviation %v", s.MinEntry, s.DSDeviation)
	}
}

func TestMeasureIdentityAndJ(t *testing.T) {
	const n = 4
	id := identity(n)
	s := Measure(id, n)
	if s.Sigma1 != 1 || s.SigmaMin != 1 || s.IdentityDist != 0 || s.DSDeviation != 0 ||
		math.Abs(s.EffectiveRank-n) > 1e-12 || math.Abs(s.DistJ-1) > 1e-12 {
		t.Errorf("identity: %+v", s)
	}
	j := make([]float64, n*n)
	for i := range j {
		j[i] = 1.0 / n
	}
	s = Measure(j, n)
	// J has σ = (1, 0, 0, 0): effective rank 1, ‖J − J‖ = 0,
	// ‖J − I‖_F/√(n−1) = √(n−1)/√(n−1) = 1.
	if math.Abs(s.Sigma1-1) > 1e-15 || s.SigmaMin > 1e-15 || math.Abs(s.EffectiveRank-1) > 1e-12 ||
		s.DistJ > 1e-15 || math.Abs(s.IdentityDist-1) > 1e-15 {
		t.Errorf("J: %+v", s)
	}
}

// gradNormTol bounds the relative rounding of a sum of squares of O(1)
// gradients taken in another order.
const gradNormTol = 1e-14

// TestDiagnose runs a perturbed net with each mixer and checks the
// composite against a direct product and each mixer's guarantee.
func TestDiagnose(t *testing.T) {
	for _, name := range MixerNames() {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(21, 0))
			cfg := gradCheckConfig(name)
			cfg.Depth = 5
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			perturb(m, rnd, 0.3)
			rows := 6
			x := randNormal(rnd, rows*m.Config().Inputs)
			labels := []int{0, 1, 2, 3, 4, 0}
			if _, _, err := m.Forward(x, labels); err != nil {
				t.Fatal(err)
			}
			m.Backward()
			d := m.Diagnose(3)
			n, L := d.N, len(d.Layers)
			if d.Tokens != rows || d.Sampled != 3 || L != cfg.Depth {
				t.Fatalf("tokens %d sampled %d layers %d", d.Tokens, d.Sampled, L)
			}
			p := identity(n)
			tmp := make([]float64, n*n)
			for _, ls := range d.Layers {
				matMul(tmp, ls.Res, p, n)
				p, tmp = tmp, p
				if !(ls.GradNorm > 0) {
					t.Errorf("gradient norm %v", ls.GradNorm)
				}
			}
			if e := relErr(p, d.Composite.Matrix); e != 0 {
				t.Errorf("composite differs from the product of the layer means by %g", e)
			}
			// The last block's output gradient is ∂L/∂(stream sum) copied
			// into each of the n streams: its norm is √n·‖∂L/∂sum‖.
			var ss float64
			for _, v := range m.ws.dred {
				ss += v * v
			}
			if got, want := d.Layers[L-1].GradNorm, math.Sqrt(float64(n)*ss); math.Abs(got-want) > gradNormTol*want {
				t.Errorf("last block's gradient norm %v, want √n·‖∂L/∂sum‖ = %v", got, want)
			}
			c := d.Composite
			if math.Abs(c.ForwardAmax[L-1]-c.Mean.ForwardAmax) > assocTol || math.Abs(c.BackwardAmax[0]-c.Mean.BackwardAmax) > assocTol {
				t.Errorf("curve ends %v, %v; composite %v, %v", c.ForwardAmax[L-1], c.BackwardAmax[0], c.Mean.ForwardAmax, c.Mean.BackwardAmax)
			}
			switch name {
			case MixerMHCExact, MixerMHCLite, MixerSHC, MixerResidual:
				if c.Mean.DSDeviation > compositeDSTol || c.SampledMaxDSDeviation > compositeDSTol {
					t.Errorf("composite sums deviate by %g (mean), %g (sampled)", c.Mean.DSDeviation, c.SampledMaxDSDeviation)
				}
			}
			switch name {
			case MixerSHC, MixerMHCExact, MixerMHCLite, MixerResidual:
				// Their per-token matrices have spectral norm exactly 1, and so
				// has each token's composite.
				if c.SampledMaxSphereError > compositeDSTol {
					t.Errorf("per-token composite |σ₁ − 1| = %g", c.SampledMaxSphereError)
				}
			}
			t.Logf("composite: fwd Amax %.4g, bwd Amax %.4g, σ₁ %.4g, σ_min %.3g, DS dev %.2g",
				c.Mean.ForwardAmax, c.Mean.BackwardAmax, c.Mean.Sigma1, c.Mean.SigmaMin, c.Mean.DSDeviation)
		})
	}
}

func ExampleMeasure() {
	// HC's first-layer H_res from mHC Fig. 8 (two-decimal print).
	h := []float64{
		5.43, 4.43, 4.43, 4.43,
		-4.07, -3.07, -4.07, -4.07,
		-3.95, -3.95, -2.95, -3.95,
		-4.22, -4.22, -4.22, -3.22,
	}
	s := Measure(h, 4)
	fmt.Printf("forward Amax %.2f, backward Amax %.2f\n", s.ForwardAmax, s.BackwardAmax)
	// Output:
	// forward Amax 18.72, backward Amax 6.81
}
