// The int8 and bfloat16 linear layers (linear_lowp.h) on every kernel this CPU runs: exact results
// where the arithmetic is exact (integer-valued operands with power-of-two scales), a float64 reference
// within the quantization's own error bound elsewhere, the same bits for a row in any batch and on every
// kernel of a format, and the edge rows (zero, subnormal, non-finite). Runs under ASan/UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "linear_lowp.h"

namespace embedrt {
namespace {

using Case = std::tuple<LowPrecision, LowpKernel>;

std::string case_name(const Case& c) {
  const char* kernels[] = {"portable", "avx512", "avx512dot", "avx2", "avxvnni", "neon", "neondot"};
  static_assert(sizeof kernels / sizeof kernels[0] == kLowpKernels, "a name per kernel");
  return std::string(std::get<0>(c) == LowPrecision::Int8 ? "int8_" : "bf16_") + kernels[static_cast<int>(std::get<1>(c))];
}

std::vector<Case> runnable_cases() {
  std::vector<Case> out;
  for (LowPrecision f : {LowPrecision::Int8, LowPrecision::BF16}) {
    for (int k = 0; k < kLowpKernels; ++k) {
      if (lowp_kernel_supported(f, static_cast<LowpKernel>(k))) out.emplace_back(f, static_cast<LowpKernel>(k));
    }
  }
  return out;
}

// y = x · Wᵀ + bias with W given [n, k] (torch's layout), on the forced kernel.
std::vector<float> run(LowPrecision f, const std::vector<float>& x, size_t m, const std::vector<float>& w, size_t n, size_t k,
                       const std::vector<float>& bias) {
  const LinearRows rows{w.data(), n};
  const LowpLinear layer(f, &rows, 1, k);
  std::vector<float> y(m * n, std::nanf(""));
  layer.forward(x.data(), m, bias.data(), y.data());
  return y;
}

uint32_t bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  return u;
}

class LowpKernels : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { ASSERT_TRUE(force_lowp_kernel(format(), std::get<1>(GetParam()))); }
  void TearDown() override { reset_lowp_kernels(); }
  LowPrecision format() const { return std::get<0>(GetParam()); }
};

// Shapes: a partial last strip (n % 32), depths that leave a partial group (int8: k % 4; bf16: k % 2)
// and cross a 16-float vector, and row counts over one and several tiles and task blocks.
using Shape = std::tuple<size_t, size_t>;  // k, n
const Shape kShapes[] = {{1, 1}, {7, 45}, {37, 32}, {64, 100}, {130, 17}, {768, 64}};

TEST_P(LowpKernels, ExactWhereTheArithmeticIsExact) {
  // int8: integers in [-127, 127], each row's blocks and each column reaching ±127, times a power of two
  // per row and per column: quantization is exact and so is every integer sum. bf16: integers in [-16, 16] times
  // powers of two — bfloat16 values whose float32 sums stay exact (< 2²⁴ steps).
  std::mt19937 gen(11);
  const bool int8 = format() == LowPrecision::Int8;
  std::uniform_int_distribution<int> q(int8 ? -127 : -16, int8 ? 127 : 16);
  for (auto [k, n] : kShapes) {
    const size_t m = 29;
    std::vector<float> x(m * k), w(n * k), bias(n);
    for (size_t r = 0; r < m; ++r) {
      const float scale = std::ldexp(1.f, static_cast<int>(r % 3) - 1);
      const int peak = int8 ? 127 : 16;
      // The peak first in every block (int8's scales are per row and block of kInt8Block).
      for (size_t p = 0; p < k; ++p) x[r * k + p] = static_cast<float>(p % kInt8Block == 0 ? (r % 2 ? peak : -peak) : q(gen)) * scale;
    }
    for (size_t j = 0; j < n; ++j) {
      const float scale = std::ldexp(1.f, static_cast<int>(j % 5) - 2);
      for (size_t p = 0; p < k; ++p) w[j * k + p] = static_cast<float>(p == j % k ? 127 : q(gen)) * scale;
      if (!int8) w[j * k + j % k] = 15.f * scale;
      bias[j] = static_cast<float>(q(gen)) / 4;
    }
    const std::vector<float> y = run(format(), x, m, w, n, k, bias);
    for (size_t r = 0; r < m; ++r) {
      for (size_t j = 0; j < n; ++j) {
        double ref = bias[j];
        for (size_t p = 0; p < k; ++p) ref += static_cast<double>(x[r * k + p]) * w[j * k + p];
        // One rounding at most, of the exact result (int8's epilogue is one fused multiply-add).
        ASSERT_EQ(y[r * n + j], static_cast<float>(ref)) << "k " << k << ", n " << n << " at " << r << "," << j;
      }
    }
  }
}

