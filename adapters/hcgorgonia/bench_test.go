package hcgorgonia_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/hyperconn/hyperconn/adapters/hcgorgonia"
	"github.com/hyperconn/hyperconn/hc"
	"github.com/hyperconn/hyperconn/mhc"
	"github.com/hyperconn/hyperconn/net"
)

// Benchmark shape (issue 6, acceptance 3): 16 mHC blocks, n = 4 streams
// of width 32, MLP expansion 4, 64 inputs, 10 classes, as net.Model.
const (
	benchDepth   = 16
	benchN       = 4
	benchC       = 32
	benchInputs  = 64
	benchClasses = 10
)

var benchTokens = []int{16, 128}

func benchData(tokens int) (x []float64, labels []int, onehot []float64) {
	rnd := rand.New(rand.NewPCG(5, 5))
	x = make([]float64, tokens*benchInputs)
	for i := range x {
		x[i] = rnd.NormFloat64()
	}
	labels = make([]int, tokens)
	onehot = make([]float64, tokens*benchClasses)
	for t := range labels {
		labels[t] = rnd.IntN(benchClasses)
		onehot[t*benchClasses+labels[t]] = 1
	}
	return x, labels, onehot
}

// BenchmarkStep times one forward and backward pass of the 16-block
// network: built as a gorgonia graph with each mixer half as one op, and
// as the library's native net.Model. gorgonia's time includes its VM
// (one op call per node) and the allocation of every node's value.
func BenchmarkStep(b *testing.B) {
	for _, tokens := range benchTokens {
		b.Run(fmt.Sprintf("impl=gorgonia/tokens=%d", tokens), func(b *testing.B) {
			nw, err := buildNetwork(netConfig{
				Tokens: tokens, Inputs: benchInputs, Classes: benchClasses,
				N: benchN, C: benchC, Depth: benchDepth, Hidden: 4, Seed: 1,
				Mixer: func(n, c, l int) (hc.Mixer, error) { return mhc.New(mhc.PaperConfig(n, c, l)) },
			})
			if err != nil {
				b.Fatal(err)
			}
			x, _, onehot := benchData(tokens)
			if err := G.Let(nw.X, dense(x, tokens, benchInputs)); err != nil {
				b.Fatal(err)
			}
			if err := G.Let(nw.Y, dense(onehot, tokens, benchClasses)); err != nil {
				b.Fatal(err)
			}
			vm := G.NewTapeMachine(nw.G, G.BindDualValues(nw.Learnables...))
			defer vm.Close()
			for b.Loop() {
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					b.Fatal(err)
				}
				hcgorgonia.ZeroGrad(nw.Learnables...)
			}
			b.ReportMetric(float64(len(nw.G.AllNodes())), "nodes")
		})
		b.Run(fmt.Sprintf("impl=native/tokens=%d", tokens), func(b *testing.B) {
			m, err := net.NewModel(net.Config{
				Mixer: net.MixerMHC, N: benchN, Width: benchC, Depth: benchDepth,
				Hidden: 4, Inputs: benchInputs, Classes: benchClasses, Seed: 1,
			})
			if err != nil {
				b.Fatal(err)
			}
			x, labels, _ := benchData(tokens)
			for b.Loop() {
				if _, _, err := m.Forward(x, labels); err != nil {
					b.Fatal(err)
				}
				m.Backward()
				for _, p := range m.Params() {
					clear(p.Grad)
				}
			}
		})
	}
}
