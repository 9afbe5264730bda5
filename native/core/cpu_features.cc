#include "cpu_features.h"

namespace embedrt {

namespace {

SimdLevel probe() {
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports also checks (via XGETBV) that the OS saves the wider registers.
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    return __builtin_cpu_supports("avx512vnni") ? SimdLevel::Avx512Vnni : SimdLevel::Avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::Avx2Fma;
  return SimdLevel::Scalar;
#elif defined(__aarch64__)
  return SimdLevel::Neon;  // Advanced SIMD is mandatory on AArch64.
#else
  return SimdLevel::Scalar;
#endif
}

}  // namespace

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
