#include "attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "simd.h"

// The per-query kernel (attention_kernel.inc), compiled once per target. Multiplies and adds stay
// apart (CMakeLists.txt compiles this file with -ffp-contract=off), so every target gives the same bits.

namespace embedrt {

namespace attention_portable {
#include "attention_kernel.inc"
}  // namespace attention_portable

#if defined(__x86_64__)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f")
#endif
namespace attention_avx512 {
#include "attention_kernel.inc"
}  // namespace attention_avx512
#if defined(__clang__)
#pragma clang attribute pop
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#else
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2")
#endif
namespace attention_avx2 {
#include "attention_kernel.inc"
}  // namespace attention_avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

namespace {

using HeadRows = void (*)(size_t count, const float* const* q, size_t d, const float* kt, const float* v, size_t vstride, size_t nk,
                          float scale, bool uniform, float* s, float* const* out);

HeadRows head_rows_for(simd::Path path) {
#if defined(__x86_64__)
  if (path == simd::Path::Avx512) return attention_avx512::head_rows;
  if (path == simd::Path::Avx2) return attention_avx2::head_rows;
#endif
  (void)path;
  return attention_portable::head_rows;
}

// The kernel's lanes: Kᵀ's keys and V's columns are padded to a multiple of them.
constexpr size_t kLanes = attention_portable::kLanes;
size_t round_up(size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

}  // namespace

float attention_scale(size_t head_dim) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim))); }

void attention_forward(const float* qkv, const int64_t* mask, size_t batch, size_t seq, size_t heads, size_t head_dim,
                       float* context, const ParallelFor& parallel) {
  if (batch == 0 || seq == 0 || heads == 0 || head_dim == 0) return;  // no output (or nothing to weigh)
  const size_t H = heads * head_dim, d = head_dim, dp = round_up(d), row = 3 * H;
  const float scale = attention_scale(d);
  const HeadRows head_rows = head_rows_for(simd::active_path());
  parallel(batch * heads, [&](size_t task) {
    const size_t b = task / heads, h = task % heads;
    const float* text = qkv + b * seq * row;
    // The head's kept keys transposed (Kᵀ: d × np, zero past nk). Its values are read in place when
    // the kept keys are the text's first nk (the mask's usual form) and d is a multiple of 16; else
    // copied to rows of dp floats, zero-padded.
    thread_local std::vector<float> kt, vcopy, s;
    thread_local std::vector<size_t> kept;
    kept.clear();
    for (size_t j = 0; j < seq; ++j) {
      if (mask[b * seq + j] != 0) kept.push_back(j);
    }
    const bool uniform = kept.empty();
    if (uniform) {
      for (size_t j = 0; j < seq; ++j) kept.push_back(j);
    }
    const size_t nk = kept.size(), np = round_up(nk);
    kt.assign(d * np, 0.f);
    s.resize(4 * np);
    for (size_t t = 0; t < nk; ++t) {
      const float* r = text + kept[t] * row + H + h * d;
      for (size_t e = 0; e < d; ++e) kt[e * np + t] = r[e];
    }
    const float* v = text + 2 * H + h * d;
    size_t vstride = row;
    if (kept.back() != nk - 1 || d != dp) {
      vcopy.assign(nk * dp, 0.f);
      for (size_t t = 0; t < nk; ++t) {
        const float* r = text + kept[t] * row + 2 * H + h * d;
        for (size_t e = 0; e < d; ++e) vcopy[t * dp + e] = r[e];
      }
      v = vcopy.data();
      vstride = dp;
    }
    for (size_t i = 0; i < seq; i += 4) {
      const size_t count = std::min<size_t>(4, seq - i);
      const float* q[4];
      float* out[4];
      for (size_t r = 0; r < count; ++r) {
        q[r] = text + (i + r) * row + h * d;
        out[r] = context + (b * seq + i + r) * H + h * d;
      }
      head_rows(count, q, d, kt.data(), v, vstride, nk, scale, uniform, s.data(), out);
    }
  });
}

}  // namespace embedrt
