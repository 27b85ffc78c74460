package net

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestLinearGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	const rows, in, out = 5, 7, 4
	l := NewLinear("fc", in, out, rnd)
	copy(l.B.Value, randSlice(rnd, out, 1))
	x := randSlice(rnd, rows*in, 1)
	g := randSlice(rnd, rows*out, 1) // random upstream gradient
	y := make([]float64, rows*out)
	loss := func() float64 {
		l.Forward(y, x, rows)
		return dot(g, y)
	}
	dx := make([]float64, rows*in)
	l.Backward(dx, g, x, rows)
	checkGrad(t, "Linear dx", dx, x, loss)
	checkGrad(t, "Linear dW", l.W.Grad, l.W.Value, loss)
	checkGrad(t, "Linear db", l.B.Grad, l.B.Value, loss)

	// Backward accumulates into the parameter gradients, and a nil dx skips
	// the input gradient without changing them.
	dW := append([]float64(nil), l.W.Grad...)
	db := append([]float64(nil), l.B.Grad...)
	l.Backward(nil, g, x, rows)
	for i := range dW {
		dW[i] *= 2
	}
	for i := range db {
		db[i] *= 2
	}
	if e := relErr(l.W.Grad, dW); e > gemmTol {
		t.Errorf("W.Grad after two passes differs from twice one pass by %.3g", e)
	}
	if e := relErr(l.B.Grad, db); e > gemmTol {
		t.Errorf("B.Grad after two passes differs from twice one pass by %.3g", e)
	}
}

func TestEmptyBatch(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 3))
	l := NewLinear("fc", 100, 300, rnd) // more than one tile each way
	copy(l.W.Grad, randSlice(rnd, len(l.W.Grad), 1))
	before := append([]float64(nil), l.W.Grad...)
	l.Forward(nil, nil, 0)
	l.Backward([]float64{}, nil, nil, 0)
	if relErr(l.W.Grad, before) != 0 {
		t.Error("an empty batch changed W.Grad")
	}
	n := NewRMSNorm("n", 4)
	n.Forward(nil, nil, 0)
	n.Backward(nil, nil, nil, 0)
}

func TestLinearForwardByHand(t *testing.T) {
	l := NewLinear("fc", 2, 3, rand.New(rand.NewPCG(0, 0)))
	copy(l.W.Value, []float64{1, 2, 3, 4, 5, 6})
	copy(l.B.Value, []float64{0.5, -1, 0})
	y := make([]float64, 6)
	l.Forward(y, []float64{1, 2, -1, 0}, 2)
	// By hand: [1 2]·W = [9 12 15], [−1 0]·W = [−1 −2 −3], plus b.
	want := []float64{9.5, 11, 15, -0.5, -3, -3}
	for i := range want {
		if y[i] != want[i] {
			t.Fatalf("y = %v, want %v", y, want)
		}
	}
}

// TestLinearTiles compares Linear with naive loops at sizes that cross the
// GEMM tile boundaries in every dimension.
func TestLinearTiles(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	const rows, in, out = 130, 70, 400
	l := NewLinear("fc", in, out, rnd)
	copy(l.B.Value, randSlice(rnd, out, 1))
	x := randSlice(rnd, rows*in, 1)
	dy := randSlice(rnd, rows*out, 1)
	y := make([]float64, rows*out)
	dx := make([]float64, rows*in)
	l.Forward(y, x, rows)
	l.Backward(dx, dy, x, rows)

	wantY := make([]float64, rows*out)
	wantDX := make([]float64, rows*in)
	wantDW := make([]float64, in*out)
	for r := range rows {
		for j := range out {
			s := l.B.Value[j]
			for k := range in {
				s += x[r*in+k] * l.W.Value[k*out+j]
			}
			wantY[r*out+j] = s
		}
		for k := range in {
			var s float64
			for j := range out {
				s += dy[r*out+j] * l.W.Value[k*out+j]
			}
			wantDX[r*in+k] = s
		}
	}
	for k := range in {
		for j := range out {
			var s float64
			for r := range rows {
				s += x[r*in+k] * dy[r*out+j]
			}
			wantDW[k*out+j] = s
		}
	}
	for _, c := range []struct {
		name      string
		got, want []float64
	}{{"y", y, wantY}, {"dx", dx, wantDX}, {"dW", l.W.Grad, wantDW}} {
		if e := relErr(c.got, c.want); e > gemmTol {
			t.Errorf("%s: relative difference from naive loops %.3g > %g", c.name, e, gemmTol)
		}
	}
}