TEST_P(LowpKernels, WithinTheRoundingBoundOfAFloat64ReferenceAndTheSameBitsInAnyBatch) {
  std::mt19937 gen(12);
  std::normal_distribution<float> u(0.f, 1.f);
  const bool int8 = format() == LowPrecision::Int8;
  for (auto [k, n] : kShapes) {
    const size_t m = 203;  // 17 tiles: 3 blocks of tiles
    std::vector<float> x(m * k), w(n * k), bias(n);
    for (float& v : x) v = u(gen);
    for (size_t j = 0; j < n * k; ++j) w[j] = u(gen) * (j % 7 == 0 ? 8.f : 1.f);  // outliers
    for (float& v : bias) v = u(gen);
    const std::vector<float> y = run(format(), x, m, w, n, k, bias);
    // The bound: int8 — each operand off by at most half its step (s / 2), so |Δ(x·w)| ≤ |x| s_w / 2 +
    // |w| s_x / 2 + s_x s_w / 4 per term (s_x here the row's: a block's is no larger); bf16 — each operand off by at most 2⁻⁸ of itself (8 significant bits). Plus float32
    // accumulation, 2⁻²⁴ · k per term, and the epilogue.
    for (size_t r = 0; r < m; ++r) {
      double xmax = 0;
      for (size_t p = 0; p < k; ++p) xmax = std::max(xmax, std::fabs(static_cast<double>(x[r * k + p])));
      for (size_t j = 0; j < n; ++j) {
        double wmax = 0, ref = bias[j], bound = 0, mass = 0;
        for (size_t p = 0; p < k; ++p) wmax = std::max(wmax, std::fabs(static_cast<double>(w[j * k + p])));
        const double sx = xmax / 127, sw = wmax / 127;
        for (size_t p = 0; p < k; ++p) {
          const double a = x[r * k + p], b = w[j * k + p];
          ref += a * b;
          mass += std::fabs(a * b);
          bound += int8 ? std::fabs(a) * sw / 2 + std::fabs(b) * sx / 2 + sx * sw / 4 : std::fabs(a * b) * (2.0 / 256 + 1.0 / 65536);
        }
        bound += (mass + bound) * std::ldexp(1.0, -24) * static_cast<double>(k + 2) + std::fabs(ref) * 1e-6;
        ASSERT_LE(std::fabs(y[r * n + j] - ref), bound) << "k " << k << ", n " << n << " at " << r << "," << j;
      }
    }
    for (size_t rows : {size_t{1}, size_t{5}, size_t{12}, size_t{13}, size_t{97}, size_t{202}}) {
      // Rows taken from the middle, so their tile positions differ from the full batch's.
      const size_t r0 = (m - rows) / 2;
      const std::vector<float> part(x.begin() + static_cast<long>(r0 * k), x.begin() + static_cast<long>((r0 + rows) * k));
      const std::vector<float> some = run(format(), part, rows, w, n, k, bias);
      for (size_t i = 0; i < rows * n; ++i) ASSERT_EQ(bits(some[i]), bits(y[r0 * n + i])) << rows << " rows, k " << k << " at " << i;
    }
    // Every kernel of the format gives these bits (the portable one computes the reference here).
    reset_lowp_kernels();
    ASSERT_TRUE(force_lowp_kernel(format(), LowpKernel::Portable));
    const std::vector<float> portable = run(format(), x, m, w, n, k, bias);
    ASSERT_TRUE(force_lowp_kernel(format(), std::get<1>(GetParam())));
    for (size_t i = 0; i < m * n; ++i) ASSERT_EQ(bits(portable[i]), bits(y[i])) << "k " << k << ", n " << n << " at " << i;
  }
}

