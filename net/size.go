package net

import (
	"fmt"

	"github.com/hyperconn/hyperconn/hc"
)

// MaxParams is the most parameter values a Model may hold (Params and
// Params32 together): 2²⁷ = 134 217 728, as hc.MaxParams. With their
// gradients and AdamW's two moments, in float64, that is 4.3 GB.
const MaxParams = hc.MaxParams

// footprintMargin covers what Footprint does not count one by one (slice
// headers, the step log, scratch of the projections, float32 copies):
// without it the estimate was 1.00–1.21× the allocations of two training
// steps (TestFootprint).
const footprintMargin = 1.5

// bytesPerParam is what a float64 parameter value costs with its gradient
// and AdamW's two moments.
const bytesPerParam = 4 * 8

// NumParams returns the number of parameter values of the Model that
// NewModel(cfg) builds (Params and Params32 together; NumParams of the
// Model), from the mixers' own count functions (hc.NumParams,
// mhc.NumParams, mhclite.NumParams, shc.NumParams, idhc.NumParams,
// kromhc.NumParams, orthohc.NumParams, which their constructors call). An invalid cfg gives the error NewModel would
// return, wrapping ErrConfig; a count above MaxParams also wraps
// hc.ErrTooLarge and names the memory it would need. NewModel and the
// checkpoint loader call it before they allocate.
func NumParams(cfg Config) (int, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0, err
	}
	mix, err := mixerParams(cfg.Mixer, cfg.N, cfg.Width)
	if err != nil {
		return 0, err
	}
	c, h := float64(cfg.Width), float64(cfg.Hidden)*float64(cfg.Width)
	linear := func(in, out float64) float64 { return in*out + out }
	block := float64(mix) + c + linear(c, h) + linear(h, c)
	count := linear(float64(cfg.Inputs), c) + float64(cfg.Depth)*block + c + linear(c, float64(cfg.Classes))
	if count > MaxParams {
		return 0, fmt.Errorf("net: config: %.4g parameter values would need %s with their gradients and AdamW moments, above the bound of %d values: %w: %w",
			count, hc.FormatBytes(bytesPerParam*count), MaxParams, hc.ErrTooLarge, ErrConfig)
	}
	return int(count), nil
}

// mixerParams returns the parameter count of one mixer NewMixer(name, n, c,
// layer) builds, whatever the layer, from the mixer package's own count
// (mixerKinds: the function its New checks first).
func mixerParams(name string, n, c int) (int, error) {
	if name == MixerResidual {
		return 0, nil
	}
	kind, ok := mixerKinds[name]
	if !ok {
		return 0, fmt.Errorf("net: Mixer %q unknown, want one of %q: %w", name, MixerNames(), ErrConfig)
	}
	k, err := kind.count(n, c)
	if err != nil {
		return 0, fmt.Errorf("net: mixer %q: %w: %w", name, ErrConfig, err)
	}
	return k, nil
}

// Footprint returns an estimate, in bytes, of the memory a Model of cfg
// and its Trainer hold when training on batches of batch rows: every
// parameter value with its gradient and AdamW's moments (32 bytes), each
// mixer's private gradients in up to hc.DefaultChunks Workers per block,
// and the activations and Layer buffers of a batch. It is an upper
// estimate for the sizes a CLI would refuse, not an exact count: 1.5–1.8×
// what two training steps allocate at width 48 (TestFootprint). Errors are those of NumParams.
func Footprint(cfg Config, batch int) (float64, error) {
	k, err := NumParams(cfg)
	if err != nil {
		return 0, err
	}
	cfg, _ = cfg.withDefaults()
	mix, _ := mixerParams(cfg.Mixer, cfg.N, cfg.Width)
	n, c, h := float64(cfg.N), float64(cfg.Width), float64(cfg.Hidden)*float64(cfg.Width)
	// Per row: the input, embedding, streams and their gradients, and per
	// block the branch activations (in, u, h, a) and the Layer's copies
	// (x, f, coefficients and their gradients); a token's tape is bounded
	// by 2n² + 44n + 8 (mhc with its Fixed-20 record; mhclite's n! is
	// within its head's count per row below).
	tape := 2*n*n + 44*n + 8
	if cfg.Mixer == MixerMHCLite {
		f := 1.0
		for i := 2; i <= cfg.N; i++ {
			f *= float64(i)
		}
		tape += f
	}
	row := 2*float64(cfg.Inputs) + 12*c + 3*n*c + 3*float64(cfg.Classes) +
		float64(cfg.Depth)*(3*c+2*h+n*c+4*n+3*n*n+1+tape)
	b := float64(batch)
	sum := bytesPerParam*float64(k) + 8*hc.DefaultChunks*float64(cfg.Depth)*float64(mix) + 8*b*row
	return footprintMargin * sum, nil
}
