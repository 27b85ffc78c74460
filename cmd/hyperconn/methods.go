package main

import (
	"errors"
	"fmt"
	"math"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/spectral"
)

// Names of the methods of the exactness report, in report order.
const (
	methodFixed      = "fixed20"
	methodTolerance  = "tolerance"
	methodExact      = "exact"
	methodLite       = "mhclite"
	methodStructural = "shc-structural"
	methodNormalised = "shc-normalised"
	methodKron       = "kromhc"
	methodOrtho      = "orthohc"
	methodV4         = "deepseek-v4"
)

var methodNames = []string{methodFixed, methodTolerance, methodExact, methodLite, methodStructural, methodNormalised,
	methodKron, methodOrtho, methodV4}

// Measures reported in the deviation fields of a row.
const (
	// measureDS is the doubly stochastic deviation birkhoff.Deviation:
	// max over rows and columns of |sum − 1|.
	measureDS = "ds"
	// measureSphere is the sphere error max(|row or column sum − 1|,
	// |‖H‖₂ − 1|), with the exact ‖H‖₂ of spectral.Norm.
	measureSphere = "sphere"
	// measureOrth is the orthogonality error ‖HᵀH − I‖₂
	// (orthohc.Orthogonality).
	measureOrth = "orth"
)

// measureOf returns the measure reported for the named method.
func measureOf(method string) string {
	switch method {
	case methodStructural, methodNormalised:
		return measureSphere
	case methodOrtho:
		return measureOrth
	}
	return measureDS
}

// maxNOf returns the largest n the named method supports (0: no limit).
func maxNOf(method string) int {
	if method == methodLite {
		return birkhoff.MaxPermN
	}
	return 0
}

// supportsN reports whether the named method has rows at n: n ≤ maxNOf,
// and for kromhc an n whose prime factors are at most 8.
func supportsN(method string, n int) bool {
	if m := maxNOf(method); m > 0 && n > m {
		return false
	}
	if method == methodKron {
		_, err := kromhc.DefaultFactors(n)
		return err == nil
	}
	return true
}

// sphereGamma is γ of z = γ·tanh(·) in the structural sHC mapping: the
// reference init's γ_u = γ_v = 1 (SPEC §3.4).
const sphereGamma = 1

// errNonFinite is wrapped when logits given to the mHC-lite projector hold a
// NaN or an infinity (the library projectors report their own sentinels).
var errNonFinite = errors.New("hyperconn: non-finite logit")

// projector maps n×n logits Z to an n×n residual matrix H, and
// differentiates that map. One projector serves one forward/backward pair at
// a time; neither allocates.
type projector[F birkhoff.Float] interface {
	// forward writes H into dst and returns the iterations taken (0 for a
	// map that does not iterate).
	forward(dst, z []F) (int, error)
	// backward writes ∂L/∂Z into dz given g = ∂L/∂H at the last forward.
	backward(dz, g []F) error
}

// newProjector returns the projector of the named method for n×n matrices.
func newProjector[F birkhoff.Float](method string, n int) (projector[F], error) {
	switch method {
	case methodFixed:
		return &sinkhorn[F]{ws: birkhoff.NewWorkspace[F](n), opt: birkhoff.Options{Method: birkhoff.Fixed, Iterations: 20}}, nil
	case methodTolerance:
		return &sinkhorn[F]{ws: birkhoff.NewWorkspace[F](n), opt: birkhoff.Options{Method: birkhoff.Tolerance}}, nil
	case methodExact:
		return &sinkhorn[F]{ws: birkhoff.NewWorkspace[F](n), opt: birkhoff.Options{Method: birkhoff.Exact}}, nil
	case methodLite:
		return newLite[F](n)
	case methodStructural:
		return newStructural[F](n), nil
	case methodNormalised:
		return &normalised[F]{nz: spectral.NewNormalizer[F](n)}, nil
	case methodKron:
		return newKron[F](n)
	case methodOrtho:
		return newOrtho[F](n), nil
	case methodV4:
		return newProduction[F](n), nil
	}
	return nil, fmt.Errorf("hyperconn: unknown method %q", method)
}

// sinkhorn is birkhoff.Project with fixed options: H = the doubly stochastic
// scaling of exp(Z).
type sinkhorn[F birkhoff.Float] struct {
	ws  *birkhoff.Workspace[F]
	opt birkhoff.Options
}

func (s *sinkhorn[F]) forward(dst, z []F) (int, error) {
	st, err := s.ws.Project(dst, z, s.opt)
	return st.Iterations, err
}

func (s *sinkhorn[F]) backward(dz, g []F) error {
	s.ws.Backward(dz, g)
	return nil
}

// lite is the mHC-lite map as a function of an n×n logit matrix: every
// permutation p_k scores s_k = Σ_i Z[i, p_k(i)], the weights are
// w = softmax(s) and H = Σ_k w_k·P_k (birkhoff.Mix). It is the log-linear
// model whose weight of a permutation is proportional to Π_i exp(Z[i, p(i)]);
// its H is doubly stochastic by construction, to the rounding of the sum.
type lite[F birkhoff.Float] struct {
	n     int
	perms *birkhoff.Perms
	s     []float64 // scores
	w, dw []F
}

