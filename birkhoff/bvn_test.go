package birkhoff_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/birkhoff"
)

const (
	// bvnResidualTol is the acceptance bound on the max-abs
	// reconstruction error of an exact doubly stochastic input: the
	// subtractions leave about (n−1)²+1 roundings of 1.1e-16 each.
	bvnResidualTol = 1e-12
	// bvnWeightSumTol is the bound on |Σ w − 1| for such inputs.
	bvnWeightSumTol = 1e-12
	// bvnUniqueTol bounds the recovery error of weights that are uniquely
	// determined (disjoint supports): each weight is one entry, read back
	// exactly up to the rounding of building the input.
	bvnUniqueTol = 1e-15
	// bvnFixtureTol is half a unit in the last digit of SPEC §3.3's
	// measured diagonal 0.994008.
	bvnFixtureTol = 5e-7
	// bvnResidual32Tol bounds the reconstruction error of a float32 input,
	// whose entries carry a relative rounding of 6e-8 and whose default
	// zero threshold is 1e-6.
	bvnResidual32Tol = 2e-6
)

// bvnCheck verifies a decomposition of the n×n m: term count, valid
// permutations, positive non-increasing weights summing to 1, and a
// reconstruction error (recomputed here) equal to Residual and within tol.
func bvnCheck(t *testing.T, name string, m []float64, n int, d birkhoff.Decomposition, tol float64) {
	t.Helper()
	if len(d.Weights) != len(d.Perms) || len(d.Weights) == 0 {
		t.Fatalf("%s: %d weights, %d permutations", name, len(d.Weights), len(d.Perms))
	}
	if limit := (n-1)*(n-1) + 1; len(d.Weights) > limit {
		t.Errorf("%s: %d terms > (n−1)²+1 = %d", name, len(d.Weights), limit)
	}
	var sum float64
	for k, w := range d.Weights {
		if !(w > 0) || (k > 0 && w > d.Weights[k-1]) {
			t.Errorf("%s: weights not positive and non-increasing: %v", name, d.Weights)
			break
		}
		sum += w
	}
	if math.Abs(sum-1) > bvnWeightSumTol {
		t.Errorf("%s: weights sum to 1%+.3g", name, sum-1)
	}
	r := slices.Clone(m)
	for k, p := range d.Perms {
		if len(p) != n || birkhoff.PermutationIndex(p) < 0 {
			t.Fatalf("%s: term %d is %v", name, k, p)
		}
		for i, j := range p {
			r[i*n+j] -= d.Weights[k]
		}
	}
	var res float64
	for _, v := range r {
		res = max(res, math.Abs(v))
	}
	if res != d.Residual {
		t.Errorf("%s: Residual = %v, recomputed %v", name, d.Residual, res)
	}
	if res > tol {
		t.Errorf("%s: reconstruction error %.3g > %g", name, res, tol)
	}
}

// bvnRandomMixture returns Σ_k w_k P_k over terms random permutations with
// random positive weights summing to 1.
func bvnRandomMixture(rng *rand.Rand, n, terms int) []float64 {
	w := make([]float64, terms)
	var s float64
	for k := range w {
		w[k] = 0.05 + rng.Float64()
		s += w[k]
	}
	m := make([]float64, n*n)
	for k := range w {
		p := birkhoff.Permutation(nil, n, rng.IntN(birkhoff.Factorial(n)))
		for i, j := range p {
			m[i*n+j] += w[k] / s
		}
	}
	return m
}

func TestDecomposeMixtures(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	var worst float64
	for n := 1; n <= birkhoff.MaxPermN; n++ {
		for _, terms := range []int{1, 2, n, (n-1)*(n-1) + 1, 3 * n * n} {
			m := bvnRandomMixture(rng, n, terms)
			d, err := birkhoff.Decompose(m, n, 0)
			if err != nil {
				t.Fatalf("n=%d terms=%d: %v", n, terms, err)
			}
			bvnCheck(t, fmt.Sprintf("n=%d terms=%d", n, terms), m, n, d, bvnResidualTol)
			worst = max(worst, d.Residual)
		}
	}
	t.Logf("worst residual %.3g", worst)
}

// TestDecomposeRounded decomposes full-support matrices: a few Sinkhorn
// sweeps, made exact by Round. Full support is the hard case: the greedy
// rule must reach (n−1)²+1 terms or fewer from n² nonzeros.
func TestDecomposeRounded(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	var worst float64
	var most [birkhoff.MaxPermN + 1]int
	for n := 1; n <= birkhoff.MaxPermN; n++ {
		for _, sigma := range []float64{0.5, 2, 4} {
			z := make([]float64, n*n)
			for k := range z {
				z[k] = sigma * rng.NormFloat64()
			}
			m := roundSinkhorn(z, n, 3)
			if _, err := birkhoff.Round(m, m, n); err != nil {
				t.Fatal(err)
			}
			d, err := birkhoff.Decompose(m, n, 0)
			if err != nil {
				t.Fatalf("n=%d σ=%v: %v", n, sigma, err)
			}
			bvnCheck(t, fmt.Sprintf("n=%d σ=%v", n, sigma), m, n, d, bvnResidualTol)
			worst = max(worst, d.Residual)
			most[n] = max(most[n], len(d.Weights))
		}
	}
	t.Logf("worst residual %.3g; most terms by n: %v", worst, most[1:])
}

