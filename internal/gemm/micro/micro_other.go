//go:build !amd64 || purego

package micro

// Available lists no assembly pairs: there are none for this architecture
// or build (-tags purego); Go holds the twins.
func Available() []Pair { return nil }
