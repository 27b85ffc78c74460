package hc_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/internal/mixertest"
)

// checkHCSize runs mixertest.CheckSize on hc.New(cfg).
func checkHCSize(t *testing.T, cfg hc.Config) {
	t.Helper()
	mixertest.CheckSize(t, fmt.Sprintf("%+v", cfg),
		func() (hc.Mixer, error) {
			m, err := hc.New(cfg)
			if err != nil {
				return nil, err
			}
			return m, nil
		},
		func() (int, error) { return hc.NumParams(cfg) })
}

// TestNumParams checks NumParams against what New builds.
func TestNumParams(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 4, 8, 16, 100} {
		for _, c := range []int{1, 7, 64} {
			for _, dyn := range []bool{false, true} {
				checkHCSize(t, hc.Config{N: n, C: c, Layer: 5, Dynamic: dyn})
			}
		}
	}
}

// TestNewTooLarge checks that sizes which would exhaust memory are
// refused, before allocating, with an error that names the size. Before
// NumParams, N = 1e6 died of "fatal error: out of memory".
func TestNewTooLarge(t *testing.T) {
	for _, tc := range []struct {
		cfg  hc.Config
		want string
	}{
		{hc.Config{N: 1_000_000, C: 1}, "n = 1000000"},
		{hc.Config{N: hc.MaxN + 1, C: 1, Dynamic: true}, "n = 1025"},
		{hc.Config{N: 1000, C: 1 << 20, Dynamic: true}, "GB"},
		{hc.Config{N: 4, C: 1 << 40, Dynamic: true}, "TB"},
	} {
		checkHCSize(t, tc.cfg)
		_, err := hc.New(tc.cfg)
		if !errors.Is(err, hc.ErrTooLarge) || !errors.Is(err, hc.ErrConfig) {
			t.Errorf("%+v: error %v, want ErrTooLarge and ErrConfig", tc.cfg, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "hc: ") {
			t.Errorf("%+v: error %q does not start with \"hc: \" and name %q", tc.cfg, err, tc.want)
		}
	}
	// The largest accepted static n.
	checkHCSize(t, hc.Config{N: hc.MaxN, C: 1})
}

// FuzzNew checks, for any configuration, that New either refuses it or
// builds exactly NumParams values within hc.MaxParams, allocating no more
// than their values and gradients plus a constant.
func FuzzNew(f *testing.F) {
	f.Add(4, 16, 0, true)
	f.Add(1_000_000, 1, 0, false)
	f.Add(1024, 1, 3, true)
	f.Add(2, 1<<25, 0, true)
	f.Add(-1, 4, 0, false)
	f.Add(4, 4, -1, true)
	f.Fuzz(func(t *testing.T, n, c, layer int, dyn bool) {
		checkHCSize(t, hc.Config{N: n, C: c, Layer: layer, Dynamic: dyn})
	})
}

// ExampleNumParams shows the count New checks before it allocates.
func ExampleNumParams() {
	k, _ := hc.NumParams(hc.Config{N: 4, C: 512, Dynamic: true})
	fmt.Println(k)
	_, err := hc.NumParams(hc.Config{N: 4, C: 1 << 30, Dynamic: true})
	fmt.Println(err)
	// Output:
	// 3098
	// hc: 6.442e+09 parameter values would need 103 GB for values and gradients, above the bound of 134217728 values: hc: configuration too large: hc: invalid config
}
