package net

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/idhc"
	"github.com/hyperconn/hyperconn/kromhc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/mhclite"
	"github.com/hyperconn/hyperconn/orthohc"
	"github.com/hyperconn/hyperconn/shc"
)

// Mixer names accepted by NewMixer and Config.Mixer.
const (
	MixerResidual = "residual"  // plain residual x + F(x): n = 1, no parameters
	MixerHC       = "hc"        // dynamic Hyper-Connections (DHC, with tanh)
	MixerHCStatic = "hc-static" // static Hyper-Connections
	MixerMHC      = "mhc"       // mHC, the paper's Fixed-20 Sinkhorn, unrolled backward
	MixerMHCExact = "mhc-exact" // mHC with the exact projection and implicit backward
	MixerMHCV4    = "mhc-v4"    // mHC as DeepSeek-V4 ships it (mhc.DeepSeekV4Config)
	MixerMHCLite  = "mhclite"   // mHC-lite: convex combination of the n! permutations
	MixerSHC      = "shc"       // spectral-sphere HC (s²HC)
	MixerIDHC     = "idhc"      // identity HC: H_res = I, dynamic h_pre and h_post
	MixerKromHC   = "kromhc"    // KromHC: Kronecker product of permutation mixtures (n a product of factors ≤ 8)
	MixerOrthoHC  = "orthohc"   // orthogonal: H_res = Cayley(skew) ∈ SO(n)
)

// MaxLiteN is the largest stream count the mhclite mixer accepts: its
// residual head has n! logits per token, 40320 at n = 8.
const MaxLiteN = 8

// MixerNames returns the names NewMixer accepts, baseline first, in a fixed
// order. The slice is new on every call.
func MixerNames() []string {
	return []string{MixerResidual, MixerHC, MixerHCStatic, MixerMHC, MixerMHCExact, MixerMHCLite, MixerSHC,
		MixerIDHC, MixerKromHC, MixerOrthoHC, MixerMHCV4}
}

// mixerKind is how the mixer of one name is configured, built and counted:
// the one place that maps a name to its package, used by NewMixer and by
// NumParams (so a size check can never disagree with what is built).
type mixerKind struct {
	build func(n, c, layer int) (hc.Mixer, error)
	count func(n, c int) (int, error)
}

// kind returns the mixerKind of a mixer package from its preset, its New
// and its NumParams (the count New itself checks first).
func kind[C any, M hc.Mixer](preset func(n, c, layer int) C, build func(C) (M, error), count func(C) (int, error)) mixerKind {
	return mixerKind{
		build: func(n, c, layer int) (hc.Mixer, error) { return build(preset(n, c, layer)) },
		count: func(n, c int) (int, error) { return count(preset(n, c, 0)) },
	}
}

// mixerKinds holds every mixer of MixerNames but the residual.
var mixerKinds = map[string]mixerKind{
	MixerHC:       kind(hc.PaperConfig, hc.New, hc.NumParams),
	MixerHCStatic: kind(func(n, c, layer int) hc.Config { return hc.Config{N: n, C: c, Layer: layer} }, hc.New, hc.NumParams),
	MixerMHC:      kind(mhc.PaperConfig, mhc.New, mhc.NumParams),
	MixerMHCExact: kind(mhc.ExactConfig, mhc.New, mhc.NumParams),
	MixerMHCV4:    kind(mhc.DeepSeekV4Config, mhc.New, mhc.NumParams),
	MixerMHCLite:  kind(mhclite.PaperConfig, mhclite.New, mhclite.NumParams),
	MixerSHC:      kind(shc.PaperConfig, shc.New, shc.NumParams),
	MixerIDHC:     kind(idhc.PaperConfig, idhc.New, idhc.NumParams),
	MixerKromHC:   kind(kromhc.PaperConfig, kromhc.New, kromhc.NumParams),
	MixerOrthoHC:  kind(orthohc.PaperConfig, orthohc.New, orthohc.NumParams),
}

// NewMixer returns the mixer called name for n streams of width c, with its
// reference initialisation for the sub-layer of index layer (the HC family
// reads stream layer mod n at init). The residual mixer ignores n: it always
// has one stream. An unknown name, or sizes the mixer refuses, give an error
// wrapping ErrConfig that names the offending field.
func NewMixer(name string, n, c, layer int) (hc.Mixer, error) {
	if name != MixerResidual && n < 1 {
		return nil, fmt.Errorf("net: mixer %q: N = %d, want N ≥ 1: %w", name, n, ErrConfig)
	}
	if c < 1 {
		return nil, fmt.Errorf("net: mixer %q: C = %d, want C ≥ 1: %w", name, c, ErrConfig)
	}
	if name == MixerResidual {
		return hc.Residual(c), nil
	}
	if name == MixerMHCLite && n > MaxLiteN {
		return nil, fmt.Errorf("net: mixer %q: N = %d > %d: mhclite mixes all n! permutations (%d at n = 8) and is refused above: %w",
			name, n, MaxLiteN, 40320, ErrConfig)
	}
	k, ok := mixerKinds[name]
	if !ok {
		return nil, fmt.Errorf("net: Mixer %q unknown, want one of %q: %w", name, MixerNames(), ErrConfig)
	}
	m, err := k.build(n, c, layer)
	if err != nil {
		return nil, fmt.Errorf("net: mixer %q at layer %d: %w: %w", name, layer, ErrConfig, err)
	}
	return m, nil
}
