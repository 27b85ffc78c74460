package hcgomlx

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/hyperconn/hyperconn/hc"
)

// TestLeadingAxes: streams with several leading axes ([B, S, n, C]) give
// the same sub-layer as the flattened [B·S, n, C], and Expand and Reduce
// match hc.Expand and hc.Reduce.
func TestLeadingAxes(t *testing.T) {
	const b, s, n, c = 2, 3, 4, 5
	m := newMixer(t, caseNamed(t, "mhc-exact"), n, c, 0.3, 3)
	mix, err := New(m, dtypes.Float64)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(4, 5))
	emb := randSlice(rnd, b*s*c)
	store := model.NewStore()
	exec := model.MustNewExec(testBackend(t), store, func(scope *model.Scope, e *graph.Node) []*graph.Node {
		x := Expand(e, n) // [B, S, n, C]
		branch := func(in *graph.Node) *graph.Node { return graph.Tanh(in) }
		y4, co := mix.Apply(scope, x, branch)
		y3, _ := mix.Apply(scope, graph.Reshape(x, b*s, n, c), branch)
		return []*graph.Node{x, y4, y3, Reduce(y4), co.Pre, co.Res}
	})
	out := exec.MustExec(tensors.FromFlatDataAndDimensions(emb, b, s, c))
	if got := out[1].Shape().Dimensions; len(got) != 4 || got[0] != b || got[1] != s || got[2] != n || got[3] != c {
		t.Fatalf("output shape %v", got)
	}
	if d := out[4].Shape().Dimensions; len(d) != 3 || d[2] != n {
		t.Errorf("h_pre shape %v", d)
	}
	if d := out[5].Shape().Dimensions; len(d) != 4 || d[2] != n || d[3] != n {
		t.Errorf("H_res shape %v", d)
	}
	x, y4, y3, red := flat(out[0]), flat(out[1]), flat(out[2]), flat(out[3])
	wantX := make([]float64, b*s*n*c)
	hc.Expand(wantX, emb, b*s, n, c)
	if d := maxAbsDiff(x, wantX); d != 0 {
		t.Errorf("Expand differs from hc.Expand by %g", d)
	}
	if d := maxAbsDiff(y4, y3); d != 0 {
		t.Errorf("[B, S, n, C] and [B·S, n, C] differ by %g", d)
	}
	wantR := make([]float64, b*s*c)
	hc.Reduce(wantR, y4, b*s, n, c)
	if d := maxAbsDiff(red, wantR); d > 1e-15 {
		t.Errorf("Reduce differs from hc.Reduce by %g", d)
	}
}

// caseNamed returns the mixer case called name.
func caseNamed(t testing.TB, name string) mixerCase {
	t.Helper()
	for _, mc := range mixerCases {
		if mc.name == name {
			return mc
		}
	}
	t.Fatalf("no mixer case %q", name)
	return mixerCase{}
}
