//go:build !amd64 || purego

package hc

// useAVX is false: this build has no assembly kernels.
var useAVX = false

// asmCombine reports false: this build has no assembly kernels.
func asmCombine(_ []float64, _ float64, _, _ []float64, _ int, _ []float64, _ int) bool {
	return false
}

// asmRead4 reports false: this build has no assembly kernels.
func asmRead4(_, _, _ []float64) bool { return false }

// asmWrite4 reports false: this build has no assembly kernels.
func asmWrite4(_, _, _, _, _ []float64) bool { return false }

// asmWriteBack4 reports false: this build has no assembly kernels.
func asmWriteBack4(_, _, _, _, _, _, _, _, _ []float64) bool { return false }

// asmReadBack4 reports false: this build has no assembly kernels.
func asmReadBack4(_, _, _, _, _ []float64) bool { return false }