func TestLinearInit(t *testing.T) {
	const in, out = 300, 100
	a := NewLinear("fc", in, out, rand.New(rand.NewPCG(7, 7)))
	b := NewLinear("fc", in, out, rand.New(rand.NewPCG(7, 7)))
	bound := math.Sqrt(6.0 / (in + out))
	var sum, sq float64
	for i, w := range a.W.Value {
		if w != b.W.Value[i] {
			t.Fatalf("same seed gave different weights at %d", i)
		}
		if math.Abs(w) > bound {
			t.Fatalf("weight %v outside ±%v", w, bound)
		}
		sum += w
		sq += w * w
	}
	n := float64(len(a.W.Value))
	// U(−a, a) has mean 0 and variance a²/3; with 30000 draws the sample
	// mean's standard error is a/300 and the variance's about 0.5%, so five
	// standard errors bound both.
	if mean := sum / n; math.Abs(mean) > 5*bound/math.Sqrt(3*n) {
		t.Errorf("weight mean %v too far from 0", mean)
	}
	if v := sq / n; math.Abs(v/(bound*bound/3)-1) > 5*math.Sqrt(0.8/n) {
		t.Errorf("weight variance %v, want about %v", v, bound*bound/3)
	}
	for _, v := range a.B.Value {
		if v != 0 {
			t.Fatalf("bias not zero: %v", a.B.Value)
		}
	}
	if p := a.Params(); len(p) != 2 || p[0].Name != "fc.w" || p[0].NoDecay || p[1].Name != "fc.b" || !p[1].NoDecay {
		t.Errorf("Params() = %v %v, want fc.w (decayed) and fc.b (no decay)", p[0], p[1])
	}
}

func TestRMSNormGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	const rows, c = 4, 9
	n := NewRMSNorm("norm", c)
	copy(n.Gain.Value, randSlice(rnd, c, 2))
	x := randSlice(rnd, rows*c, 1)
	x[3] = 0.001 // a small entry inside one row
	g := randSlice(rnd, rows*c, 1)
	y := make([]float64, rows*c)
	loss := func() float64 {
		n.Forward(y, x, rows)
		return dot(g, y)
	}
	dx := make([]float64, rows*c)
	n.Backward(dx, g, x, rows)
	checkGrad(t, "RMSNorm dx", dx, x, loss)
	checkGrad(t, "RMSNorm dgain", n.Gain.Grad, n.Gain.Value, loss)

	// In place: dx may be dy.
	dd := append([]float64(nil), g...)
	n.Backward(dd, dd, x, rows)
	if e := relErr(dd, dx); e != 0 {
		t.Errorf("in-place backward differs by %g", e)
	}
}

func TestRMSNormByHand(t *testing.T) {
	n := NewRMSNorm("norm", 2)
	n.Eps = 0
	y := []float64{3, 4}
	n.Forward(y, y, 1)
	// By hand: rms([3, 4]) = √12.5, so y = [3, 4]/√12.5 = [0.6√2, 0.8√2].
	want := []float64{0.6 * math.Sqrt2, 0.8 * math.Sqrt2}
	if relErr(y, want) > valueTol {
		t.Errorf("y = %v, want %v", y, want)
	}
	if NewRMSNorm("n", 3).Eps != DefaultRMSEps {
		t.Error("NewRMSNorm does not set DefaultRMSEps")
	}
}

func TestGELU(t *testing.T) {
	// Φ(1) = 0.8413447460685429 (standard normal CDF, Abramowitz & Stegun
	// 26.2.2 table), so gelu(1) = Φ(1) and gelu(−1) = −(1 − Φ(1)).
	x := []float64{0, 1, -1, 40, -40}
	want := []float64{0, 0.8413447460685429, -0.15865525393145707, 40, 0}
	y := make([]float64, len(x))
	GELU(y, x)
	for i := range x {
		if math.Abs(y[i]-want[i]) > valueTol {
			t.Errorf("gelu(%v) = %v, want %v", x[i], y[i], want[i])
		}
	}

	rnd := rand.New(rand.NewPCG(8, 9))
	x = randSlice(rnd, 50, 4)
	g := randSlice(rnd, 50, 1)
	y = make([]float64, 50)
	dx := make([]float64, 50)
	GELUBackward(dx, g, x)
	checkGrad(t, "GELU dx", dx, x, func() float64 {
		GELU(y, x)
		return dot(g, y)
	})
}

