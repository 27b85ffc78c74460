package shc_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/shc"
)

func checkSHCSize(t *testing.T, cfg shc.Config) {
	t.Helper()
	mixertest.CheckSize(t, fmt.Sprintf("%+v", cfg),
		func() (hc.Mixer, error) {
			m, err := shc.New(cfg)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		func() (int, error) { return shc.NumParams(cfg) })
}

// TestNumParams checks NumParams against what New builds, in both forms.
func TestNumParams(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 5, 8, 16} {
		for _, c := range []int{1, 7, 32} {
			cfg := shc.PaperConfig(n, c, 2)
			checkSHCSize(t, cfg)
			cfg.Form = shc.Normalized
			checkSHCSize(t, cfg)
		}
	}
}

// TestNewTooLarge checks refusals by size: before them n = 1e6 panicked in
// makeslice.
func TestNewTooLarge(t *testing.T) {
	for _, cfg := range []shc.Config{
		shc.PaperConfig(1_000_000, 1, 0),
		shc.PaperConfig(600, 1, 0),
		shc.PaperConfig(4, 1<<26, 0),
	} {
		checkSHCSize(t, cfg)
		_, err := shc.New(cfg)
		if !errors.Is(err, hc.ErrTooLarge) || !errors.Is(err, shc.ErrConfig) || !strings.HasPrefix(err.Error(), "shc: ") {
			t.Errorf("%+v: error %v, want ErrTooLarge and ErrConfig", cfg, err)
		}
	}
}

// FuzzNew checks, for any configuration, that New either refuses it or
// builds exactly NumParams values within hc.MaxParams.
func FuzzNew(f *testing.F) {
	f.Add(4, 16, 0, 0, 1.0)
	f.Add(600, 1, 0, 1, 0.0)
	f.Add(1_000_000, 1, 0, 0, 0.0)
	f.Add(3, 5, 2, 7, -1.0)
	f.Fuzz(func(t *testing.T, n, c, layer, form int, radius float64) {
		checkSHCSize(t, shc.Config{N: n, C: c, Layer: layer, Form: shc.Form(form), Radius: radius})
	})
}
