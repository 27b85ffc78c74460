package hcgorgonia_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/hyperconn/hyperconn/adapters/hcgorgonia"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
)

// netConfig describes a residual classifier with the shape of net.Model:
//
//	x → embed (Linear to C) → Expand to n streams
//	  → Depth blocks X ← H_res·X + h_postᵀ·MLP(RMSNorm(h_pre·X))
//	  → Reduce → RMSNorm → head (Linear to Classes) → softmax cross-entropy
//
// with MLP = Linear C→Hidden·C, GELU, Linear Hidden·C→C. gorgonia has no
// erf, so its GELU is the sigmoid form x·σ(1.702x).
type netConfig struct {
	Tokens, Inputs, Classes int
	N, C, Depth, Hidden     int
	Seed                    uint64
	Mixer                   func(n, c, layer int) (hc.Mixer, error)
}

// network is a built graph: feed X and Y, run, read Loss.
type network struct {
	G          *G.ExprGraph
	X, Y       *G.Node // inputs: Tokens×Inputs, one-hot Tokens×Classes
	Loss       *G.Node // mean cross-entropy
	Learnables G.Nodes // every weight, mixer parameters included
	Layers     []*hcgorgonia.Layer
}

// buildNetwork builds the graph of cfg and its gradient.
func buildNetwork(cfg netConfig) (*network, error) {
	rnd := rand.New(rand.NewPCG(cfg.Seed, 0))
	g := G.NewGraph()
	nw := &network{G: g}
	T, c, hid := cfg.Tokens, cfg.C, cfg.Hidden*cfg.C
	nw.X = G.NewMatrix(g, G.Float64, G.WithShape(T, cfg.Inputs), G.WithName("x"), G.WithInit(G.Zeroes()))
	nw.Y = G.NewMatrix(g, G.Float64, G.WithShape(T, cfg.Classes), G.WithName("y"), G.WithInit(G.Zeroes()))

	param := func(name string, value []float64, shape ...int) *G.Node {
		v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(value))
		var n *G.Node
		if len(shape) == 1 {
			n = G.NewVector(g, G.Float64, G.WithShape(shape...), G.WithName(name), G.WithValue(v))
		} else {
			n = G.NewMatrix(g, G.Float64, G.WithShape(shape...), G.WithName(name), G.WithValue(v))
		}
		nw.Learnables = append(nw.Learnables, n)
		return n
	}
	// linear is x·W + b with Glorot-uniform W and zero b.
	linear := func(name string, x *G.Node, in, out int) (*G.Node, error) {
		a := math.Sqrt(6 / float64(in+out))
		w := make([]float64, in*out)
		for i := range w {
			w[i] = a * (2*rnd.Float64() - 1)
		}
		wn := param(name+".w", w, in, out)
		bn := param(name+".b", make([]float64, out), out)
		xw, err := G.Mul(x, wn)
		if err != nil {
			return nil, err
		}
		return G.BroadcastAdd(xw, bn, nil, []byte{0})
	}
	// rmsNorm is g ⊙ x / √(mean(x²) + 1e-6) row by row, g starting at 1.
	rmsNorm := func(name string, x *G.Node) (*G.Node, error) {
		gain := make([]float64, c)
		for i := range gain {
			gain[i] = 1
		}
		gn := param(name+".g", gain, c)
		ms, err := G.Mean(G.Must(G.Square(x)), 1)
		if err != nil {
			return nil, err
		}
		// Not InverseSqrt: gorgonia v0.9.18 gets its gradient wrong.
		rms := G.Must(G.Sqrt(G.Must(G.Add(ms, G.NewConstant(1e-6)))))
		u := G.Must(G.BroadcastHadamardDiv(x, rms, nil, []byte{1}))
		return G.BroadcastHadamardProd(u, gn, nil, []byte{0})
	}
	gelu := func(x *G.Node) (*G.Node, error) {
		return G.HadamardProd(x, G.Must(G.Sigmoid(G.Must(G.Mul(x, G.NewConstant(1.702))))))
	}

	emb, err := linear("embed", nw.X, cfg.Inputs, c)
	if err != nil {
		return nil, err
	}
	x, err := hcgorgonia.Expand(emb, cfg.N)
	if err != nil {
		return nil, err
	}
	for l := range cfg.Depth {
		m, err := cfg.Mixer(cfg.N, c, l)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("block%d", l)
		layer, err := hcgorgonia.NewLayer(g, m, name+".mixer")
		if err != nil {
			return nil, err
		}
		nw.Layers = append(nw.Layers, layer)
		nw.Learnables = append(nw.Learnables, layer.Params()...)
		x, err = layer.Apply(x, func(in *G.Node) (*G.Node, error) {
			u, err := rmsNorm(name+".norm", in)
			if err != nil {
				return nil, err
			}
			h, err := linear(name+".up", u, c, hid)
			if err != nil {
				return nil, err
			}
			a, err := gelu(h)
			if err != nil {
				return nil, err
			}
			return linear(name+".down", a, hid, c)
		})
		if err != nil {
			return nil, err
		}
	}
	red, err := hcgorgonia.Reduce(x, cfg.N)
	if err != nil {
		return nil, err
	}
	fin, err := rmsNorm("final", red)
	if err != nil {
		return nil, err
	}
	logits, err := linear("head", fin, c, cfg.Classes)
	if err != nil {
		return nil, err
	}
	logp := G.Must(G.Log(G.Must(G.SoftMax(logits))))
	nll := G.Must(G.Sum(G.Must(G.HadamardProd(logp, nw.Y))))
	if nw.Loss, err = G.Div(G.Must(G.Neg(nll)), G.NewConstant(float64(T))); err != nil {
		return nil, err
	}
	if _, err := G.Grad(nw.Loss, nw.Learnables...); err != nil {
		return nil, err
	}
	return nw, nil
}