func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(10, 11))
	const rows, classes = 6, 5
	z := randSlice(rnd, rows*classes, 3)
	labels := []int{0, 4, 2, 2, 1, 3}
	// The loss is a scalar: a random upstream scale s checks s·∂loss/∂z.
	s := 0.5 + rnd.Float64()
	dz := make([]float64, rows*classes)
	if _, _, err := SoftmaxCrossEntropy(dz, z, labels, classes); err != nil {
		t.Fatal(err)
	}
	for i := range dz {
		dz[i] *= s
	}
	checkGrad(t, "SoftmaxCrossEntropy dz", dz, z, func() float64 {
		loss, _, err := SoftmaxCrossEntropy(nil, z, labels, classes)
		if err != nil {
			t.Fatal(err)
		}
		return s * loss
	})
	// Every gradient row sums to zero (softmax minus a one-hot).
	for r := range rows {
		var sum float64
		for _, v := range dz[r*classes : (r+1)*classes] {
			sum += v
		}
		if math.Abs(sum) > valueTol {
			t.Errorf("row %d of the gradient sums to %g", r, sum)
		}
	}
}

func TestSoftmaxCrossEntropyValues(t *testing.T) {
	for _, c := range []struct {
		name    string
		z       []float64
		labels  []int
		loss    float64 // source: closed form in the name
		correct int
	}{
		{"uniform: ln 3", []float64{0, 0, 0}, []int{1}, math.Log(3), 0}, // tie: argmax is class 0
		{"tie at label: ln 2", []float64{1000, 1000}, []int{0}, math.Log(2), 1},
		{"huge margin: 1000", []float64{1000, 0}, []int{1}, 1000, 0},
		{"huge negative: 0", []float64{-1000, 0}, []int{1}, 0, 1},
		{"mean of ln 2 and 0: ln 2 / 2", []float64{5, 5, 1e3, -1e3}, []int{1, 0}, math.Log(2) / 2, 1},
	} {
		dz := make([]float64, len(c.z))
		loss, correct, err := SoftmaxCrossEntropy(dz, c.z, c.labels, len(c.z)/len(c.labels))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(loss-c.loss) > valueTol*max(1, c.loss) || correct != c.correct {
			t.Errorf("%s: loss %v correct %d, want %v and %d", c.name, loss, correct, c.loss, c.correct)
		}
		for _, v := range dz {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s: non-finite gradient %v", c.name, dz)
			}
		}
	}
}

func TestSoftmaxCrossEntropyErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		z      []float64
		labels []int
		err    error
	}{
		{"NaN", []float64{0, math.NaN(), 1, 2}, []int{0, 1}, ErrNonFinite},
		{"+Inf", []float64{0, 1, math.Inf(1), 2}, []int{0, 1}, ErrNonFinite},
		{"-Inf", []float64{math.Inf(-1), 1, 0, 2}, []int{0, 1}, ErrNonFinite},
		{"label 2", []float64{0, 1, 1, 2}, []int{0, 2}, ErrLabel},
		{"label -1", []float64{0, 1, 1, 2}, []int{-1, 1}, ErrLabel},
	} {
		dz := []float64{7, 7, 7, 7}
		_, _, err := SoftmaxCrossEntropy(dz, c.z, c.labels, 2)
		if !errors.Is(err, c.err) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.err)
		}
		for _, v := range dz {
			if v != 7 {
				t.Errorf("%s: destination written on error: %v", c.name, dz)
				break
			}
		}
	}
	if loss, correct, err := SoftmaxCrossEntropy(nil, nil, nil, 3); loss != 0 || correct != 0 || err != nil {
		t.Errorf("empty batch: %v %v %v", loss, correct, err)
	}
}

