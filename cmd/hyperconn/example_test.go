package main

import "os"

// The mHC paper's 20 Sinkhorn sweeps against the exact projection on the
// no-matching family: Fixed-20 leaves a column error of 2.65e-2, which a
// product of 16 layers turns into a backward gain of 1.35; the exact
// projection keeps both gains at 1.
func Example_exact() {
	run([]string{"exact", "-n", "4", "-trials", "8", "-depth", "16", "-dtypes", "float64",
		"-families", "no-matching", "-methods", "fixed20,exact", "-timing=false"}, os.Stdout, os.Stderr)
	// Output:
	//    method  n    dtype       family  measure   max dev  median dev  max |‖H‖₂−1|  iters  fwd Amax  bwd Amax
	//   fixed20  4  float64  no-matching       ds  2.65e-02    2.65e-02      5.41e-03     20         1   1.35304
	//
	//     exact  4  float64  no-matching       ds  4.44e-16    4.44e-16      0.00e+00     17         1         1
	//
	// worst over n and families (composite of depth 16):
	//    method    dtype  measure   max dev  fwd Amax  bwd Amax
	//   fixed20  float64       ds  2.65e-02         1   1.35304
	//     exact  float64       ds  4.44e-16         1         1
}
