//go:build !amd64 || purego

package cpu

func hasAVX() bool    { return false }
func hasAVX2() bool   { return false }
func hasFMA() bool    { return false }
func hasAVX512() bool { return false }