func TestShapePanics(t *testing.T) {
	rnd := rand.New(rand.NewPCG(0, 1))
	l := NewLinear("fc", 3, 2, rnd)
	n := NewRMSNorm("n", 3)
	mustPanicWith(t, ErrShape, "Linear.Forward x", func() { l.Forward(make([]float64, 4), make([]float64, 5), 2) })
	mustPanicWith(t, ErrShape, "Linear.Forward dst", func() { l.Forward(make([]float64, 3), make([]float64, 6), 2) })
	mustPanicWith(t, ErrShape, "Linear.Backward dx", func() { l.Backward(make([]float64, 5), make([]float64, 4), make([]float64, 6), 2) })
	mustPanicWith(t, ErrShape, "Linear.Backward dy", func() { l.Backward(nil, make([]float64, 3), make([]float64, 6), 2) })
	mustPanicWith(t, ErrShape, "NewLinear", func() { NewLinear("fc", 0, 2, rnd) })
	mustPanicWith(t, ErrShape, "RMSNorm.Forward", func() { n.Forward(make([]float64, 6), make([]float64, 5), 2) })
	mustPanicWith(t, ErrShape, "RMSNorm.Backward", func() { n.Backward(make([]float64, 6), make([]float64, 6), make([]float64, 3), 2) })
	mustPanicWith(t, ErrShape, "NewRMSNorm", func() { NewRMSNorm("n", 0) })
	mustPanicWith(t, ErrShape, "GELU", func() { GELU(make([]float64, 2), make([]float64, 3)) })
	mustPanicWith(t, ErrShape, "GELUBackward", func() { GELUBackward(make([]float64, 3), make([]float64, 2), make([]float64, 3)) })
	mustPanicWith(t, ErrShape, "SoftmaxCrossEntropy logits", func() { SoftmaxCrossEntropy(nil, make([]float64, 5), []int{0, 1}, 3) })
	mustPanicWith(t, ErrShape, "SoftmaxCrossEntropy dlogits", func() { SoftmaxCrossEntropy(make([]float64, 5), make([]float64, 6), []int{0, 1}, 3) })
}

// TestMLPGradient checks a whole chain — RMSNorm → Linear → GELU → Linear →
// softmax cross-entropy — against central differences for the input and
// every parameter, the way the network will compose the layers.
func TestMLPGradient(t *testing.T) {
	rnd := rand.New(rand.NewPCG(12, 13))
	const rows, in, hidden, classes = 3, 6, 8, 4
	norm := NewRMSNorm("norm", in)
	copy(norm.Gain.Value, randSlice(rnd, in, 2))
	fc1 := NewLinear("fc1", in, hidden, rnd)
	fc2 := NewLinear("fc2", hidden, classes, rnd)
	copy(fc1.B.Value, randSlice(rnd, hidden, 0.5))
	copy(fc2.B.Value, randSlice(rnd, classes, 0.5))
	x := randSlice(rnd, rows*in, 2)
	labels := []int{3, 0, 2}

	xn := make([]float64, rows*in)
	h := make([]float64, rows*hidden)
	a := make([]float64, rows*hidden)
	z := make([]float64, rows*classes)
	forward := func(dz []float64) float64 {
		norm.Forward(xn, x, rows)
		fc1.Forward(h, xn, rows)
		GELU(a, h)
		fc2.Forward(z, a, rows)
		loss, _, err := SoftmaxCrossEntropy(dz, z, labels, classes)
		if err != nil {
			t.Fatal(err)
		}
		return loss
	}
	dz := make([]float64, rows*classes)
	forward(dz)
	da := make([]float64, rows*hidden)
	fc2.Backward(da, dz, a, rows)
	GELUBackward(da, da, h)
	dxn := make([]float64, rows*in)
	fc1.Backward(dxn, da, xn, rows)
	dx := make([]float64, rows*in)
	norm.Backward(dx, dxn, x, rows)

	loss := func() float64 { return forward(nil) }
	checkGrad(t, "MLP dx", dx, x, loss)
	for _, p := range append(append(norm.Params(), fc1.Params()...), fc2.Params()...) {
		checkGrad(t, "MLP d"+p.Name, p.Grad, p.Value, loss)
	}
}

func TestLayersDoNotAllocate(t *testing.T) {
	rnd := rand.New(rand.NewPCG(14, 15))
	// 784×64 at batch 64: a shape where an untiled gonum Dgemm would take
	// its allocating parallel path for the weight gradient.
	const rows, in, out = 64, 784, 64
	l := NewLinear("fc", in, out, rnd)
	n := NewRMSNorm("n", in)
	x := randSlice(rnd, rows*in, 1)
	y := make([]float64, rows*out)
	dy := randSlice(rnd, rows*out, 1)
	dx := make([]float64, rows*in)
	labels := make([]int, rows)
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"Linear", func() { l.Forward(y, x, rows); l.Backward(dx, dy, x, rows) }},
		{"RMSNorm", func() { n.Forward(dx, x, rows); n.Backward(dx, dx, x, rows) }},
		{"GELU", func() { GELU(dx, x); GELUBackward(dx, dx, x) }},
		{"SoftmaxCrossEntropy", func() {
			if _, _, err := SoftmaxCrossEntropy(y, dy, labels, out); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		if a := testing.AllocsPerRun(5, c.f); a != 0 {
			t.Errorf("%s allocates %v times per run", c.name, a)
		}
	}
}

