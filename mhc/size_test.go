package mhc_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
	"github.com/hyperconn/hyperconn/mhc"
)

func checkMHCSize(t *testing.T, cfg mhc.Config) {
	t.Helper()
	mixertest.CheckSize(t, fmt.Sprintf("%+v", cfg),
		func() (hc.Mixer, error) {
			m, err := mhc.New(cfg)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		func() (int, error) { return mhc.NumParams(cfg) })
}

// TestNumParams checks NumParams against what New builds.
func TestNumParams(t *testing.T) {
	for _, n := range []int{1, 2, 3, 4, 8, 16} {
		for _, c := range []int{1, 7, 64} {
			checkMHCSize(t, mhc.PaperConfig(n, c, 3))
			checkMHCSize(t, mhc.ExactConfig(n, c, 3))
		}
	}
}

// TestConfigBounds checks the refusals of sizes and of settings that made
// every Pre fail: before them, n = 1e6 panicked in makeslice, and
// Iterations = 1e9 or OffDiagonal = 1e300 were accepted.
func TestConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		cfg   mhc.Config
		large bool   // wraps hc.ErrTooLarge
		want  string // in the message
	}{
		{mhc.Config{N: 1_000_000, C: 1}, true, "n = 1000000"},
		{mhc.Config{N: 600, C: 1}, true, "GB"}, // (1200 + 360000)·600 values
		{mhc.Config{N: 4, C: 1 << 30}, true, "TB"},
		{mhc.Config{N: 4, C: 4, Projection: birkhoff.Options{Iterations: 1e9}}, false, "Iterations"},
		{mhc.Config{N: 4, C: 4, Projection: birkhoff.Options{Method: birkhoff.Exact, MaxIter: 1e9}}, false, "MaxIter"},
		{mhc.Config{N: 4, C: 4, Projection: birkhoff.Options{Method: birkhoff.Exact, Tol: math.Inf(1)}}, false, "Tol"},
		{mhc.Config{N: 4, C: 4, OffDiagonal: 1e300}, false, "OffDiagonal"},
		{mhc.Config{N: 4, C: 4, OffDiagonal: -701}, false, "OffDiagonal"},
	} {
		checkMHCSize(t, tc.cfg)
		_, err := mhc.New(tc.cfg)
		switch {
		case !errors.Is(err, mhc.ErrConfig):
			t.Errorf("%+v: error %v, want ErrConfig", tc.cfg, err)
		case errors.Is(err, hc.ErrTooLarge) != tc.large:
			t.Errorf("%+v: error %v: wraps ErrTooLarge %v, want %v", tc.cfg, err, !tc.large, tc.large)
		case !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "mhc: "):
			t.Errorf("%+v: error %q does not start with \"mhc: \" and name %q", tc.cfg, err, tc.want)
		}
	}
	// The limits themselves are accepted, and the mixer works there.
	for _, cfg := range []mhc.Config{
		{N: 4, C: 4, OffDiagonal: -mhc.MaxOffDiagonal},
		{N: 4, C: 4, OffDiagonal: mhc.MaxOffDiagonal},
		{N: 4, C: 4, Projection: birkhoff.Options{Iterations: mhc.MaxIterations}},
	} {
		m, err := mhc.New(cfg)
		if err != nil {
			t.Fatalf("%+v: %v", cfg, err)
		}
		l := hc.NewLayer(m)
		x := make([]float64, 3*16)
		for i := range x {
			x[i] = float64(i%7) - 3
		}
		if err := l.Pre(make([]float64, 3*4), x, 3); err != nil {
			t.Errorf("%+v: Pre: %v", cfg, err)
		}
	}
}

// FuzzNew checks, for any configuration, that New either refuses it or
// builds exactly NumParams values within hc.MaxParams, allocating no more
// than their values and gradients plus a constant.
func FuzzNew(f *testing.F) {
	f.Add(4, 16, 0, 0, 0, 0, 0.0, -8.0)
	f.Add(1_000_000, 1, 0, 0, 0, 0, 0.0, 0.0)
	f.Add(600, 1, 0, 2, 0, 0, 0.0, 0.0)
	f.Add(4, 4, 0, 0, 1_000_000_000, 0, 0.0, 1e300)
	f.Add(16, 64, 3, 2, 0, 5, 1e-9, 0.0)
	f.Fuzz(func(t *testing.T, n, c, layer, method, iters, maxIter int, tol, off float64) {
		checkMHCSize(t, mhc.Config{N: n, C: c, Layer: layer, OffDiagonal: off,
			Projection: birkhoff.Options{Method: birkhoff.Method(method), Iterations: iters, MaxIter: maxIter, Tol: tol}})
	})
}
