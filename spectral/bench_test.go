package spectral

import (
	"strconv"
	"testing"
)

var sink float64

func BenchmarkNorm(b *testing.B) {
	for _, n := range []int{2, 4, 8, 16} {
		m := randn(newRand(50), n*n, 1)
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				sink = Norm(m, n, n)
			}
		})
	}
}

func BenchmarkPower(b *testing.B) {
	for _, n := range []int{4, 16} {
		m := randn(newRand(51), n*n, 1)
		var p Power[float64]
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				sink, _ = p.Estimate(m, n, n, 1)
			}
		})
	}
}

func BenchmarkSphere(b *testing.B) {
	for _, n := range []int{4, 8, 16} {
		rng := newRand(52)
		zu, zv, sig := sphereParams(rng, n)
		g := randn(rng, n*n, 1)
		m := n - 1
		s := NewSphere[float64](n)
		h := make([]float64, n*n)
		du, dv, ds := make([]float64, SkewLen(m)), make([]float64, SkewLen(m)), make([]float64, m)
		b.Run("forward/n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				_, _ = s.Forward(h, zu, zv, sig)
			}
		})
		b.Run("forward+backward/n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				_, _ = s.Forward(h, zu, zv, sig)
				_ = s.Backward(du, dv, ds, g)
			}
		})
	}
}

func BenchmarkNormalizer(b *testing.B) {
	for _, n := range []int{4, 16} {
		rng := newRand(53)
		a, g := randn(rng, n*n, 1), randn(rng, n*n, 1)
		z := NewNormalizer[float64](n)
		h, ga := make([]float64, n*n), make([]float64, n*n)
		b.Run("forward+backward/n="+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				_, _ = z.Forward(h, a, 1)
				_, _ = z.Backward(ga, g)
			}
		})
	}
}
