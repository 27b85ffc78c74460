// Package bench holds the benchmarks that compare hyperconn's mixers with
// one another and with a plain residual connection, measured in the same run
// so that their ratios are meaningful on a shared, noisy machine:
//
//	go test -run '^$' -bench Layer -count 6 ./bench | benchstat -
//
// BenchmarkLayer times one sub-layer's forward and backward pass (256 tokens,
// a C→4C→C MLP branch) for every mixer at n = 4 (C = 64 and 256), 8 and 16
// (C = 256); mhclite stops at n = 8. Each sub-benchmark reports x-residual,
// its step time over a plain residual step run after each of its own steps
// (interleaved, with the timer stopped), and its allocations.
// BenchmarkFrame is the same without the branch, the cost of the
// hyper-connection alone. The package has no exported API.
package bench
