package gemm

import (
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas"
)

// TestRecordReplay records a mix of products, replays them, and checks
// that the replay makes exactly the recorded calls, without allocating.
func TestRecordReplay(t *testing.T) {
	a, b, c := make([]float64, 60), make([]float64, 60), make([]float64, 60)
	a32, b32, c32 := make([]float32, 60), make([]float32, 60), make([]float32, 60)
	Record(true)
	Mul(blas.NoTrans, blas.Trans, 3, 4, 5, 1, a, 5, b, 5, 0, c, 4)
	Mul32(blas.Trans, blas.NoTrans, 5, 2, 3, 0.5, a32, 5, b32, 2, 1, c32, 2)
	Mul(blas.NoTrans, blas.NoTrans, 0, 4, 5, 1, a, 5, b, 4, 0, c, 4) // empty: not a call
	Mul(blas.NoTrans, blas.NoTrans, 2, 3, 0, 1, a, 1, b, 3, 2, c, 3) // k = 0: scales C
	got := Record(false)
	want := []Shape{
		{TransA: blas.NoTrans, TransB: blas.Trans, M: 3, N: 4, K: 5, Alpha: 1, Beta: 0},
		{TransA: blas.Trans, TransB: blas.NoTrans, M: 5, N: 2, K: 3, Alpha: 0.5, Beta: 1, Float32: true},
		{TransA: blas.NoTrans, TransB: blas.NoTrans, M: 2, N: 3, K: 0, Alpha: 1, Beta: 2},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
	if again := Record(false); len(again) != 0 {
		t.Errorf("a second stop returned %d shapes, want none", len(again))
	}
	replay := Replay(got, 1)
	Record(true)
	replay()
	if re := Record(false); !slices.Equal(re, want) {
		t.Errorf("replay made %+v, want %+v", re, want)
	}
	if allocs := testing.AllocsPerRun(10, replay); allocs != 0 {
		t.Errorf("replay allocates %v times per run", allocs)
	}
}