// TestDecomposeNearDS decomposes accepted inputs that are off exact
// marginals by up to DecomposeMaxDeviation: the default threshold scales
// with the deviation, so no noise terms appear and the residual stays at
// the deviation's size.
func TestDecomposeNearDS(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var worst float64
	for n := 2; n <= birkhoff.MaxPermN; n++ {
		m := bvnRandomMixture(rng, n, n*n)
		for k := range m {
			if m[k] > 0 {
				m[k] += 0.9 * birkhoff.DecomposeMaxDeviation / float64(n) * (2*rng.Float64() - 1)
			}
		}
		d, err := birkhoff.Decompose(m, n, 0)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if limit := (n-1)*(n-1) + 1; len(d.Weights) > limit || d.Residual > 2*birkhoff.DecomposeMaxDeviation {
			t.Errorf("n=%d: %d terms (limit %d), residual %.3g", n, len(d.Weights), limit, d.Residual)
		}
		worst = max(worst, d.Residual)
	}
	t.Logf("worst residual %.3g", worst)
}

func TestDecomposePermutation(t *testing.T) {
	for n := 1; n <= birkhoff.MaxPermN; n++ {
		k := birkhoff.Factorial(n) / 3
		p := birkhoff.Permutation(nil, n, k)
		m := make([]float64, n*n)
		for i, j := range p {
			m[i*n+j] = 1
		}
		d, err := birkhoff.Decompose(m, n, 0)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if len(d.Weights) != 1 || d.Weights[0] != 1 || !slices.Equal(d.Perms[0], p) || d.Residual != 0 {
			t.Errorf("n=%d: permutation %v decomposed into %v × %v, residual %v", n, p, d.Weights, d.Perms, d.Residual)
		}
	}
}

