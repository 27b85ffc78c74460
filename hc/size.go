package hc

import (
	"errors"
	"fmt"
)

// Size bounds. A Mixer's constructor counts the parameter values its
// configuration would hold before it allocates anything and refuses the
// configuration, with an error wrapping ErrTooLarge that names the size,
// when the count is above MaxParams or n above MaxN.
const (
	// MaxParams is the most parameter values one Mixer may hold: 2²⁷
	// (134 217 728). Each value comes with a gradient of the same length
	// and each Worker a Layer runs keeps a private gradient, so a Mixer at
	// the bound needs at least 2 GiB (float64 values and gradients).
	MaxParams = 1 << 27
	// MaxN is the largest number of streams n any Mixer accepts. A token's
	// coefficients hold n² + 2n values and a Layer's buffers grow with n²
	// per token, so n is bounded on its own, whatever C is.
	MaxN = 1 << 10
)

// ErrTooLarge is wrapped by every error that refuses a configuration for
// what it would allocate.
var ErrTooLarge = errors.New("hc: configuration too large")

// CheckParams returns an error wrapping ErrTooLarge, and naming the memory
// the parameters' values and gradients would take, if count is above
// MaxParams, and nil otherwise. pkg starts the message. count is a float64
// so that the product of huge sizes cannot overflow on the way.
func CheckParams(pkg string, count float64) error {
	if count <= MaxParams {
		return nil
	}
	return fmt.Errorf("%s: %.4g parameter values would need %s for values and gradients, above the bound of %d values: %w",
		pkg, count, FormatBytes(16*count), MaxParams, ErrTooLarge)
}

// CheckN returns an error wrapping ErrTooLarge if n is above MaxN, and nil
// otherwise. pkg starts the message.
func CheckN(pkg string, n int) error {
	if n <= MaxN {
		return nil
	}
	nn := float64(n) * float64(n)
	return fmt.Errorf("%s: n = %d streams would need %s per token for H_res alone (n² = %.4g values), above the bound of n ≤ %d: %w",
		pkg, n, FormatBytes(8*nn), nn, MaxN, ErrTooLarge)
}

// FormatBytes writes a byte count in decimal units, e.g. "6.4 GB".
func FormatBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f B", b)
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// NumParams returns the number of parameter values of the HC mixer that
// New(cfg) builds (defaults filled in): 2n + n² static values and, when
// dynamic, (n+2)·C weights and two scales. It returns the error New would
// return for cfg: one wrapping ErrConfig for an invalid field, and also
// ErrTooLarge for sizes above MaxN or MaxParams. New calls it before it
// allocates.
func NumParams(cfg Config) (int, error) {
	if cfg.N == 0 {
		cfg.N = DefaultN
	}
	switch {
	case cfg.N < 1:
		return 0, fmt.Errorf("hc: n = %d, want n ≥ 1: %w", cfg.N, ErrConfig)
	case cfg.C < 1:
		return 0, fmt.Errorf("hc: C = %d, want C ≥ 1: %w", cfg.C, ErrConfig)
	case cfg.Layer < 0:
		return 0, fmt.Errorf("hc: layer = %d, want layer ≥ 0: %w", cfg.Layer, ErrConfig)
	}
	if err := CheckN("hc", cfg.N); err != nil {
		return 0, fmt.Errorf("%w: %w", err, ErrConfig)
	}
	n, c := float64(cfg.N), float64(cfg.C)
	count := 2*n + n*n
	if cfg.Dynamic {
		count += (n+2)*c + 2
	}
	if err := CheckParams("hc", count); err != nil {
		return 0, fmt.Errorf("%w: %w", err, ErrConfig)
	}
	return int(count), nil
}
