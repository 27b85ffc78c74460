package mhclite_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhclite"
)

func checkLiteSize(t *testing.T, cfg mhclite.Config) {
	t.Helper()
	mixertest.CheckSize(t, fmt.Sprintf("%+v", cfg),
		func() (hc.Mixer, error) {
			m, err := mhclite.New(cfg)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		func() (int, error) { return mhclite.NumParams(cfg) })
}

// TestNumParams checks NumParams against what New builds, up to MaxN.
func TestNumParams(t *testing.T) {
	for n := 1; n <= mhclite.MaxN; n++ {
		for _, c := range []int{1, 7, 32} {
			checkLiteSize(t, mhclite.PaperConfig(n, c, 2))
		}
	}
}

// TestNewTooLarge checks that a head too large for hc.MaxParams is refused
// with an error naming its size (n = 8, C = 512: 40336·8·512 values).
func TestNewTooLarge(t *testing.T) {
	cfg := mhclite.PaperConfig(8, 512, 0)
	checkLiteSize(t, cfg)
	_, err := mhclite.New(cfg)
	if !errors.Is(err, hc.ErrTooLarge) || !errors.Is(err, mhclite.ErrConfig) ||
		!strings.HasPrefix(err.Error(), "mhclite: ") || !strings.Contains(err.Error(), "GB") {
		t.Errorf("error %v, want ErrTooLarge and ErrConfig, naming GB", err)
	}
	checkLiteSize(t, mhclite.PaperConfig(9, 1, 0))
	checkLiteSize(t, mhclite.PaperConfig(1_000_000, 1, 0))
}

// FuzzNew checks, for any configuration, that New either refuses it or
// builds exactly NumParams values within hc.MaxParams.
func FuzzNew(f *testing.F) {
	f.Add(4, 16, 0, -8.0)
	f.Add(8, 400, 1, 0.0)
	f.Add(9, 1, 0, 0.0)
	f.Add(1_000_000, 1, 0, 0.0)
	f.Fuzz(func(t *testing.T, n, c, layer int, off float64) {
		checkLiteSize(t, mhclite.Config{N: n, C: c, Layer: layer, OffIdentity: off})
	})
}
