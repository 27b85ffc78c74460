// Package hcgorgonia puts the residual hyper-connection mixers of hyperconn
// (hc, mhc, mhclite, shc, and hc.Residual) into gorgonia graphs
// (gorgonia.org/gorgonia v0.9.18). It is a separate package so that the rest
// of the library never imports gorgonia.
//
// # What it computes
//
// One sub-layer of a hyper-connected network maps the n residual streams
// X ∈ R^{n×C} of every token to
//
//	X' = H_res·X + h_postᵀ·F(h_pre·X)
//
// with per-token coefficients h_pre, h_post and H_res computed by a mixer
// (see package hc). A Layer adds this to a graph as two ops around a branch F
// that the caller builds from ordinary gorgonia nodes:
//
//	in  := layer.Pre(x)       // h_pre·X, one op: hc.Layer.Pre
//	f   := F(in)              // the caller's sub-graph
//	out := layer.Post(x, f)   // H_res·X + h_postᵀ·f, one op: hc.Layer.Post
//
// or layer.Apply(x, F). Their gradient ops run the library's fused backward
// passes, hc.Layer.PostBackward and PreBackward, so a mixer costs a handful of
// graph nodes however many operations its coefficient map has (the paper's
// Sinkhorn alone is 20 sweeps). Expand (n copies of the embedding) and Reduce
// (the sum of the streams) start and end the stream part of a network; each
// is one op whose gradient is the other.
//
// The mixer's parameters are gorgonia input nodes (Layer.Params), one float64
// vector per hc.Param, named layerName+"."+p.Name. Their values are backed by
// the hc.Param.Value slices themselves: gorgonia's solvers update tensors in
// place, so after a solver step the mixer holds the new values, and a change
// made through the mixer shows in the graph. Pass them to gorgonia.Grad and
// gorgonia.BindDualValues with the rest of the model's learnables.
//
// # Storage order
//
// Everything is float64. The streams are a tokens×(n·C) matrix node: row t is
// token t, columns i·C … (i+1)·C−1 are its stream i. This is hc's flat
// tokens×n×C layout, so values move between gorgonia and the library without
// copies or transposes. Branch inputs and outputs are tokens×C. Row i of each
// token's H_res builds output stream i (hc's convention; PyTorch ports store
// the transpose).
//
// # Invariants
//
// The forward values are bit-for-bit those of hc.Layer on the same data. The
// gradients equal the library's native backward to rounding: the tests
// require ≤ 1e-10 for every mixer with a random upstream gradient (measured
// ≤ 1.4e-15); the two differ only in where gorgonia adds the two terms of
// ∂L/∂X. A NaN or infinity in the streams, the branch output or a computed
// coefficient makes RunAll fail with an error whose Cause wraps
// hc.ErrNotFinite, and the op's output node gets no value.
//
// # Cost
//
// Per sub-layer the graph holds 2 forward nodes and, after gorgonia.Grad,
// 2 gradient ops, 3 + (1 + number of mixer parameters) small copy nodes that
// unpack their results (a gorgonia op returns one value) and gorgonia's own
// gradient sums. The arithmetic is the library's: (n² + 2n)·C multiply-adds
// per token forward, (2n² + 4n)·C backward, plus the mixer's coefficient map.
// What gorgonia adds is its VM (an op call per node, ≈ 1.5 µs each) and a
// freshly allocated value for every node on every run. Measured on this
// project's 2-core machine under load (BenchmarkStep: 16 mHC blocks, n = 4,
// C = 32, MLP ×4, forward + backward; medians of 5), the gorgonia graph of
// 1609 nodes (forward and gradient) takes 1.8× the time of the native
// net.Model of the same shape at 16 tokens (12.2 vs 6.8 ms) and 1.6× at 128
// tokens (112 vs 70 ms), and allocates ~22 000 times (8–47 MB) per step
// where the native model allocates 12–150 times (0.03–1 MB).
//
// # Caveats
//
//   - Gradients accumulate. With BindDualValues, every RunAll adds its
//     gradients into the learnables' dual values; TapeMachine.Reset does not
//     clear them. A solver step uses and then zeroes them; to discard them
//     without a step (after an evaluation pass, or before a gradient check)
//     call ZeroGrad on the nodes. Call Reset before every RunAll.
//   - The mixer's hc.Param.Grad is scratch inside a graph: the gradient ops
//     overwrite it on every backward pass. Read gradients from the nodes
//     (node.Grad()).
//   - A Layer owns an hc.Layer that holds one batch between its forward and
//     backward ops: use it once per graph (one Pre, one Post), give each Layer
//     of a graph its own name (gorgonia merges input nodes that share a name;
//     NewLayer refuses a taken name), do not share a mixer between Layers, and
//     run the graph from one goroutine at a time.
//   - Shapes are fixed when the graph is built (gorgonia's rule): a new batch
//     size needs a new graph.
//   - Programming errors (wrong shapes, float32 nodes, out-of-order calls) are
//     returned as errors wrapping ErrShape, ErrDtype or ErrSequence, not
//     panics: gorgonia's builders return errors (wrap them in gorgonia.Must to
//     panic), and a panic inside RunAll would come from a goroutine of
//     gorgonia's VM that the caller cannot recover.
//   - gorgonia's TapeMachine wraps op errors in a type without Unwrap, so
//     errors.Is fails on RunAll's error: use errors.Is(Cause(err), …).
//   - Second-order gradients (differentiating a gradient) are not supported.
//   - gorgonia is unmaintained since 2023. On Go ≥ 1.20 it panics at init
//     unless go4.org/unsafe/assume-no-moving-gc is at least
//     v0.0.0-20231121144256-b99613f794b6; the module's go.mod pins that
//     version, so no environment variable is needed (a test checks this).
//     In v0.9.18 the gradient of InverseSqrt is wrong (found by this
//     package's finite-difference test of a whole network): build an RMS
//     norm from Sqrt and BroadcastHadamardDiv instead. gorgonia has no erf,
//     so a GELU must use an approximation such as x·σ(1.702x).
//
// # Worked example
//
// A training loop over a graph with hyper-connected blocks:
//
//	g := gorgonia.NewGraph()
//	emb := … // tokens×C embedding node
//	x, _ := hcgorgonia.Expand(emb, n)
//	for l := range depth {
//		m, _ := mhc.New(mhc.PaperConfig(n, c, l))
//		layer, _ := hcgorgonia.NewLayer(g, m, fmt.Sprintf("block%d", l))
//		learnables = append(learnables, layer.Params()...)
//		x, _ = layer.Apply(x, mlp) // mlp builds the branch from its input
//	}
//	y, _ := hcgorgonia.Reduce(x, n)
//	loss := … // from y
//	gorgonia.Grad(loss, learnables...)
//	vm := gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(learnables...))
//	solver := gorgonia.NewAdamSolver(gorgonia.WithLearnRate(0.01))
//	for range steps {
//		vm.Reset()
//		if err := vm.RunAll(); err != nil { … hcgorgonia.Cause(err) … }
//		solver.Step(gorgonia.NodesToValueGrads(learnables)) // zeroes the gradients
//	}
//
// Example_train is the complete program: four mHC blocks (n = 4, C = 16) on
// 64 synthetic examples, whose loss falls from 1.93 to 5.7e-4 in 100 Adam
// steps.
package hcgorgonia
