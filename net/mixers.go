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
	var (
		m   hc.Mixer
		err error
	)
	switch name {
	case MixerResidual:
		return hc.Residual(c), nil
	case MixerHC:
		m, err = hc.New(hc.PaperConfig(n, c, layer))
	case MixerHCStatic:
		m, err = hc.New(hc.Config{N: n, C: c, Layer: layer})
	case MixerMHC:
		m, err = mhc.New(mhc.PaperConfig(n, c, layer))
	case MixerMHCExact:
		m, err = mhc.New(mhc.ExactConfig(n, c, layer))
	case MixerMHCV4:
		m, err = mhc.New(mhc.DeepSeekV4Config(n, c, layer))
	case MixerMHCLite:
		if n > MaxLiteN {
			return nil, fmt.Errorf("net: mixer %q: N = %d > %d: mhclite mixes all n! permutations (%d at n = 8) and is refused above: %w",
				name, n, MaxLiteN, 40320, ErrConfig)
		}
		m, err = mhclite.New(mhclite.PaperConfig(n, c, layer))
	case MixerSHC:
		m, err = shc.New(shc.PaperConfig(n, c, layer))
	case MixerIDHC:
		m, err = idhc.New(idhc.PaperConfig(n, c, layer))
	case MixerKromHC:
		m, err = kromhc.New(kromhc.PaperConfig(n, c, layer))
	case MixerOrthoHC:
		m, err = orthohc.New(orthohc.PaperConfig(n, c, layer))
	default:
		return nil, fmt.Errorf("net: Mixer %q unknown, want one of %q: %w", name, MixerNames(), ErrConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("net: mixer %q at layer %d: %w: %w", name, layer, ErrConfig, err)
	}
	return m, nil
}