// TestDecomposeUnique recovers identity-dominant generating weights where
// the decomposition is unique: the powers of the cyclic shift of n = 4 have
// disjoint supports (a Latin square), so each weight is an entry.
func TestDecomposeUnique(t *testing.T) {
	const n = 4
	ps, _ := birkhoff.NewPerms(n)
	// Logits: 0 for the identity, then −1, −3, −8 (the −8 of the reference
	// init) for the shifts by 1, 2 and 3.
	shifts := [][]int{{0, 1, 2, 3}, {1, 2, 3, 0}, {2, 3, 0, 1}, {3, 0, 1, 2}}
	want := permSoftmax([]float64{0, -1, -3, -8})
	w := make([]float64, ps.Len())
	for s, p := range shifts {
		w[birkhoff.PermutationIndex(p)] = want[s]
	}
	m := make([]float64, n*n)
	birkhoff.Mix(m, ps, w)
	d, err := birkhoff.Decompose(m, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	bvnCheck(t, "cyclic shifts", m, n, d, bvnResidualTol)
	if len(d.Weights) != len(shifts) {
		t.Fatalf("%d terms, want %d", len(d.Weights), len(shifts))
	}
	for s, p := range shifts { // softmax of decreasing logits: already sorted
		if !slices.Equal(d.Perms[s], p) || math.Abs(d.Weights[s]-want[s]) > bvnUniqueTol {
			t.Errorf("term %d: %v × %v, want %v × %v", s, d.Weights[s], d.Perms[s], want[s], p)
		}
	}
}

// TestDecomposeMHCLite decomposes the mHC-lite reference init (SPEC §3.3:
// logit 0 for the identity, −8 for the other 23 permutations of n = 4).
// That point is interior to the polytope, so the 24 generating weights are
// not recoverable; what is determined is the heaviest term: the identity,
// with weight min diag H = w_I + 5ε = 0.994008 (SPEC §3.3, measured), where
// ε = e⁻⁸/(1 + 23e⁻⁸) and 5 is the number of other permutations of 4 fixing a
// given point. The rest, 6ε·(11ᵀ − I), is three derangements of weight 6ε.
func TestDecomposeMHCLite(t *testing.T) {
	const n = 4
	ps, _ := birkhoff.NewPerms(n)
	logits := make([]float64, ps.Len())
	for k := 1; k < len(logits); k++ {
		logits[k] = -8
	}
	m := make([]float64, n*n)
	birkhoff.Mix(m, ps, permSoftmax(logits))
	d, err := birkhoff.Decompose(m, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	bvnCheck(t, "mHC-lite init", m, n, d, bvnResidualTol)
	if !slices.Equal(d.Perms[0], []int{0, 1, 2, 3}) || math.Abs(d.Weights[0]-0.994008) > bvnFixtureTol {
		t.Errorf("first term %v × %v, want 0.994008 × identity", d.Weights[0], d.Perms[0])
	}
	eps := math.Exp(-8) / (1 + 23*math.Exp(-8))
	if len(d.Weights) != 4 {
		t.Fatalf("%d terms, want 4: %v", len(d.Weights), d.Weights)
	}
	for k, p := range d.Perms[1:] {
		for i, j := range p {
			if i == j {
				t.Errorf("term %d: %v is not a derangement", k+1, p)
			}
		}
		if w := d.Weights[k+1]; math.Abs(w-6*eps) > bvnUniqueTol {
			t.Errorf("term %d: weight %v, want 6ε = %v", k+1, w, 6*eps)
		}
	}
}

func TestDecomposeFloat32(t *testing.T) {
	const n = 6
	rng := rand.New(rand.NewPCG(17, 18))
	m64 := bvnRandomMixture(rng, n, 10)
	m := make([]float32, n*n)
	for k, v := range m64 {
		m[k] = float32(v)
	}
	d, err := birkhoff.Decompose(m, n, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Residual > bvnResidual32Tol || len(d.Weights) > (n-1)*(n-1)+1 {
		t.Errorf("float32: %d terms, residual %.3g > %g", len(d.Weights), d.Residual, bvnResidual32Tol)
	}
}

// TestDecomposeErrors checks every returned error with errors.Is and that
// bad shapes panic.
func TestDecomposeErrors(t *testing.T) {
	id := []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
	with := func(k int, v float64) []float64 {
		m := slices.Clone(id)
		m[k] = v
		return m
	}
	scaled := slices.Clone(id)
	for k := range scaled {
		scaled[k] *= 1.01
	}
	cases := []struct {
		name string
		m    []float64
		tol  float64
		want error
		says string
	}{
		{"NaN", with(4, math.NaN()), 0, birkhoff.ErrNonFinite, "(1, 1)"},
		{"Inf", with(2, math.Inf(1)), 0, birkhoff.ErrNonFinite, "(0, 2)"},
		{"negative", with(1, -0.5), 0, birkhoff.ErrNegative, "(0, 1)"},
		{"scaled", scaled, 0, birkhoff.ErrNotDoublyStochastic, "0.01"},
		{"off marginals", with(1, 1e-8), 0, birkhoff.ErrNotDoublyStochastic, "1e-08"},
		{"negative tol", id, -1, birkhoff.ErrMethod, "-1"},
		{"NaN tol", id, math.NaN(), birkhoff.ErrMethod, "NaN"},
	}
	for _, c := range cases {
		_, err := birkhoff.Decompose(c.m, 3, c.tol)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.want)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "birkhoff: ") || !strings.Contains(msg, c.says) {
			t.Errorf("%s: error %q does not say %q", c.name, msg, c.says)
		}
	}
	permMustPanic(t, "Decompose short", birkhoff.ErrShape, func() { birkhoff.Decompose(make([]float64, 8), 3, 0) })
}

// FuzzDecompose feeds Decompose arbitrary 3×3 matrices after Round (or
// raw when Round rejects them): it must return an error, or a valid
// decomposition of a rounded matrix.
func FuzzDecompose(f *testing.F) {
	f.Add(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Add(0.2, 0.3, 0.5, 0.5, 0.2, 0.3, 0.3, 0.5, 0.2)
	f.Add(1e308, 1e-300, 0.0, 0.0, 5e-324, 0.0, 7.0, 0.0, 1.0)
	f.Add(math.NaN(), 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Add(-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h, i, j float64) {
		const n = 3
		m := []float64{a, b, c, d, e, g, h, i, j}
		if _, err := birkhoff.Round(m, m, n); err != nil {
			if _, err := birkhoff.Decompose(m, n, 0); err == nil {
				t.Fatalf("Decompose accepted %v, which Round rejects", m)
			}
			return
		}
		dec, err := birkhoff.Decompose(m, n, 0)
		if err != nil {
			t.Fatalf("Decompose(Round(%v)): %v", m, err)
		}
		// The input's own rounding and the default zero threshold 1e-13
		// may leave a remainder of a few thresholds.
		bvnCheck(t, fmt.Sprint(m), m, n, dec, 1e-12)
	})
}

func BenchmarkDecompose(b *testing.B) {
	for _, n := range []int{4, 8} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(19, 20))
			z := make([]float64, n*n)
			for k := range z {
				z[k] = rng.NormFloat64()
			}
			m := roundSinkhorn(z, n, 3)
			birkhoff.Round(m, m, n)
			for b.Loop() {
				birkhoff.Decompose(m, n, 0)
			}
		})
	}
}
