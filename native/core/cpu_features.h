// Which SIMD instruction sets this CPU (and OS) can run; kernels dispatch on it at run time.
#pragma once

namespace embedrt {

enum class SimdLevel { Scalar = 0, Neon, Avx2Fma, Avx512, Avx512Vnni };

// The best level this machine supports, detected once.
SimdLevel detect_simd_level();

// Stable lowercase name: "scalar", "neon", "avx2+fma", "avx512", "avx512+vnni".
const char* simd_level_name(SimdLevel level);

}  // namespace embedrt
