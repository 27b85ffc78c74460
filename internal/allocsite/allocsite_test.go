package allocsite

import (
	"runtime"
	"strings"
	"testing"
)

var sink []byte

// TestOurs checks that an allocation the code asks for is reported, with
// its function on the stack, and that a blocking channel receive's sudog
// (the runtime's) is not.
func TestOurs(t *testing.T) {
	rate := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = rate }()
	before := Read()
	for i := range 10 {
		sink = make([]byte, 100+i)
	}
	ours := Ours(before, Read())
	if len(ours) == 0 || ours[0].Objects < 10 {
		t.Fatalf("10 make calls: reported %v", ours)
	}
	if s := ours[0].Stack; !strings.Contains(s, "allocsite.TestOurs") {
		t.Errorf("the site of the make calls is not TestOurs:\n%s", s)
	}
	if !Internal("runtime.mallocgc\nruntime.newobject\nruntime.acquireSudog\nruntime.chanrecv\nmain.f\n") {
		t.Error("a sudog allocation is reported as the code's")
	}
	if Internal("runtime.mallocgc\nruntime.makeslice\nmain.f\n") {
		t.Error("a make in main.f is reported as the runtime's")
	}
}
