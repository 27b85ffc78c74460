package net_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/hyperconn/hyperconn/net"
)

func ExampleNewMixer() {
	for _, name := range net.MixerNames() {
		m, err := net.NewMixer(name, 4, 8, 0)
		if err != nil {
			fmt.Println(err)
			continue
		}
		n, _ := m.Shape()
		fmt.Println(name, n, len(m.Params()))
	}
	_, err := net.NewMixer("dhc", 4, 8, 0)
	fmt.Println(err != nil)
	// Output:
	// residual 1 0
	// hc 4 8
	// hc-static 4 3
	// mhc 4 6
	// mhc-exact 4 6
	// mhclite 4 6
	// shc 4 12
	// idhc 4 4
	// kromhc 4 6
	// orthohc 4 6
	// mhc-v4 4 6
	// true
}

// ExampleTrainer_Run trains a small mHC network on a synthetic task, saves
// it, and resumes the run from the file.
func ExampleTrainer_Run() {
	rnd := rand.New(rand.NewPCG(1, 0))
	const k, dim = 200, 8
	data := &net.Dataset{X: make([]float64, k*dim), Y: make([]int, k), N: k, Dim: dim}
	for i := range k {
		for j := range dim {
			data.X[i*dim+j] = rnd.NormFloat64()
		}
		if data.X[i*dim] > data.X[i*dim+1] { // class: which of two features is larger
			data.Y[i] = 1
		}
	}
	m, err := net.NewModel(net.Config{Mixer: "mhc", N: 4, Width: 16, Depth: 4, Inputs: dim, Classes: 2, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	tr, err := net.NewTrainer(m, data, net.TrainConfig{Steps: 150, Batch: 32, LR: 3e-3, Warmup: 10, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := tr.Run(context.Background(), nil)
	fmt.Println(res.Outcome, res.Steps, err)
	_, acc, _ := m.Evaluate(data, 100)
	fmt.Println("training accuracy above 0.9:", acc > 0.9)

	dir, _ := os.MkdirTemp("", "net-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.ckpt")
	if err := tr.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	again, err := net.Resume(path, data)
	fmt.Println(again.Steps(), err)
	// Output:
	// completed 150 <nil>
	// training accuracy above 0.9: true
	// 150 <nil>
}
