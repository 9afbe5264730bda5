#include "cpu_features.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(__aarch64__) && defined(_WIN32)
#include <windows.h>
#endif

namespace embedrt {

namespace {

#if defined(__x86_64__) || defined(__i386__)
X86Features probe_x86() {
  X86Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
  const bool osxsave = (c & (1u << 27)) != 0, avx = (c & (1u << 28)) != 0, fma = (c & (1u << 12)) != 0;
  if (!osxsave || !avx) return f;
  unsigned xcr0 = 0, xcr0_hi = 0;
  __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0 & 0x6u) != 0x6u) return f;                 // the OS saves SSE and AVX (YMM) state
  const bool zmm = (xcr0 & 0xe0u) == 0xe0u;            // ... and opmask, ZMM_Hi256, Hi16_ZMM
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return f;
  f.avx2 = (b & (1u << 5)) != 0;
  f.fma = fma;
  if (zmm) {
    f.avx512f = (b & (1u << 16)) != 0;
    f.avx512bw = (b & (1u << 30)) != 0;
    f.avx512vl = (b & (1u << 31)) != 0;
    f.avx512vnni = (c & (1u << 11)) != 0;
    f.avx512vpopcntdq = (c & (1u << 14)) != 0;
  }
  const unsigned max_sub = a;  // leaf 7's highest subleaf
  if (max_sub >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0) {
    f.avxvnni = (a & (1u << 4)) != 0;                 // VEX-encoded vpdpbusd on YMM
    f.avx512bf16 = zmm && (a & (1u << 5)) != 0;       // vdpbf16ps
  }
  return f;
}
#endif

#if defined(__aarch64__)
ArmFeatures probe_arm() {
  ArmFeatures f;
#if defined(__linux__)
  f.dotprod = (getauxval(AT_HWCAP) & (1ul << 20)) != 0;  // HWCAP_ASIMDDP
#elif defined(__APPLE__)
  int v = 0;
  size_t size = sizeof v;
  f.dotprod = sysctlbyname("hw.optional.arm.FEAT_DotProd", &v, &size, nullptr, 0) == 0 && v != 0;
#elif defined(_WIN32)
  f.dotprod = IsProcessorFeaturePresent(43) != 0;  // PF_ARM_V82_DP_INSTRUCTIONS_AVAILABLE
#endif
  return f;
}
#endif

SimdLevel probe() {
#if defined(__x86_64__) || defined(__i386__)
  const X86Features& f = x86_features();
  if (f.avx512f && f.avx512bw && f.avx512vl) return f.avx512vnni ? SimdLevel::Avx512Vnni : SimdLevel::Avx512;
  if (f.avx2 && f.fma) return SimdLevel::Avx2Fma;
  return SimdLevel::Scalar;
#elif defined(__aarch64__)
  return SimdLevel::Neon;  // Advanced SIMD is mandatory on AArch64.
#else
  return SimdLevel::Scalar;
#endif
}

}  // namespace

const X86Features& x86_features() {
#if defined(__x86_64__) || defined(__i386__)
  static const X86Features f = probe_x86();
#else
  static const X86Features f;
#endif
  return f;
}

const ArmFeatures& arm_features() {
#if defined(__aarch64__)
  static const ArmFeatures f = probe_arm();
#else
  static const ArmFeatures f;
#endif
  return f;
}

SimdLevel detect_simd_level() {
  static const SimdLevel level = probe();
  return level;
}

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::Scalar: return "scalar";
    case SimdLevel::Neon: return "neon";
    case SimdLevel::Avx2Fma: return "avx2+fma";
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx512Vnni: return "avx512+vnni";
  }
  return "scalar";
}

}  // namespace embedrt
