package hcgomlx

import (
	"errors"
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/mhclite"
)

// FuzzTransfer sets one native parameter entry to an arbitrary value and
// moves the parameters into existing GoMLX variables and back, in float32
// and float64: each call returns an error wrapping ErrParams, leaving every
// variable (CopyFromNative) or Param (CopyToNative) as it was, or copies
// the value exactly (rounded once to float32); it never panics.
func FuzzTransfer(f *testing.F) {
	for _, v := range []float64{0, 1, -2.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e308, -1e308, 3.5e38, 1e-320} {
		f.Add(v, uint(0))
		f.Add(v, uint(7))
	}
	f.Fuzz(func(t *testing.T, v float64, at uint) {
		for _, dt := range []dtypes.DType{dtypes.Float64, dtypes.Float32} {
			m, err := mhclite.New(mhclite.PaperConfig(3, 2, 0))
			if err != nil {
				t.Fatal(err)
			}
			mix, err := New(m, dt)
			if err != nil {
				t.Fatal(err)
			}
			scope := model.NewStore().RootScope()
			if err := mix.CopyFromNative(scope); err != nil {
				t.Fatal(err)
			}
			ps := m.Params()
			p := ps[int(at)%len(ps)]
			i := int(at) % len(p.Value)
			old := p.Value[i]
			p.Value[i] = v
			bad := math.IsNaN(v) || math.IsInf(v, 0) || (dt == dtypes.Float32 && math.IsInf(float64(float32(v)), 0))
			err = mix.CopyFromNative(scope)
			if bad != (err != nil) || (err != nil && !errors.Is(err, ErrParams)) {
				t.Fatalf("%s: CopyFromNative(%v): error %v", dt, v, err)
			}
			// Read the variables back into the native mixer: on error they
			// still hold the old value, else v (rounded to dt).
			p.Value[i] = 12345
			if err := mix.CopyToNative(scope); err != nil {
				t.Fatalf("%s: CopyToNative: %v", dt, err)
			}
			want := v
			if bad {
				want = old
			}
			if dt == dtypes.Float32 {
				want = float64(float32(want))
			}
			if got := p.Value[i]; got != want {
				t.Fatalf("%s: %s[%d] = %v after the transfer of %v, want %v", dt, p.Name, i, got, v, want)
			}
		}
	})
}
