package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
)

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

// A depth sweep small enough for an example: HC and the exact mHC at one
// and four blocks, 20 steps on 512 images. Even this short training moves
// HC's composite gain away from 1; the doubly stochastic mixer keeps both
// gains at 1 to rounding.
func Example_depth() {
	dir, err := os.MkdirTemp("", "depth")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var out bytes.Buffer
	status := run([]string{"depth", "-mixers", "hc,mhc-exact", "-depths", "1,4", "-steps", "20",
		"-subset", "512", "-test", "512", "-width", "16", "-out", dir, "-json"}, &out, io.Discard)
	var doc struct{ Records []depthRecord }
	if err := json.Unmarshal(out.Bytes(), &doc); status != exitOK || err != nil {
		log.Fatal(status, err)
	}
	for _, r := range doc.Records {
		fmt.Printf("%-9s L=%d %s: forward Amax %.3f, backward Amax %.3f\n", r.Mixer, r.Depth, r.Outcome, r.ForwardAmax, r.BackwardAmax)
	}
	// Output:
	// hc        L=1 completed: forward Amax 0.997, backward Amax 0.997
	// hc        L=4 completed: forward Amax 1.135, backward Amax 1.075
	// mhc-exact L=1 completed: forward Amax 1.000, backward Amax 1.000
	// mhc-exact L=4 completed: forward Amax 1.000, backward Amax 1.000
}
