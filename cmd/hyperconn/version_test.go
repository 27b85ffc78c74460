package main

import (
	"strings"
	"testing"

	"github.com/hyperconn/hyperconn/internal/gemm"
)

func TestVersion(t *testing.T) {
	status, stdout, stderr := runCLI("version")
	if status != exitOK || stderr != "" {
		t.Fatalf("status %d, stderr %q", status, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "hyperconn ") || !strings.Contains(lines[0], "go1") {
		t.Errorf("version output:\n%s", stdout)
	}
	if want := "products: " + gemm.Describe(); lines[len(lines)-1] != want {
		t.Errorf("last line %q, want %q", lines[len(lines)-1], want)
	}
	if !strings.HasPrefix(gemm.Describe(), gemm.Current().String()+":") {
		t.Errorf("Describe %q does not name the backend %v", gemm.Describe(), gemm.Current())
	}
	// The top-level usage names the BLAS too.
	if _, stdout, _ := runCLI("-h"); !strings.Contains(stdout, "\nproducts: "+gemm.Describe()+"\n") {
		t.Errorf("usage does not name the BLAS:\n%s", stdout)
	}
	if status, _, stderr := runCLI("version", "extra"); status != exitUsage || !strings.HasPrefix(stderr, `hyperconn version: unexpected argument "extra"`) {
		t.Errorf("version extra: status %d, stderr %q", status, stderr)
	}
	if status, stdout, _ := runCLI("version", "-h"); status != exitOK || !strings.HasPrefix(stdout, "usage: hyperconn") {
		t.Errorf("version -h: status %d, stdout %q", status, stdout)
	}
}
