package orthohc

import (
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/spectral"
)

// Orthogonality is ‖HᵀH − I‖₂ (the exact spectral norm of spectral.Norm)
// of the n×n row-major h: max_i |σ_i(H)² − 1|, 0 exactly for an orthogonal
// H. It panics with hc.ErrShape if n < 1 or len(h) != n².
func Orthogonality(h []float64, n int) float64 {
	if n < 1 || len(h) != n*n {
		panic(fmt.Errorf("%w: orthohc: len(h) = %d for n = %d", hc.ErrShape, len(h), n))
	}
	g := make([]float64, n*n)
	for i := range n {
		for j := range n {
			var s float64
			for q := range n {
				s += h[q*n+i] * h[q*n+j]
			}
			if i == j {
				s--
			}
			g[i*n+j] = s
		}
	}
	if n == 1 {
		return math.Abs(g[0])
	}
	return spectral.Norm(g, n, n)
}
