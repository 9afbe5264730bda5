// com.embedrt.Attention's kernel (attention.h) on every SIMD path this CPU runs: a float64 softmax
// attention over the kept keys within float32's rounding, the same bits on every path, a text's result
// independent of its batch-mates and padding, masks with holes, a text with no kept key, non-finite
// inputs. Runs under ASan/UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "attention.h"
#include "simd.h"

namespace embedrt {
namespace {

struct Case {
  size_t batch, seq, heads, d;
  std::vector<float> qkv;
  std::vector<int64_t> mask;
};

// Texts of lengths len[b] (mask 1 then 0), random N(0, 1) activations scaled so the scores spread.
Case make_case(size_t heads, size_t d, const std::vector<size_t>& len, size_t seq, unsigned seed) {
  Case c{len.size(), seq, heads, d, {}, {}};
  std::mt19937 gen(seed);
  std::normal_distribution<float> u(0.f, 1.5f);
  c.qkv.resize(c.batch * seq * 3 * heads * d);
  for (float& v : c.qkv) v = u(gen);
  c.mask.assign(c.batch * seq, 0);
  for (size_t b = 0; b < c.batch; ++b) {
    for (size_t j = 0; j < len[b]; ++j) c.mask[b * seq + j] = 1;
  }
  return c;
}

std::vector<float> run(const Case& c) {
  std::vector<float> out(c.batch * c.seq * c.heads * c.d, std::nanf(""));
  attention_forward(c.qkv.data(), c.mask.data(), c.batch, c.seq, c.heads, c.d, out.data());
  return out;
}

// float64: softmax over the kept keys (all keys, equally weighted, when none is kept), and the bound of
// float32's rounding: ~2⁻²² of Σ p |v| (scores, exp and sums each a few roundings of their size).
void expect_near_reference(const Case& c, const std::vector<float>& got) {
  const size_t H = c.heads * c.d, row = 3 * H;
  for (size_t b = 0; b < c.batch; ++b) {
    std::vector<size_t> kept;
    for (size_t j = 0; j < c.seq; ++j) {
      if (c.mask[b * c.seq + j] != 0) kept.push_back(j);
    }
    const bool uniform = kept.empty();
    if (uniform) {
      for (size_t j = 0; j < c.seq; ++j) kept.push_back(j);
    }
    for (size_t h = 0; h < c.heads; ++h) {
      for (size_t i = 0; i < c.seq; ++i) {
        const float* q = &c.qkv[(b * c.seq + i) * row + h * c.d];
        std::vector<double> s(kept.size());
        double top = -INFINITY, sum = 0, score_mass = 0;
        for (size_t t = 0; t < kept.size(); ++t) {
          const float* k = &c.qkv[(b * c.seq + kept[t]) * row + H + h * c.d];
          double dot = 0, mass = 0;
          for (size_t e = 0; e < c.d; ++e) {
            dot += static_cast<double>(q[e]) * k[e];
            mass += std::fabs(static_cast<double>(q[e]) * k[e]);
          }
          s[t] = uniform ? 0 : dot / std::sqrt(static_cast<double>(c.d));
          score_mass = std::max(score_mass, mass / std::sqrt(static_cast<double>(c.d)));
          top = std::max(top, s[t]);
        }
        for (double& v : s) sum += (v = std::exp(v - top));
        for (size_t e = 0; e < c.d; ++e) {
          double ref = 0, mass = 0;
          for (size_t t = 0; t < kept.size(); ++t) {
            const double v = c.qkv[(b * c.seq + kept[t]) * row + 2 * H + h * c.d + e];
            ref += s[t] / sum * v;
            mass += s[t] / sum * std::fabs(v);
          }
          // A score's rounding (relative to its products' mass) moves its weight by as much.
          const double bound = mass * (std::ldexp(1.0, -20) + score_mass * std::ldexp(1.0, -21) * static_cast<double>(c.d)) + 1e-30;
          ASSERT_LE(std::fabs(got[(b * c.seq + i) * H + h * c.d + e] - ref), bound) << "text " << b << ", head " << h << ", row " << i << ", column " << e;
        }
      }
    }
  }
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class AttentionPaths : public ::testing::TestWithParam<simd::Path> {
 protected:
  void SetUp() override {
    best_ = simd::active_path();
    ASSERT_TRUE(simd::set_path(GetParam()));
  }
  void TearDown() override { simd::set_path(best_); }
  simd::Path best_ = simd::Path::Scalar;
};

TEST_P(AttentionPaths, MatchesAFloat64SoftmaxOverTheKeptKeys) {
  // Head widths that are and are not a multiple of 16; texts of several lengths (one fills the batch,
  // one longer than 4 blocks of 16 keys, one of a single token).
  for (size_t d : {size_t{64}, size_t{24}, size_t{16}, size_t{5}}) {
    const Case c = make_case(3, d, {70, 1, 33, 52, 17}, 70, 31 + static_cast<unsigned>(d));
    expect_near_reference(c, run(c));
  }
}

TEST_P(AttentionPaths, MasksWithHolesAndATextWithNoKeptKey) {
  Case c = make_case(2, 32, {20, 20, 20}, 20, 41);
  for (size_t j = 0; j < 20; j += 3) c.mask[j] = 0;  // text 0: every third key masked
  for (size_t j = 0; j < 20; ++j) c.mask[20 + j] = 0;  // text 1: none kept
  c.mask[2 * 20 + 7] = 0;                               // text 2: one hole
  expect_near_reference(c, run(c));
}

TEST_P(AttentionPaths, ATextsResultDoesNotDependOnItsBatchOrPadding) {
  const Case c = make_case(4, 64, {9, 40, 23}, 40, 51);
  const std::vector<float> all = run(c);
  const size_t H = 4 * 64;
  for (size_t b = 0; b < 3; ++b) {
    const size_t len = static_cast<size_t>(std::count(c.mask.begin() + static_cast<long>(b * 40), c.mask.begin() + static_cast<long>((b + 1) * 40), 1));
    Case alone{1, len, 4, 64, {}, std::vector<int64_t>(len, 1)};
    alone.qkv.assign(c.qkv.begin() + static_cast<long>(b * 40 * 3 * H), c.qkv.begin() + static_cast<long>((b * 40 + len) * 3 * H));
    const std::vector<float> one = run(alone);
    ASSERT_EQ(std::memcmp(one.data(), &all[b * 40 * H], len * H * sizeof(float)), 0) << "text " << b;
  }
}

TEST_P(AttentionPaths, EveryPathGivesTheSameBits) {
  const Case c = make_case(3, 24, {45, 12, 45}, 45, 61);
  const std::vector<float> here = run(c);
  ASSERT_TRUE(simd::set_path(simd::Path::Scalar));
  const std::vector<float> scalar = run(c);
  EXPECT_TRUE(same_bits(here, scalar));
}

TEST_P(AttentionPaths, ANonFiniteValueSpoilsOnlyItsOwnTextAndHead) {
  Case c = make_case(2, 16, {10, 10}, 10, 71);
  const size_t H = 2 * 16;
  // A NaN key makes its head's every score NaN (as in the ONNX graph's softmax); an infinite one would
  // not always: a score of −∞ only weighs its key 0, there and here.
  c.qkv[(0 * 10 + 3) * 3 * H + H + 16 + 2] = std::nanf("");  // text 0, key 3, head 1
  const std::vector<float> out = run(c);
  for (size_t i = 0; i < 10; ++i) {
    for (size_t e = 0; e < 16; ++e) {
      EXPECT_TRUE(std::isfinite(out[(0 * 10 + i) * H + e])) << "text 0, head 0";
      EXPECT_FALSE(std::isfinite(out[(0 * 10 + i) * H + 16 + e])) << "text 0, head 1";
      EXPECT_TRUE(std::isfinite(out[(1 * 10 + i) * H + 16 + e])) << "text 1";
    }
  }
}

TEST_P(AttentionPaths, EmptyShapesDoNothing) {
  // No tokens (the batch's texts empty), no texts, heads of no width: nothing read, nothing written.
  std::vector<float> out(4, 7.f);
  attention_forward(nullptr, nullptr, 2, 0, 3, 16, out.data());
  attention_forward(nullptr, nullptr, 0, 5, 3, 16, out.data());
  const std::vector<float> qkv(2 * 5 * 3 * 0);
  const std::vector<int64_t> mask(2 * 5, 1);
  attention_forward(qkv.data(), mask.data(), 2, 5, 3, 0, out.data());
  for (float v : out) EXPECT_EQ(v, 7.f);
}

std::vector<simd::Path> runnable_paths() {
  std::vector<simd::Path> out;
  for (simd::Path p : {simd::Path::Scalar, simd::Path::Avx2, simd::Path::Avx512, simd::Path::Neon}) {
    if (simd::path_supported(p)) out.push_back(p);
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllPaths, AttentionPaths, ::testing::ValuesIn(runnable_paths()),
                         [](const ::testing::TestParamInfo<simd::Path>& i) { return std::string(simd::path_name(i.param)); });

}  // namespace
}  // namespace embedrt