// BenchmarkLinear times one forward and one backward pass (with dx) of a
// C→C Linear on a batch of 64 rows: 6·64·C² flops.
func BenchmarkLinear(b *testing.B) {
	const rows = 64
	for _, c := range []int{64, 128, 256, 512} {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			rnd := rand.New(rand.NewPCG(1, 1))
			l := NewLinear("fc", c, c, rnd)
			x := randSlice(rnd, rows*c, 1)
			dy := randSlice(rnd, rows*c, 1)
			y := make([]float64, rows*c)
			dx := make([]float64, rows*c)
			b.ReportAllocs()
			for b.Loop() {
				l.Forward(y, x, rows)
				l.Backward(dx, dy, x, rows)
			}
			flops := 6 * float64(rows) * float64(c) * float64(c)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func ExampleLinear() {
	l := NewLinear("fc", 2, 3, rand.New(rand.NewPCG(1, 2)))
	copy(l.W.Value, []float64{1, 2, 3, 4, 5, 6}) // W is In×Out, row-major
	copy(l.B.Value, []float64{0.5, -1, 0})
	x := []float64{1, 2} // one row
	y := make([]float64, 3)
	l.Forward(y, x, 1)
	fmt.Println(y)

	// Backward accumulates xᵀ·dy into W.Grad and writes dy·Wᵀ into dx.
	dx := make([]float64, 2)
	l.Backward(dx, []float64{1, 0, -1}, x, 1)
	fmt.Println(dx, l.W.Grad)
	// Output:
	// [9.5 11 15]
	// [-2 -2] [1 0 -1 2 0 -2]
}

func ExampleSoftmaxCrossEntropy() {
	logits := []float64{
		2, 0, 0, // row 0: class 0 wins, label 0
		0, 0, 3, // row 1: class 2 wins, label 1
	}
	grad := make([]float64, len(logits))
	loss, correct, err := SoftmaxCrossEntropy(grad, logits, []int{0, 1}, 3)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("loss %.4f, %d of 2 correct\n", loss, correct)
	fmt.Printf("grad row 1: %.4f\n", grad[3:])
	// By hand: loss = (ln(e²+2) − 2 + ln(e³+2))/2; row 1 of the gradient is
	// (softmax([0 0 3]) − e₁)/2.
	// Output:
	// loss 1.6672, 1 of 2 correct
	// grad row 1: [0.0226 -0.4774 0.4547]
}

// FuzzSoftmaxCrossEntropy checks that any logits and labels give an error
// with the destination untouched, or a finite non-negative loss and a finite
// gradient — never a panic.
func FuzzSoftmaxCrossEntropy(f *testing.F) {
	f.Add(0.0, 1.0, -1.0, 2.0, 1, 0)
	f.Add(1e308, -1e308, math.NaN(), 0.0, 0, 1)
	f.Add(math.Inf(1), 0.0, 0.0, 0.0, 1, 1)
	f.Add(0.0, 0.0, 0.0, 0.0, 2, -1)
	f.Fuzz(func(t *testing.T, a, b, c, d float64, y0, y1 int) {
		z := []float64{a, b, c, d}
		dz := []float64{7, 7, 7, 7}
		loss, correct, err := SoftmaxCrossEntropy(dz, z, []int{y0, y1}, 2)
		if err != nil {
			if !errors.Is(err, ErrNonFinite) && !errors.Is(err, ErrLabel) {
				t.Fatalf("unexpected error %v", err)
			}
			for _, v := range dz {
				if v != 7 {
					t.Fatalf("destination written on error: %v", dz)
				}
			}
			return
		}
		if !(loss >= 0) || math.IsInf(loss, 0) || correct < 0 || correct > 2 {
			t.Fatalf("loss %v, correct %d", loss, correct)
		}
		for _, v := range dz {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("non-finite gradient %v", dz)
			}
		}
	})
}
