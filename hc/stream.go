package hc

// Expand writes into dst (tokens×n×C) n copies of each token's embedding in
// emb (tokens×C): the residual streams X_0 of the first sub-layer.
// It panics with ErrShape if the lengths do not match.
func Expand(dst, emb []float64, tokens, n, c int) {
	checkStreams("Expand", len(dst), len(emb), tokens, n, c)
	for t := range tokens {
		e := emb[t*c : (t+1)*c]
		for i := range n {
			copy(dst[(t*n+i)*c:(t*n+i+1)*c], e)
		}
	}
}

// ExpandBackward writes into demb (tokens×C) the gradient of Expand: the sum
// over the n streams of dx (tokens×n×C). It is Reduce under another name.
func ExpandBackward(demb, dx []float64, tokens, n, c int) {
	checkStreams("ExpandBackward", len(dx), len(demb), tokens, n, c)
	sumStreams(demb, dx, tokens, n, c)
}

// Reduce writes into dst (tokens×C) the sum of each token's n streams in x
// (tokens×n×C), added in stream order 0, 1, …, n−1. The final norm of the
// network is the caller's. It panics with ErrShape if the lengths do not
// match.
func Reduce(dst, x []float64, tokens, n, c int) {
	checkStreams("Reduce", len(x), len(dst), tokens, n, c)
	sumStreams(dst, x, tokens, n, c)
}

// ReduceBackward writes into dx (tokens×n×C) the gradient of Reduce: n
// copies of dy (tokens×C). It is Expand under another name.
func ReduceBackward(dx, dy []float64, tokens, n, c int) {
	checkStreams("ReduceBackward", len(dx), len(dy), tokens, n, c)
	Expand(dx, dy, tokens, n, c)
}

func sumStreams(dst, x []float64, tokens, n, c int) {
	for t := range tokens {
		d := dst[t*c : (t+1)*c]
		copy(d, x[t*n*c:(t*n+1)*c])
		for i := 1; i < n; i++ {
			axpy(d, 1, x[(t*n+i)*c:(t*n+i+1)*c])
		}
	}
}

func checkStreams(op string, wide, narrow, tokens, n, c int) {
	if tokens < 0 || n < 1 || c < 1 || wide != tokens*n*c || narrow != tokens*c {
		shapePanic("%s: tokens=%d n=%d C=%d: lengths %d and %d", op, tokens, n, c, wide, narrow)
	}
}
