package birkhoff_test

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
)

// The mHC-lite paper's worked example: two rows put their mass in the same
// column. The mHC paper's 20 sweeps leave the columns far from 1; the exact
// projection does not.
func ExampleProject() {
	a, e := math.Log(0.5), math.Log(1e-13)
	logits := []float64{
		a, e, e,
		a, e, e,
		e, 0, 0,
	}
	p := make([]float64, 9)
	st, _ := birkhoff.Project(p, logits, 3, birkhoff.Options{Method: birkhoff.Fixed})
	fmt.Printf("fixed-20: converged %v, deviation %.3f\n", st.Converged, st.Deviation)
	st, _ = birkhoff.Project(p, logits, 3, birkhoff.Options{Method: birkhoff.Exact})
	fmt.Printf("exact:    converged %v, deviation < 1e-13: %v\n", st.Converged, st.Deviation < 1e-13)
	// Output:
	// fixed-20: converged false, deviation 0.820
	// exact:    converged true, deviation < 1e-13: true
}

// A Workspace projects and differentiates without allocating.
func ExampleWorkspace() {
	const n = 2
	w := birkhoff.NewWorkspace[float64](n)
	p := make([]float64, n*n)
	_, _ = w.Project(p, []float64{1, 0, 0, 0}, birkhoff.Options{Method: birkhoff.Exact})
	fmt.Printf("P = %.4f\n", p)

	dz := make([]float64, n*n)
	w.Backward(dz, []float64{1, 0, 0, 0}) // L = P₀₀
	fmt.Printf("∂P₀₀/∂Z = %.4f\n", dz)
	// Output:
	// P = [0.6225 0.3775 0.3775 0.6225]
	// ∂P₀₀/∂Z = [0.1175 -0.1175 -0.1175 0.1175]
}
