package hcgorgonia

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ZeroGrad zeroes the gradients gorgonia has accumulated for nodes (their
// dual values, as bound by gorgonia.BindDualValues). gorgonia adds each
// run's gradient into them and only a solver step zeroes them; call
// ZeroGrad to discard gradients without a step, e.g. after an evaluation
// pass run on a machine compiled with gradients. Nodes without a gradient
// are skipped.
func ZeroGrad(nodes ...*G.Node) {
	for _, n := range nodes {
		g, err := n.Grad()
		if err != nil {
			continue
		}
		if t, ok := g.(tensor.Tensor); ok {
			t.Zero()
		}
	}
}

// Cause returns the error an op returned inside the error of a gorgonia
// VM run. gorgonia's TapeMachine wraps an op's error in a type without an
// Unwrap method, so errors.Is(err, hc.ErrNotFinite) is false on RunAll's
// error itself; errors.Is(Cause(err), hc.ErrNotFinite) works. Any other
// error is returned unchanged, nil included.
func Cause(err error) error {
	if e, ok := err.(interface{ Err() error }); ok && e.Err() != nil {
		return e.Err()
	}
	return err
}