// teacherData returns tokens random inputs and the one-hot labels a fixed
// random linear teacher gives them (argmax of x·W).
func teacherData(tokens, inputs, classes int, seed uint64) (x, y []float64) {
	rnd := rand.New(rand.NewPCG(seed, 0))
	w := make([]float64, inputs*classes)
	for i := range w {
		w[i] = rnd.NormFloat64()
	}
	x = make([]float64, tokens*inputs)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	y = make([]float64, tokens*classes)
	for t := range tokens {
		best, arg := math.Inf(-1), 0
		for k := range classes {
			var s float64
			for i := range inputs {
				s += x[t*inputs+i] * w[i*classes+k]
			}
			if s > best {
				best, arg = s, k
			}
		}
		y[t*classes+arg] = 1
	}
	return x, y
}

// trainMHC trains a 4-block mHC network on 64 teacher-labelled examples
// with Adam for steps steps, and returns the loss before each step and
// after the last, and the network.
func trainMHC(steps int) ([]float64, *network, error) {
	cfg := netConfig{
		Tokens: 64, Inputs: 16, Classes: 4,
		N: 4, C: 16, Depth: 4, Hidden: 4, Seed: 1,
		Mixer: func(n, c, l int) (hc.Mixer, error) { return mhc.New(mhc.PaperConfig(n, c, l)) },
	}
	nw, err := buildNetwork(cfg)
	if err != nil {
		return nil, nil, err
	}
	xs, ys := teacherData(cfg.Tokens, cfg.Inputs, cfg.Classes, 2)
	if err := G.Let(nw.X, tensor.New(tensor.WithShape(cfg.Tokens, cfg.Inputs), tensor.WithBacking(xs))); err != nil {
		return nil, nil, err
	}
	if err := G.Let(nw.Y, tensor.New(tensor.WithShape(cfg.Tokens, cfg.Classes), tensor.WithBacking(ys))); err != nil {
		return nil, nil, err
	}
	vm := G.NewTapeMachine(nw.G, G.BindDualValues(nw.Learnables...))
	defer vm.Close()
	solver := G.NewAdamSolver(G.WithLearnRate(0.01))
	var losses []float64
	for step := 0; step <= steps; step++ {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			return nil, nil, hcgorgonia.Cause(err)
		}
		losses = append(losses, nw.Loss.Value().Data().(float64))
		if step == steps {
			break
		}
		// The step also zeroes the gradients RunAll accumulated.
		if err := solver.Step(G.NodesToValueGrads(nw.Learnables)); err != nil {
			return nil, nil, err
		}
	}
	return losses, nw, nil
}

// Example_train trains a small gorgonia residual network whose four blocks
// are joined by mHC mixers (n = 4 streams of width 16): 100 Adam steps on
// 64 synthetic examples. The mixers' parameters are ordinary gorgonia
// nodes, updated by the solver like the MLP weights.
func Example_train() {
	losses, _, err := trainMHC(100)
	if err != nil {
		log.Fatal(err)
	}
	first, last := losses[0], losses[len(losses)-1]
	fmt.Printf("loss at step 0:    %.1f\n", first)
	fmt.Printf("loss after 100 steps below 1%% of it: %v\n", last < first/100)
	// Output:
	// loss at step 0:    1.9
	// loss after 100 steps below 1% of it: true
}
