// Every SIMD path this CPU runs against a double-precision (or exact integer) reference, at lengths
// that exercise the vector bodies, the masked tails and the scalar remainders. Runs under ASan/UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <tuple>

#include "gemm.h"
#include "linear.h"
#include "simd.h"

namespace embedrt::simd {
namespace {

class SimdPaths : public ::testing::TestWithParam<Path> {
 protected:
  void SetUp() override { ASSERT_TRUE(set_path(GetParam())); }
  void TearDown() override {
    for (Path p : {Path::Avx512, Path::Avx2, Path::Neon, Path::Scalar}) {
      if (set_path(p)) break;
    }
  }
};

TEST_P(SimdPaths, FloatKernelsMatchDoublePrecision) {
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> u(-1, 1);
  for (size_t n : {0, 1, 3, 8, 15, 16, 17, 31, 32, 33, 63, 100, 384, 768, 1001}) {
    std::vector<float> q(4 * n + 1), b(n + 1);
    for (float& v : q) v = u(gen);
    for (float& v : b) v = u(gen);
    double dot = 0, l2 = 0, d4[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i) {
      dot += static_cast<double>(q[i]) * b[i];
      l2 += (static_cast<double>(q[i]) - b[i]) * (static_cast<double>(q[i]) - b[i]);
      for (size_t r = 0; r < 4; ++r) d4[r] += static_cast<double>(q[r * n + i]) * b[i];
    }
    const double tol = 1e-5 * std::sqrt(static_cast<double>(n) + 1);
    EXPECT_NEAR(kernels().dot(q.data(), b.data(), n), dot, tol) << n;
    EXPECT_NEAR(kernels().sq_l2(q.data(), b.data(), n), l2, tol * 4) << n;
    float out[4];
    kernels().dot4(q.data(), n, b.data(), n, out);
    for (size_t r = 0; r < 4; ++r) EXPECT_NEAR(out[r], d4[r], tol) << n << " row " << r;
    float three[3];
    kernels().dot3(q.data(), b.data(), n, three);
    double aa = 0, bb = 0;
    for (size_t i = 0; i < n; ++i) {
      aa += static_cast<double>(q[i]) * q[i];
      bb += static_cast<double>(b[i]) * b[i];
    }
    EXPECT_NEAR(three[0], dot, tol);
    EXPECT_NEAR(three[1], aa, tol);
    EXPECT_NEAR(three[2], bb, tol);
  }
}

TEST_P(SimdPaths, IntegerKernelsAreExact) {
  std::mt19937 gen(9);
  for (size_t n : {0, 1, 7, 16, 31, 32, 33, 64, 65, 96, 768, 1000}) {
    std::vector<int8_t> a(n + 1), b(n + 1);
    std::vector<uint8_t> x(n + 1), y(n + 1);
    for (size_t i = 0; i <= n; ++i) {
      a[i] = static_cast<int8_t>(static_cast<int>(gen() % 256) - 128);
      b[i] = static_cast<int8_t>(static_cast<int>(gen() % 256) - 128);
      x[i] = static_cast<uint8_t>(gen());
      y[i] = static_cast<uint8_t>(gen());
    }
    int64_t dot = 0;
    uint64_t ham = 0;
    for (size_t i = 0; i < n; ++i) {
      dot += static_cast<int64_t>(a[i]) * b[i];
      for (unsigned v = static_cast<unsigned>(x[i] ^ y[i]); v; v &= v - 1) ++ham;
    }
    EXPECT_EQ(kernels().dot_i8(a.data(), b.data(), n), dot) << n;
    EXPECT_EQ(kernels().hamming(x.data(), y.data(), n), ham) << n;
  }
}

// C = A·Bᵀ on this path's micro-kernel. Shapes: single elements, partial tiles in both directions, more
// column blocks than threads, fewer (C split by rows), depth slices that accumulate into C (k > 1,024).
TEST_P(SimdPaths, GemmMatchesDoublePrecision) {
  std::mt19937 gen(3);
  std::uniform_real_distribution<float> u(-1, 1);
  using Shape = std::tuple<size_t, size_t, size_t>;
  for (auto [m, n, k] : {Shape{1, 1, 1}, Shape{3, 5, 7}, Shape{17, 33, 768}, Shape{64, 130, 100}, Shape{12, 32, 16},
                         Shape{25, 600, 384}, Shape{200, 3, 50}, Shape{13, 47, 1500}, Shape{40, 20, 2049}, Shape{2, 9, 0}}) {
    std::vector<float> a(m * k), b(n * k), c(m * n, std::nanf(""));
    for (float& v : a) v = u(gen);
    for (float& v : b) v = u(gen);
    embedrt::gemm_abt(a.data(), m, b.data(), n, k, c.data());
    const double tol = 2e-6 * (static_cast<double>(k) + 1);
    size_t bad = 0;
    for (size_t i = 0; i < m; ++i) {
      for (size_t j = 0; j < n; ++j) {
        double ref = 0;
        for (size_t t = 0; t < k; ++t) ref += static_cast<double>(a[i * k + t]) * b[j * k + t];
        if (!(std::fabs(c[i * n + j] - ref) <= tol) && bad++ < 5) {
          ADD_FAILURE() << m << "x" << n << "x" << k << " at " << i << "," << j << ": " << c[i * n + j] << " vs " << ref;
        }
      }
    }
    EXPECT_EQ(bad, 0u) << m << "x" << n << "x" << k;
    // The same product from a packed A, rows from the second panel on, into a wider C (stride n + 3):
    // equal to gemm_abt's bit for bit; the padding columns untouched.
    const embedrt::PackedA packed(a.data(), m, k);
    const size_t i0 = std::min(m, packed.panel_rows());
    std::vector<float> wide((m - i0) * (n + 3), -7.f);
    embedrt::gemm_abt_block(packed, i0, m, b.data(), n, wide.data(), n + 3);
    for (size_t i = i0; i < m; ++i) {
      for (size_t j = 0; j < n + 3; ++j) {
        const float got = wide[(i - i0) * (n + 3) + j];
        if (j < n) {
          ASSERT_EQ(got, c[i * n + j]) << m << "x" << n << "x" << k << " at " << i << "," << j;
        } else {
          ASSERT_EQ(got, -7.f) << "wrote past the row at " << i << "," << j;
        }
      }
    }
  }
}

// W (k × n) into linear.h's panels of 16 columns, the last zero-padded.
std::vector<float> to_panels(const std::vector<float>& w, size_t k, size_t n) {
  const size_t panels = (n + 15) / 16;
  std::vector<float> out(panels * k * 16, 0.f);
  for (size_t p = 0; p < k; ++p) {
    for (size_t j = 0; j < n; ++j) out[((j / 16) * k + p) * 16 + j % 16] = w[p * n + j];
  }
  return out;
}

// pack_linear_weights from torch.nn.Linear's [out, in] blocks (fused projections one after another)
// gives to_panels' layout of their concatenation, transposed, whatever the blocks' row counts.
TEST(LinearPacking, BlocksOfRowsPackAsTheirConcatenationTransposed) {
  std::mt19937 gen(11);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const std::vector<size_t>& rows : {std::vector<size_t>{48, 48, 48}, {5}, {16, 3, 30}, {0, 17}, {1}}) {
    for (size_t k : {size_t{1}, size_t{7}, size_t{64}}) {
      std::vector<std::vector<float>> blocks;
      std::vector<embedrt::LinearRows> views;
      size_t n = 0;
      for (size_t r : rows) {
        blocks.emplace_back(r * k);
        for (float& v : blocks.back()) v = u(gen);
        n += r;
      }
      for (size_t b = 0; b < rows.size(); ++b) views.push_back({blocks[b].data(), rows[b]});
      std::vector<float> w(k * n);  // k × n: column j is output row j of the blocks taken in turn
      size_t j0 = 0;
      for (size_t b = 0; b < rows.size(); ++b) {
        for (size_t r = 0; r < rows[b]; ++r) {
          for (size_t p = 0; p < k; ++p) w[p * n + j0 + r] = blocks[b][r * k + p];
        }
        j0 += rows[b];
      }
      std::vector<float> packed(embedrt::linear_packed_floats(n, k), std::nanf(""));
      embedrt::pack_linear_weights(views.data(), views.size(), k, packed.data());
      EXPECT_EQ(packed, to_panels(w, k, n)) << "n " << n << ", k " << k;
    }
  }
}

TEST_P(SimdPaths, LinearMatchesDoublePrecisionAndEveryRowCountGivesTheSameBits) {
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> u(-1, 1);
  using Shape = std::tuple<size_t, size_t>;
  // (k, n): panel tails (n % 16 ≠ 0), one and several depth slices (k > 1,024), k = 0.
  for (auto [k, n] : {Shape{7, 5}, Shape{32, 96}, Shape{100, 130}, Shape{768, 48}, Shape{1500, 40}, Shape{3072, 17}, Shape{9, 0},
                      Shape{0, 20}}) {
    // Both the streaming and the GEMM path, and (k ≤ 100) more rows than one GEMM call takes.
    const size_t m_max = k <= 100 ? 2100 : embedrt::linear_streaming_rows() + 30;
    std::vector<float> x(m_max * k), w(k * n), bias(n);
    for (float& v : x) v = u(gen);
    for (float& v : w) v = u(gen);
    for (float& v : bias) v = u(gen);
    const std::vector<float> wp = to_panels(w, k, n);
    std::vector<float> all(m_max * n, std::nanf(""));
    embedrt::linear_forward(x.data(), m_max, k, wp.data(), n, bias.data(), all.data());
    const double tol = 2e-6 * (static_cast<double>(k) + 1);
    size_t bad = 0;
    for (size_t i = 0; i < m_max; ++i) {
      for (size_t j = 0; j < n; ++j) {
        double ref = bias[j];
        for (size_t t = 0; t < k; ++t) ref += static_cast<double>(x[i * k + t]) * w[t * n + j];
        if (!(std::fabs(all[i * n + j] - ref) <= tol) && bad++ < 5) {
          ADD_FAILURE() << m_max << "x" << n << "x" << k << " at " << i << "," << j << ": " << all[i * n + j] << " vs " << ref;
        }
      }
    }
    EXPECT_EQ(bad, 0u) << "k " << k << ", n " << n;
    // A row's result does not depend on how many rows come with it (streaming or GEMM, which pass).
    for (size_t m : {size_t{1}, size_t{2}, size_t{7}, size_t{25}, embedrt::linear_streaming_rows(), m_max - 1}) {
      std::vector<float> some(m * n, std::nanf(""));
      embedrt::linear_forward(x.data(), m, k, wp.data(), n, bias.data(), some.data());
      for (size_t i = 0; i < m * n; ++i) ASSERT_EQ(some[i], all[i]) << "m " << m << ", k " << k << ", n " << n << " at " << i;
    }
  }
}

// Every path this CPU runs (NEON only on AArch64, where the x86 paths are not built).
std::vector<Path> runnable_paths() {
  std::vector<Path> out;
  for (Path p : {Path::Scalar, Path::Avx2, Path::Avx512, Path::Neon}) {
    if (path_supported(p)) out.push_back(p);
  }
  return out;
}

TEST(SimdDispatch, ScalarAlwaysRunsAndTheBestPathCanBeSelected) {
  const std::vector<Path> paths = runnable_paths();
  ASSERT_FALSE(paths.empty());
  EXPECT_EQ(paths.front(), Path::Scalar);
  ASSERT_TRUE(set_path(paths.back()));
  EXPECT_EQ(active_path(), paths.back());
}

INSTANTIATE_TEST_SUITE_P(AllPaths, SimdPaths, ::testing::ValuesIn(runnable_paths()),
                         [](const ::testing::TestParamInfo<Path>& i) { return std::string(path_name(i.param)); });

}  // namespace
}  // namespace embedrt::simd
