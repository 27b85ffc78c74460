package mixertest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hyperconn/hyperconn/hc"
)

// The shared head's reference init (SPEC §3.2): h_pre = sigmoid(±1),
// h_post = 2·sigmoid(±1) on the home stream and elsewhere, quoted to five
// decimals, so checked to half a unit in the last digit.
const (
	homePre, otherPre   = 0.73106, 0.26894
	homePost, otherPost = 1.46212, 0.53788
	gateTol             = 0.5e-5
)

// Init is a mixer's quoted init: H_res's diagonal and off-diagonal values
// and the tolerance of each (half a unit in the last quoted digit).
type Init struct {
	Diag, DiagTol float64
	Off, OffTol   float64
}

// CheckInit runs three random tokens through m (built for the sub-layer
// with index layer, so its home stream is layer mod n) and checks h_pre,
// h_post against the head's reference init and H_res against want. It
// returns the layer, whose Coefficients the caller may check further.
func CheckInit(t *testing.T, m hc.Mixer, layer int, want Init) *hc.Layer {
	t.Helper()
	const tokens = 3
	n, c := m.Shape()
	l := hc.NewLayer(m)
	rnd := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, tokens*n*c)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	if err := l.Pre(make([]float64, tokens*c), x, tokens); err != nil {
		t.Fatal(err)
	}
	near := func(what string, tok, i, j int, got, want, tol float64) {
		t.Helper()
		if !(math.Abs(got-want) <= tol) {
			t.Errorf("token %d: %s[%d][%d] = %.7g, want %g ± %g", tok, what, i, j, got, want, tol)
		}
	}
	pre, post, res := l.Coefficients()
	for tok := range tokens {
		for i := range n {
			wp, wq := otherPre, otherPost
			if i == layer%n {
				wp, wq = homePre, homePost
			}
			near("h_pre", tok, i, 0, pre[tok*n+i], wp, gateTol)
			near("h_post", tok, i, 0, post[tok*n+i], wq, gateTol)
			for j := range n {
				if i == j {
					near("H_res", tok, i, j, res[(tok*n+i)*n+j], want.Diag, want.DiagTol)
				} else {
					near("H_res", tok, i, j, res[(tok*n+i)*n+j], want.Off, want.OffTol)
				}
			}
		}
	}
	return l
}