TEST_P(LowpKernels, ZeroSubnormalAndNonFiniteRows) {
  const size_t k = 40, n = 33;
  std::vector<float> x(4 * k, 0.f), w(n * k), bias(n);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 13) - 6) / 8;
  for (size_t j = 0; j < n; ++j) bias[j] = static_cast<float>(j) - 3.5f;
  for (size_t p = 0; p < k; ++p) x[k + p] = 1e-41f * static_cast<float>(p % 3);  // row 1: subnormal
  x[2 * k + 3] = INFINITY;                                                        // row 2: infinity
  x[3 * k + 5] = 2.f;                                                              // row 3: one value
  const std::vector<float> y = run(format(), x, 4, w, n, k, bias);
  for (size_t j = 0; j < n; ++j) {
    EXPECT_EQ(y[j], bias[j]) << "a zero row gives the bias";
    EXPECT_NEAR(y[n + j], bias[j], 1e-30) << "a subnormal row gives the bias (within its own size)";
    EXPECT_FALSE(std::isfinite(y[2 * n + j])) << "a row with an infinity gives no finite output, at " << j;
  }
  const std::vector<float> alone = run(format(), std::vector<float>(x.begin() + 3 * k, x.end()), 1, w, n, k, bias);
  for (size_t j = 0; j < n; ++j) EXPECT_EQ(bits(y[3 * n + j]), bits(alone[j])) << "the other rows are unaffected, at " << j;
}

TEST_P(LowpKernels, AnOutlierCoarsensOnlyItsOwnBlock) {
  // One row: 1000 in the first block of 256, 1s in the second. One column sums the second block. With a
  // scale for the whole row the 1s would quantize to 0 (step 1000 / 127); per block they are exact.
  const size_t k = 2 * kInt8Block, n = 2;
  std::vector<float> x(k, 1.f), w(n * k, 0.f), bias(n, 0.f);
  x[5] = 1000.f;
  for (size_t p = kInt8Block; p < k; ++p) w[p] = 1.f;  // column 0: the second block
  w[k + 5] = 1.f;                                      // column 1: the outlier
  const std::vector<float> y = run(format(), x, 1, w, n, k, bias);
  EXPECT_EQ(y[0], static_cast<float>(kInt8Block));
  EXPECT_EQ(y[1], 1000.f);
}

INSTANTIATE_TEST_SUITE_P(AllKernels, LowpKernels, ::testing::ValuesIn(runnable_cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return case_name(i.param); });

TEST(LowpLinear, BFloat16RoundsToNearestTiesToEven) {
  // Against the definition: the nearer of the two bfloat16 values around v (truncated, and one step
  // up), the one with an even last bit on a tie; computed in double.
  std::mt19937 gen(13);
  std::uniform_int_distribution<uint32_t> any;
  auto as_float = [](uint32_t u) {
    float v;
    std::memcpy(&v, &u, 4);
    return v;
  };
  for (int i = 0; i < 200000; ++i) {
    uint32_t u = any(gen);
    if (i < 1000) u = (u & 0xffff0000u) | 0x8000u;  // ties
    const float v = as_float(u);
    const uint32_t got = static_cast<uint32_t>(to_bfloat16(v)) << 16;
    if (std::isnan(v)) {
      EXPECT_TRUE(std::isnan(as_float(got))) << std::hex << u;
      continue;
    }
    if (std::isinf(v)) {
      EXPECT_EQ(got, u);
      continue;
    }
    // Magnitudes: `down` truncates, `up` is one step further (2¹²⁸ where that step is infinity).
    const uint32_t down = u & 0xffff0000u, up = down + 0x10000u;
    const double dv = std::fabs(static_cast<double>(v)), dd = std::fabs(static_cast<double>(as_float(down)));
    const double du = std::isinf(as_float(up)) ? std::ldexp(1.0, 128) : std::fabs(static_cast<double>(as_float(up)));
    const uint32_t expect = dv - dd < du - dv ? down : du - dv < dv - dd ? up : ((down >> 16) & 1u) ? up : down;
    ASSERT_EQ(got, expect) << std::hex << u;
  }
}

TEST(LowpLinear, RefusesAnInt8DepthWhoseSumsCouldOverflow) {
  std::vector<float> w(kMaxInt8Depth + 1, 1.f);
  const LinearRows rows{w.data(), 1};
  EXPECT_THROW(LowpLinear(LowPrecision::Int8, &rows, 1, kMaxInt8Depth + 1), std::invalid_argument);
  EXPECT_NO_THROW(LowpLinear(LowPrecision::Int8, &rows, 1, kMaxInt8Depth));
}

}  // namespace
}  // namespace embedrt
