#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "cpu_features.h"
#include "ort_runtime.h"

namespace embedrt {
namespace {

TEST(Runtime, LoadsOnnxRuntime130WithCpuProvider) {
  RuntimeInfo info = runtime_info();
  EXPECT_EQ(info.ort_api_version, 21);
  EXPECT_FALSE(info.ort_version.empty());
  EXPECT_NE(std::find(info.providers.begin(), info.providers.end(), "CPUExecutionProvider"), info.providers.end());
}

TEST(Runtime, EnvIsCreatedOnce) {
  Ort::Env& a = ort_env();
  Ort::Env& b = ort_env();
  EXPECT_EQ(&a, &b);
}

TEST(CpuFeatures, NamesEveryLevel) {
  EXPECT_STREQ(simd_level_name(SimdLevel::Scalar), "scalar");
  EXPECT_STREQ(simd_level_name(SimdLevel::Avx2Fma), "avx2+fma");
  EXPECT_STREQ(simd_level_name(SimdLevel::Avx512Vnni), "avx512+vnni");
  // Detection is stable and agrees with the compiler's own probe.
  SimdLevel level = detect_simd_level();
  EXPECT_EQ(level, detect_simd_level());
#if defined(__x86_64__)
  EXPECT_EQ(level >= SimdLevel::Avx2Fma, __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
}

}  // namespace
}  // namespace embedrt
