// Package bench holds the benchmarks that compare hyperconn's mixers with
// one another and with a plain residual connection, measured in the same run
// so that their ratios are meaningful on a shared, noisy machine:
//
//	go test -run '^$' -bench Layer -count 6 ./bench | benchstat -
//
// BenchmarkLayer times one sub-layer's forward and backward pass (256 tokens,
// n = 4, a C→4C→C MLP branch); BenchmarkFrame the same without the branch,
// the cost of the hyper-connection alone. The package has no exported API.
package bench
