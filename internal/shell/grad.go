package shell

import "github.com/hyperconn/hyperconn/hc"

// Flush adds a Worker's private gradient g of p into p.Grad and zeroes g,
// for a Residual's FlushResidual.
func Flush(p *hc.Param, g []float64) {
	for i, v := range g {
		p.Grad[i] += v
	}
	clear(g)
}

// FlushScalar is Flush for a one-value p whose private gradient is *g.
func FlushScalar(p *hc.Param, g *float64) {
	p.Grad[0] += *g
	*g = 0
}