func newLite[F birkhoff.Float](n int) (*lite[F], error) {
	p, err := birkhoff.NewPerms(n)
	if err != nil {
		return nil, fmt.Errorf("hyperconn: mhclite needs n ≤ %d: %w", birkhoff.MaxPermN, err)
	}
	return &lite[F]{n: n, perms: p, s: make([]float64, p.Len()), w: make([]F, p.Len()), dw: make([]F, p.Len())}, nil
}

func (l *lite[F]) forward(dst, z []F) (int, error) {
	for i, v := range z {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("hyperconn: mhclite: logit (%d, %d) = %v: %w", i/l.n, i%l.n, v, errNonFinite)
		}
	}
	top := math.Inf(-1)
	for k := range l.s {
		var s float64
		for i, j := range l.perms.At(k) {
			s += float64(z[i*l.n+j])
		}
		l.s[k] = s
		top = math.Max(top, s)
	}
	// Neumaier's compensated sum: a plain sum of n! = 40320 terms drifts
	// by up to 1e-13, which would leave Σ_k w_k that far from 1.
	var sum, comp float64
	for k, s := range l.s {
		e := math.Exp(s - top)
		l.s[k] = e
		t := sum + e
		if math.Abs(sum) >= e {
			comp += (sum - t) + e
		} else {
			comp += (e - t) + sum
		}
		sum = t
	}
	sum += comp
	for k, e := range l.s {
		l.w[k] = F(e / sum)
	}
	birkhoff.Mix(dst, l.perms, l.w)
	return 0, nil
}

// backward chains MixBackward (∂L/∂w_k = ⟨G, P_k⟩), the softmax
// (∂L/∂s_k = w_k·(∂L/∂w_k − Σ_m w_m·∂L/∂w_m)) and the scores
// (∂L/∂Z[i, p_k(i)] += ∂L/∂s_k).
func (l *lite[F]) backward(dz, g []F) error {
	birkhoff.MixBackward(l.dw, l.perms, g)
	var dot float64
	for k, w := range l.w {
		dot += float64(w) * float64(l.dw[k])
	}
	clear(dz)
	for k, w := range l.w {
		ds := F(float64(w) * (float64(l.dw[k]) - dot))
		for i, j := range l.perms.At(k) {
			dz[i*l.n+j] += ds
		}
	}
	return nil
}

// structural is the sHC construction spectral.Sphere fed from an n×n logit
// matrix Z through its top-left m×m block B, m = n−1 (m² parameters, which is
// exactly what the construction has):
//
//	z_U[k] = γ·tanh(B_ij),  z_V[k] = γ·tanh(B_ji),  σ_i = tanh(B_ii),
//
// where k runs over the pairs i < j in row-major order (the order of
// spectral.Skew) and γ = 1. Row and column n−1 of Z are unused, so their
// gradient is zero.
type structural[F birkhoff.Float] struct {
	n, m           int
	sph            *spectral.Sphere[F]
	zU, zV, sig    []F
	dzU, dzV, dsig []F
	tU, tV, tS     []float64 // the tanh values, for the backward
}

func newStructural[F birkhoff.Float](n int) *structural[F] {
	m := n - 1
	k := spectral.SkewLen(m)
	return &structural[F]{n: n, m: m, sph: spectral.NewSphere[F](n),
		zU: make([]F, k), zV: make([]F, k), sig: make([]F, m),
		dzU: make([]F, k), dzV: make([]F, k), dsig: make([]F, m),
		tU: make([]float64, k), tV: make([]float64, k), tS: make([]float64, m)}
}

func (s *structural[F]) forward(dst, z []F) (int, error) {
	n, k := s.n, 0
	for i := 0; i < s.m; i++ {
		s.tS[i] = math.Tanh(float64(z[i*n+i]))
		s.sig[i] = F(s.tS[i])
		for j := i + 1; j < s.m; j++ {
			s.tU[k] = math.Tanh(float64(z[i*n+j]))
			s.tV[k] = math.Tanh(float64(z[j*n+i]))
			s.zU[k] = F(sphereGamma * s.tU[k])
			s.zV[k] = F(sphereGamma * s.tV[k])
			k++
		}
	}
	_, err := s.sph.Forward(dst, s.zU, s.zV, s.sig)
	return 0, err
}

func (s *structural[F]) backward(dz, g []F) error {
	if err := s.sph.Backward(s.dzU, s.dzV, s.dsig, g); err != nil {
		return err
	}
	clear(dz)
	n, k := s.n, 0
	for i := 0; i < s.m; i++ {
		dz[i*n+i] = F(float64(s.dsig[i]) * (1 - s.tS[i]*s.tS[i]))
		for j := i + 1; j < s.m; j++ {
			dz[i*n+j] = F(float64(s.dzU[k]) * sphereGamma * (1 - s.tU[k]*s.tU[k]))
			dz[j*n+i] = F(float64(s.dzV[k]) * sphereGamma * (1 - s.tV[k]*s.tV[k]))
			k++
		}
	}
	return nil
}

// normalised is spectral.Normalizer with r = 1: H = Z/σ₁(Z), the logits
// taken as the unconstrained matrix A.
type normalised[F birkhoff.Float] struct {
	nz *spectral.Normalizer[F]
}

func (s *normalised[F]) forward(dst, z []F) (int, error) {
	_, err := s.nz.Forward(dst, z, 1)
	return 0, err
}

func (s *normalised[F]) backward(dz, g []F) error {
	_, err := s.nz.Backward(dz, g)
	return err
}
