package mhc

import "github.com/hyperconn/hyperconn/hc"

var _ hc.Float32Products = (*Mixer)(nil)

// SetFloat32Products runs the coefficient head's three matrix products
// (y = x̂·Φ and its gradients with respect to Φ and x) in float32 when on,
// and in float64 when off, the default; see hc.Float32Products. The
// parameters (Φ too, unless SetFloat32Storage gives it float32 storage),
// their gradients, the RMSNorm, the tapes and the projection of H̃_res onto
// the doubly stochastic matrices stay float64, so H_res is doubly stochastic
// to the same precision either way. It takes effect from the next forward
// pass and must not be called while a Layer of m is between Pre and
// PreBackward, nor while a Worker of m runs.
func (m *Mixer) SetFloat32Products(on bool) { m.head.SetFloat32Products(on) }

var _ hc.Float32Storage = (*Mixer)(nil)

// Float32Params returns the coefficient head's Φ ("phi"), the parameter
// that SetFloat32Storage can hold in float32.
func (m *Mixer) Float32Params() []*hc.Param { return m.head.Float32Params() }

// SetFloat32Storage keeps Φ's value and gradient in the caller's float32
// slices; see hc.Float32Storage and net.Config.Float32.
func (m *Mixer) SetFloat32Storage(p *hc.Param, value, grad []float32) error {
	return m.head.SetFloat32Storage(p, value, grad)
}
