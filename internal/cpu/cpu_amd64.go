//go:build !purego

package cpu

// hasAVX reads CPUID leaf 1 (ECX bit 27 OSXSAVE, bit 28 AVX) and XCR0
// (bits 1 and 2: SSE and AVX state saved by the operating system).
func hasAVX() bool {
	const osxsave, avx = 1 << 27, 1 << 28
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 1 {
		return false
	}
	if _, _, ecx, _ := cpuid(1, 0); ecx&(osxsave|avx) != osxsave|avx {
		return false
	}
	xcr0, _ := xgetbv()
	return xcr0&6 == 6
}

// hasAVX2 reads CPUID leaf 7 (EBX bit 5).
func hasAVX2() bool {
	if maxLeaf, _, _, _ := cpuid(0, 0); maxLeaf < 7 {
		return false
	}
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&(1<<5) != 0
}

// hasFMA reads CPUID leaf 1 (ECX bit 12).
func hasFMA() bool {
	_, _, ecx, _ := cpuid(1, 0)
	return ecx&(1<<12) != 0
}

// hasAVX512 reads CPUID leaf 7 (EBX bit 16, AVX-512 Foundation) and XCR0
// (bits 5–7: the mask registers and the upper halves of the 32 vector
// registers saved by the operating system). The caller has checked AVX,
// so leaf 7 exists.
func hasAVX512() bool {
	if _, ebx, _, _ := cpuid(7, 0); ebx&(1<<16) == 0 {
		return false
	}
	xcr0, _ := xgetbv()
	return xcr0&0xe0 == 0xe0
}

// cpuid executes CPUID with EAX = eaxArg and ECX = ecxArg.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv returns XCR0 (EDX:EAX) read by XGETBV.
func xgetbv() (eax, edx uint32)
