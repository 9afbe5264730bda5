// Which SIMD instruction sets this CPU (and OS) can run; kernels dispatch on it at run time.
#pragma once

namespace embedrt {

enum class SimdLevel { Scalar = 0, Neon, Avx2Fma, Avx512, Avx512Vnni };

// The best level this machine supports, detected once.
SimdLevel detect_simd_level();

// Stable lowercase name: "scalar", "neon", "avx2+fma", "avx512", "avx512+vnni".
const char* simd_level_name(SimdLevel level);

// x86-64 features, read with CPUID and checked against the register state the OS saves (XGETBV).
// Detected here rather than with __builtin_cpu_supports: that needs the compiler runtime's CPU model,
// which zig's runtime (the cross builds') does not fill in — every feature read as absent there.
struct X86Features {
  bool avx2 = false, fma = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512vnni = false, avx512vpopcntdq = false;
  bool avx512bf16 = false, avxvnni = false;
};
const X86Features& x86_features();  // all false on other architectures

// AArch64 features beyond the mandatory Advanced SIMD, from the OS (Linux's hwcaps, macOS's sysctl,
// Windows' processor features).
struct ArmFeatures {
  bool dotprod = false;  // FEAT_DotProd: sdot / udot (ARMv8.2; every Apple M-series CPU)
};
const ArmFeatures& arm_features();  // all false on other architectures

}  // namespace embedrt
