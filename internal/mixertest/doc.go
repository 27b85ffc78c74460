// Package mixertest is the conformance suite every hc.Mixer runs: a mixer's
// author writes one Case and calls Run from a test.
//
//	func TestConformance(t *testing.T) {
//		mixertest.Run(t, mixertest.Case{
//			Name: "mhc",
//			New: func(n, c, layer int) (hc.Mixer, error) {
//				return mhc.New(mhc.Config{N: n, C: c, Layer: layer})
//			},
//			Far:       farFromInit,
//			Guarantee: func(h []float64, n int) float64 { return birkhoff.Deviation(h, n) },
//		})
//	}
//
// For every n of the case, Run checks, each as a subtest:
//
//   - shapes: Shape, Params (unique names, matching lengths, zero Grad),
//     output lengths, ErrShape panics on wrong lengths, an empty batch;
//   - determinism: two runs are bit-identical, also with GOMAXPROCS 1 and 4;
//     outputs and ∂L/∂x are bit-identical whatever the Layer's chunk count,
//     parameter gradients equal to rounding;
//   - swap: with the Permute hook, H_res is exactly a permutation matrix P for
//     every token and, with the branch output set to 0, the output streams
//     are the input streams permuted, compared with ==;
//   - plain: with the Plain hook, a 4-layer stack fed n identical streams
//     keeps every stream bit-identical to a plain residual network x + F(x);
//   - gradients: after one backward pass from the default init on random
//     data, every entry of every parameter has a non-zero gradient;
//   - finite differences: ∂L/∂x, ∂L/∂f and ∂L/∂θ of L = ⟨G, X'⟩ through
//     Pre → branch → Post, with a random G, a fixed nonlinear branch
//     f = tanh(in·W), against a fourth-order central difference;
//   - nonfinite: NaN and ±Inf in x or f are returned errors wrapping
//     hc.ErrNotFinite with the destination untouched; a NaN parameter makes
//     Pre fail;
//   - far: after the Far hook, the Guarantee holds for every token and for
//     the product of 64 layers' H_res;
//   - allocs: a steady-state training step through a Layer allocates nothing.
//
// A hook a case leaves nil is reported with t.Log, never silently skipped.
//
// # Reading the results
//
// Every check logs what it measured (run with -v): the relative error of each
// gradient against finite differences, the worst guarantee deviation per
// token and of the 64-layer product, which parameters have a structurally
// zero gradient at init, and every check a missing hook made inapplicable.
//
// # Cost
//
// The finite difference check costs four forward passes of 3 tokens per
// checked entry: every entry of x and f, and FDSamples entries of each
// parameter. A mixer whose forward pass is expensive (mhclite at n = 8 sums
// 40320 permutations) should lower FDSamples or Ns.
package mixertest
