package hc_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
)

// newHC returns a constructor for the suite.
func newHC(dynamic, noTanh bool) func(n, c, layer int) (hc.Mixer, error) {
	return func(n, c, layer int) (hc.Mixer, error) {
		return hc.New(hc.Config{N: n, C: c, Layer: layer, Dynamic: dynamic, NoTanh: noTanh})
	}
}

// permuteHC sets the static A_r so that H_res = P (H_res = A_rᵀ, so
// A_r[perm[i]][i] = 1). The dynamic weights stay at their zero init, so the
// dynamic part is s_α·tanh(0) = 0 exactly.
func permuteHC(m hc.Mixer, perm []int) bool {
	n, _ := m.Shape()
	ar := hc.Lookup(m, "A_r").Value
	clear(ar)
	for i, j := range perm {
		ar[j*n+i] = 1
	}
	return true
}

// perturbHC draws the dynamic weights from N(0, 0.5²): at their zero init
// tanh(0) = 0 makes the gradients of s_α and s_β structurally zero.
func perturbHC(m hc.Mixer, rnd *rand.Rand) {
	for _, name := range []string{"W_beta", "W_m", "W_r"} {
		for i, v := range hc.Lookup(m, name).Value {
			hc.Lookup(m, name).Value[i] = v + 0.5*rnd.NormFloat64()
		}
	}
}

func TestConformance(t *testing.T) {
	for _, c := range []mixertest.Case{
		{Name: "static", New: newHC(false, false), Permute: permuteHC, Plain: newHC(false, false)},
		{Name: "dynamic", New: newHC(true, false), Permute: permuteHC, Plain: newHC(true, false), Perturb: perturbHC},
		{Name: "dynamic-notanh", New: newHC(true, true), Permute: permuteHC, Plain: newHC(true, true), Perturb: perturbHC},
		{
			Name: "residual",
			New: func(n, c, _ int) (hc.Mixer, error) {
				if n != 1 {
					return nil, errors.New("residual has one stream")
				}
				return hc.Residual(c), nil
			},
			Ns:      []int{1},
			Permute: func(hc.Mixer, []int) bool { return true }, // the only P at n = 1 is [1]
			Plain:   func(_, c, _ int) (hc.Mixer, error) { return hc.Residual(c), nil },
		},
	} {
		mixertest.Run(t, c)
	}
}
