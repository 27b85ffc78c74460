package mixertest

import (
	"errors"
	"runtime"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// SizeSlack is the allocation CheckSize allows a constructor beyond 16
// bytes (a float64 value and its gradient) per parameter value: the
// mixer's structs, parameter names and small tables. The largest is
// mhclite's table of the 8! permutations and their indexes (measured
// 2.9 MB), built once per n and counted when the first mixer of that n is
// made.
const SizeSlack = 4 << 20

// SizeBuildLimit is the largest accepted parameter count CheckSize builds:
// 2²² values, 64 MiB with their gradients.
const SizeBuildLimit = 1 << 22

// Allocated returns the bytes f allocates on the heap (runtime.MemStats'
// TotalAlloc before and after; the caller must not run other goroutines).
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// CheckSize runs a constructor with its parameter-count function: build
// returns the mixer New makes and count the value NumParams gives (both
// with their errors). If New succeeds, count must succeed too, equal the
// values of the mixer's Params, be within hc.MaxParams, and New must have
// allocated at most 16 bytes per value plus SizeSlack. If New fails, count
// must fail with an error wrapping the same sentinels (ErrTooLarge for a
// refusal by size), and New must have allocated at most SizeSlack.
//
// An accepted count above SizeBuildLimit is only checked against
// hc.MaxParams, not built: a fuzzer would spend seconds and gigabytes on
// each such input (hc.MaxParams values take 2 GiB).
func CheckSize(t *testing.T, what string, build func() (hc.Mixer, error), count func() (int, error)) {
	t.Helper()
	k, kerr := count()
	if kerr == nil && k > SizeBuildLimit {
		if k > hc.MaxParams {
			t.Errorf("%s: NumParams accepted %d values, above hc.MaxParams = %d", what, k, hc.MaxParams)
		}
		return
	}
	var (
		m   hc.Mixer
		err error
	)
	bytes := Allocated(func() { m, err = build() })
	if err != nil {
		if kerr == nil {
			t.Errorf("%s: New refused (%v) but NumParams gave %d", what, err, k)
		}
		if errors.Is(err, hc.ErrTooLarge) != errors.Is(kerr, hc.ErrTooLarge) {
			t.Errorf("%s: New error %v, NumParams error %v: ErrTooLarge differs", what, err, kerr)
		}
		if bytes > SizeSlack {
			t.Errorf("%s: a refused New allocated %d bytes", what, bytes)
		}
		return
	}
	if kerr != nil {
		t.Fatalf("%s: New succeeded but NumParams failed: %v", what, kerr)
	}
	got := 0
	for _, p := range m.Params() {
		got += len(p.Value)
	}
	if got != k {
		t.Errorf("%s: NumParams = %d, the mixer holds %d values", what, k, got)
	}
	if k > hc.MaxParams {
		t.Errorf("%s: %d values accepted, above hc.MaxParams = %d", what, k, hc.MaxParams)
	}
	if limit := 16*uint64(k) + SizeSlack; bytes > limit {
		t.Errorf("%s: New allocated %d bytes for %d values, above %d", what, bytes, k, limit)
	}
}
