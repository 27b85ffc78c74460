package hcgomlx

import (
	"errors"
	"fmt"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
	"github.com/hyperconn/hyperconn/shc"
)

// ErrUnsupported is wrapped by the error New returns for a mixer, or a
// configuration of one, that has no graph form here.
var ErrUnsupported = errors.New("hcgomlx: mixer not supported")

// ErrParams is wrapped by the errors of CopyFromNative and CopyToNative: a
// variable missing or of the wrong size, or a value that is not finite.
var ErrParams = errors.New("hcgomlx: parameters do not match")

// ErrShape is the panic value, wrapped, when a graph's input does not have
// the mixer's shape (a programming error, as hc.ErrShape).
var ErrShape = errors.New("hcgomlx: dimension mismatch")

// kind is a parameterisation with a graph form.
type kind int

const (
	kindHC       kind = iota // hc.HC, static or dynamic
	kindMHCFixed             // mhc with birkhoff.Fixed (the paper's)
	kindMHCExact             // mhc with birkhoff.Exact
	kindLite                 // mhclite
	kindSHC                  // shc, structural form
)

// Mixer is the GoMLX form of one native mixer: the same coefficients,
// computed from the same parameters (the native Params, by name and flat
// layout) in graph operations, so that GoMLX's autodiff and optimisers train
// it. Create it with New. A Mixer holds no graph state: Coefficients and
// Apply may be called on any number of graphs.
type Mixer struct {
	native        hc.Mixer
	kind          kind
	dtype         dtypes.DType
	n, c          int
	dynamic, tanh bool      // hc: dynamic parts, tanh on them
	sweeps        int       // mhc Fixed: Sinkhorn sweeps
	warm, newton  int       // mhc Exact: warm sweeps, cap on Newton steps
	perms         []float64 // mhclite: n!×n² permutation matrices, row k = P_k
	radius        float64   // shc: r (1 for the others)
	skewU         []float64 // shc: the SkewLen(m)×m² map z ↦ skew(z)
}

// New returns the graph form of native, with variables of dtype
// (dtypes.Float32 or dtypes.Float64). Supported: *hc.HC (static and
// dynamic, with or without tanh), *mhc.Mixer with the Fixed projection (the
// paper's, any sweep count) or the Exact one, *mhclite.Mixer and
// *shc.Mixer in the structural form. Anything else — hc.Residual, mhc's
// Tolerance projection, shc's normalised form (its exact σ₁ needs an SVD,
// which has no graph form here), mixers of other packages — is an error
// wrapping ErrUnsupported.
//
// The Exact projection in the graph always goes to the floor (see
// DefaultNewtonSteps), whatever the native Options' Tol and MaxIter; with
// the defaults (Tol 0: the floor) both give the same H_res to rounding.
//
// The native mixer stays the reference: its Params give the variables'
// names, sizes and initial values (see Variables), and CopyToNative and
// CopyFromNative move values between the two.
func New(native hc.Mixer, dtype dtypes.DType) (*Mixer, error) {
	if dtype != dtypes.Float32 && dtype != dtypes.Float64 {
		return nil, fmt.Errorf("%w: dtype %s: want Float32 or Float64", ErrUnsupported, dtype)
	}
	if native == nil {
		return nil, fmt.Errorf("%w: nil mixer", ErrUnsupported)
	}
	n, c := native.Shape()
	m := &Mixer{native: native, dtype: dtype, n: n, c: c, radius: 1}
	switch x := native.(type) {
	case *hc.HC:
		cfg := x.Config()
		m.kind, m.dynamic, m.tanh = kindHC, cfg.Dynamic, cfg.Dynamic && !cfg.NoTanh
	case *mhc.Mixer:
		p := x.Config().Projection
		switch p.Method {
		case birkhoff.Fixed:
			m.kind, m.sweeps = kindMHCFixed, p.Iterations
			if m.sweeps == 0 {
				m.sweeps = birkhoff.DefaultIterations
			}
		case birkhoff.Exact:
			m.kind, m.warm, m.newton = kindMHCExact, DefaultWarmSweeps, DefaultNewtonSteps
		default:
			return nil, fmt.Errorf("%w: mhc with projection %v (Fixed and Exact have graph forms)", ErrUnsupported, p.Method)
		}
	case *mhclite.Mixer:
		m.kind = kindLite
		m.perms = permMatrix(x.Perms())
	case *shc.Mixer:
		cfg := x.Config()
		if cfg.Form != shc.Structural {
			return nil, fmt.Errorf("%w: shc %v form (only the structural form has a graph form: "+
				"the normalised form's exact σ₁ needs an SVD)", ErrUnsupported, cfg.Form)
		}
		m.kind, m.radius = kindSHC, cfg.Radius
		m.skewU = skewMatrix(n - 1)
	default:
		return nil, fmt.Errorf("%w: %T", ErrUnsupported, native)
	}
	return m, nil
}

// Native returns the native mixer m was made from.
func (m *Mixer) Native() hc.Mixer { return m.native }

// Shape returns the number of streams n and the width C.
func (m *Mixer) Shape() (n, c int) { return m.n, m.c }

// DType returns the dtype of m's variables and graphs.
func (m *Mixer) DType() dtypes.DType { return m.dtype }

// permMatrix returns the n!×n² matrix whose row k is the permutation
// matrix P_k of ps, flattened row-major.
func permMatrix(ps *birkhoff.Perms) []float64 {
	n, k := ps.N(), ps.Len()
	d := make([]float64, k*n*n)
	for i := range k {
		for r, col := range ps.At(i) {
			d[i*n*n+r*n+col] = 1
		}
	}
	return d
}

// skewMatrix returns the SkewLen(m)×m² matrix S with skew(z) = z·S
// (spectral.Skew's order: the strict upper triangle row by row).
func skewMatrix(m int) []float64 {
	l := m * (m - 1) / 2
	d := make([]float64, l*m*m)
	k := 0
	for i := range m {
		for j := i + 1; j < m; j++ {
			d[k*m*m+i*m+j] = 1
			d[k*m*m+j*m+i] = -1
			k++
		}
	}
	return d
}

// Variables returns the nodes, in graph g, of m's parameters in scope, in
// the order of the native Params, each a flat vector of the native Param's
// length and layout. A variable that does not exist yet is created with the
// native Param's current value (rounded to float32 for a Float32 Mixer), so a
// model built from a freshly made native mixer starts from its reference
// init. Variables are named after the Params (e.g. "phi", "b_res"). It
// panics with ErrShape if a variable of such a name exists in scope with
// another shape or dtype.
func (m *Mixer) Variables(scope *model.Scope, g *graph.Graph) []*graph.Node {
	ps := m.native.Params()
	nodes := make([]*graph.Node, len(ps))
	for i, p := range ps {
		v := scope.GetVariable(p.Name)
		if v == nil {
			v = scope.VariableWithValue(p.Name, m.tensorOf(p.Value))
		}
		if got := v.Shape(); got.Rank() != 1 || got.Dimensions[0] != len(p.Value) || got.DType != m.dtype {
			panic(fmt.Errorf("%w: variable %q in scope %q has shape %s, want (%s)[%d]",
				ErrShape, p.Name, scope.Scope(), got, m.dtype, len(p.Value)))
		}
		nodes[i] = v.NodeValue(g)
	}
	return nodes
}
