// Longer than 400 lines because each SIMD path's kernels for the one packed layout (portable, AVX-512,
// AVX2 / AVX-VNNI, NEON) sit together with the table that chooses among them: every one must give the
// portable kernel's bits, and reading them side by side is how that is kept.
#include "lowp_kernels.h"

#include "cpu_features.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace embedrt {

namespace lowp {

namespace {

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}
float float_of(uint32_t u) {
  float v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

// ---- portable ----

// A block's integer sums, minus 128 · Σq of each column, times the rows' scales for the block, added to
// the float sums (fused: the AVX-512 kernel's order of operations).
template <int R>
void int8_portable(const Tile& t) {
  float sums[R][kStrip] = {};
  for (size_t b = 0; b < t.blocks; ++b) {
    int32_t acc[R][kStrip] = {};
    for (size_t g = b * kBlockGroups; g < std::min(t.groups, (b + 1) * kBlockGroups); ++g) {
      for (int r = 0; r < R; ++r) {
        const uint32_t av = t.a[g * R + r];
        for (size_t j = 0; j < kStrip; ++j) {
          const uint32_t wv = t.b[(j / kCols) * t.panel + g * kCols + j % kCols];
          int32_t s = 0;
          for (int e = 0; e < 4; ++e) {
            s += static_cast<int32_t>((av >> (8 * e)) & 0xffu) * static_cast<int8_t>(static_cast<uint8_t>(wv >> (8 * e)));
          }
          acc[r][j] += s;
        }
      }
    }
    for (int r = 0; r < R; ++r) {
      for (size_t j = 0; j < kStrip; ++j) {
        const float sum = static_cast<float>(acc[r][j] - 128 * t.colsum[b * t.cstride + j]);
        sums[r][j] = std::fma(sum, t.xscale[r * t.blocks + b], sums[r][j]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (size_t j = 0; j < kStrip; ++j) t.y[r * t.ldy + j] = std::fma(sums[r][j], t.wscale[j], t.bias[j]);
  }
}

template <int R>
void bf16_portable(const Tile& t) {
  float acc[R][kStrip] = {};
  for (size_t g = 0; g < t.groups; ++g) {
    for (int r = 0; r < R; ++r) {
      const uint32_t av = t.a[g * R + r];
      const float odd = float_of(av & 0xffff0000u), even = float_of(av << 16);
      for (size_t j = 0; j < kStrip; ++j) {
        const uint32_t wv = t.b[(j / kCols) * t.panel + g * kCols + j % kCols];
        acc[r][j] += odd * float_of(wv & 0xffff0000u);  // exact products: the sums round as vdpbf16ps's do
        acc[r][j] += even * float_of(wv << 16);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (size_t j = 0; j < kStrip; ++j) t.y[r * t.ldy + j] = acc[r][j] + t.bias[j];
  }
}

// Rows whose largest magnitude is subnormal quantize to zeros (127 / max|x| would overflow).
constexpr uint32_t kMinNormal = 0x00800000u;

// 127 / max|x| for a block whose max |x| has these bits (0 for zero, subnormal or non-finite blocks),
// and the block's scale (NaN for a non-finite block: its row's outputs are NaN).
inline float inverse_scale(uint32_t amax) { return amax < 0x7f800000u && amax >= kMinNormal ? 127.f / float_of(amax) : 0.f; }
inline float block_scale(uint32_t amax) { return amax < 0x7f800000u ? float_of(amax) / 127.f : NAN; }

void pack_int8_row(const float* x, size_t k, size_t groups, size_t block, uint32_t* a, size_t R, size_t r, float* scales) {
  for (size_t g0 = 0; g0 < groups; g0 += block) {
    const size_t g1 = std::min(groups, g0 + block);
    uint32_t amax = 0;  // max |x| as bits: exact in any order, and NaN's bits exceed infinity's
    for (size_t p = 4 * g0; p < std::min(k, 4 * g1); ++p) amax = std::max(amax, bits_of(x[p]) & 0x7fffffffu);
    const float inv = inverse_scale(amax);
    for (size_t g = g0; g < g1; ++g) {
      uint32_t word = 0;
      for (size_t e = 0; e < 4; ++e) {
        const size_t p = 4 * g + e;
        const float q = p < k ? std::min(127.f, std::max(-127.f, std::nearbyint(x[p] * inv))) : 0.f;
        word |= static_cast<uint32_t>(static_cast<int32_t>(q) + 128) << (8 * e);
      }
      a[g * R + r] = word;
    }
    scales[g0 / block] = block_scale(amax);
  }
}

void pack_bf16_row(const float* x, size_t k, size_t groups, size_t /*block*/, uint32_t* a, size_t R, size_t r, float* /*scales*/) {
  for (size_t g = 0; g < groups; ++g) {
    const uint32_t even = to_bfloat16(x[2 * g]), odd = 2 * g + 1 < k ? to_bfloat16(x[2 * g + 1]) : 0;
    a[g * R + r] = even | odd << 16;
  }
}

#if defined(__x86_64__)

// ---- AVX-512 ----

// GCC 12's AVX-512 shift, extract and reduce intrinsics pass _mm512_undefined_*() (self-initialized
// on purpose) and then warn about it (GCC bug 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Groups of W prefetched ahead of the one being read (into L1), and the same group of the next strip
// (into L2): when x has few rows W streams from memory, and so four streams are in flight per core.
constexpr size_t kPrefetchGroups = 16;
inline void prefetch(const Tile& t, size_t g) {
  const auto at = [](const uint32_t* p, size_t u) { return reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) + u * 4); };
  _mm_prefetch(at(t.b, (g + kPrefetchGroups) * kCols), _MM_HINT_T0);  // past the panel near its end: harmless
  _mm_prefetch(at(t.b, t.panel + (g + kPrefetchGroups) * kCols), _MM_HINT_T0);
  if (t.next != nullptr) {
    _mm_prefetch(at(t.next, g * kCols), _MM_HINT_T1);
    _mm_prefetch(at(t.next, t.panel + g * kCols), _MM_HINT_T1);
  }
}

// Declares acc[R][2] (zeroed) and runs groups [G0, G1) of the tile through the statement given.
#define EMBEDRT_LOWP_STEPS(ACC_T, G0, G1, ...)                                      \
  ACC_T acc[R][2];                                                                   \
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = ACC_T{};                       \
  const uint32_t* b1 = t.b + t.panel;                                                \
  for (size_t g = G0, g_end = G1; g < g_end; ++g) {                                  \
    prefetch(t, g);                                                                  \
    const __m512i w0 = _mm512_load_si512(t.b + g * kCols), w1 = _mm512_load_si512(b1 + g * kCols); \
    _Pragma("GCC unroll 12") for (int r = 0; r < R; ++r) {                           \
      const uint32_t av = t.a[g * R + r];                                            \
      __VA_ARGS__                                                                    \
    }                                                                                \
  }

// acc += the u8 × s8 dot products of x and w, four per lane. In assembly: GCC 12 compiles the intrinsic
// (_mm512_dpbusd_epi32) with a register copy per use, and in a 12 × 2 tile spilled the accumulators to
// the stack on every step (the first version ran at 40% of the instruction's peak).
__attribute__((target("avx512f,avx512vnni"))) inline __m512i dpbusd(__m512i acc, __m512i x, __m512i w) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(x), "v"(w));
  return acc;
}

// A tile of up to 6 rows: each block's int32 sums and the float sums of the blocks
// before stay in registers (12 + 12 zmm).
template <int R>
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void int8_vnni(const Tile& t) {
  __m512 sums[R][2];
  for (int r = 0; r < R; ++r) sums[r][0] = sums[r][1] = _mm512_setzero_ps();
  for (size_t b = 0; b < t.blocks; ++b) {
    EMBEDRT_LOWP_STEPS(__m512i, b * kBlockGroups, std::min(t.groups, (b + 1) * kBlockGroups), {
      const __m512i x = _mm512_set1_epi32(static_cast<int>(av));
      acc[r][0] = dpbusd(acc[r][0], x, w0);
      acc[r][1] = dpbusd(acc[r][1], x, w1);
    })
    const __m512i shift0 = _mm512_slli_epi32(_mm512_loadu_si512(t.colsum + b * t.cstride), 7);  // 128 · Σq
    const __m512i shift1 = _mm512_slli_epi32(_mm512_loadu_si512(t.colsum + b * t.cstride + kCols), 7);
    for (int r = 0; r < R; ++r) {
      const __m512 s = _mm512_set1_ps(t.xscale[r * t.blocks + b]);
      sums[r][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][0], shift0)), s, sums[r][0]);
      sums[r][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][1], shift1)), s, sums[r][1]);
    }
  }
  for (int h = 0; h < 2; ++h) {
    const __m512 ws = _mm512_loadu_ps(t.wscale + h * kCols), bias = _mm512_loadu_ps(t.bias + h * kCols);
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(t.y + r * t.ldy + h * kCols, _mm512_fmadd_ps(sums[r][h], ws, bias));
  }
}

// bf16's epilogue: y = the float32 sums + bias.
template <int R>
__attribute__((target("avx512f"))) inline void store_plus_bias(const __m512 (&acc)[R][2], const Tile& t) {
  for (int h = 0; h < 2; ++h) {
    const __m512 bias = _mm512_loadu_ps(t.bias + h * kCols);
    for (int r = 0; r < R; ++r) _mm512_storeu_ps(t.y + r * t.ldy + h * kCols, _mm512_add_ps(acc[r][h], bias));
  }
}

template <int R>
__attribute__((target("avx512f,avx512bf16"))) void bf16_dot(const Tile& t) {
  EMBEDRT_LOWP_STEPS(__m512, 0, t.groups, {
    const __m512bh x = (__m512bh)_mm512_set1_epi32(static_cast<int>(av));
    acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, (__m512bh)w0);
    acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, (__m512bh)w1);
  })
  store_plus_bias<R>(acc, t);
}

// vdpbf16ps by float32 FMAs: each pair's odd product, then its even one (both exact).
template <int R>
__attribute__((target("avx512f"))) void bf16_fma(const Tile& t) {
  const __m512i high = _mm512_set1_epi32(static_cast<int>(0xffff0000u));
  EMBEDRT_LOWP_STEPS(__m512, 0, t.groups, {
    const __m512 odd = _mm512_set1_ps(float_of(av & 0xffff0000u)), even = _mm512_set1_ps(float_of(av << 16));
    acc[r][0] = _mm512_fmadd_ps(odd, _mm512_castsi512_ps(_mm512_and_si512(w0, high)), acc[r][0]);
    acc[r][0] = _mm512_fmadd_ps(even, _mm512_castsi512_ps(_mm512_slli_epi32(w0, 16)), acc[r][0]);
    acc[r][1] = _mm512_fmadd_ps(odd, _mm512_castsi512_ps(_mm512_and_si512(w1, high)), acc[r][1]);
    acc[r][1] = _mm512_fmadd_ps(even, _mm512_castsi512_ps(_mm512_slli_epi32(w1, 16)), acc[r][1]);
  })
  store_plus_bias<R>(acc, t);
}

#undef EMBEDRT_LOWP_STEPS

// The lanes of the 16 floats at x + p that lie below x + k.
inline __mmask16 tail_mask(size_t k, size_t p) {
  return p >= k ? __mmask16{0} : k - p >= 16 ? __mmask16{0xffff} : static_cast<__mmask16>((1u << (k - p)) - 1);
}

// Stores 16 bytes (four groups) at a[g · R + r] for the groups g0 … below `groups`.
inline void scatter_groups(__m128i v, uint32_t* a, size_t g0, size_t groups, size_t R, size_t r) {
  alignas(16) uint32_t w[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(w), v);
  for (size_t i = 0; i < 4 && g0 + i < groups; ++i) a[(g0 + i) * R + r] = w[i];
}

// pack_int8_row and pack_bf16_row, 16 floats at a time (the same bits).
// (A block of activations is 64 groups, four per 16 floats; a column of weights is one block.)
__attribute__((target("avx512f,avx512bw"))) void pack_int8_row_avx512(const float* x, size_t k, size_t groups, size_t block,
                                                                     uint32_t* a, size_t R, size_t r, float* scales) {
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), zero = _mm512_set1_epi32(128);
  for (size_t g0 = 0; g0 < groups; g0 += block) {
    const size_t p0 = 4 * g0, p1 = 4 * std::min(groups, g0 + block);
    __m512i mx = _mm512_setzero_si512();
    for (size_t p = p0; p < p1; p += 16) {
      mx = _mm512_max_epu32(mx, _mm512_and_si512(_mm512_castps_si512(_mm512_maskz_loadu_ps(tail_mask(k, p), x + p)), magnitude));
    }
    const uint32_t amax = _mm512_reduce_max_epu32(mx);
    const __m512 inv = _mm512_set1_ps(inverse_scale(amax));
    for (size_t p = p0; p < p1; p += 16) {
      const __m512i q = _mm512_min_epi32(hi, _mm512_max_epi32(lo, _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail_mask(k, p), x + p), inv))));
      scatter_groups(_mm512_cvtepi32_epi8(_mm512_add_epi32(q, zero)), a, p / 4, std::min(groups, g0 + block), R, r);
    }
    scales[g0 / block] = block_scale(amax);
  }
}

__attribute__((target("avx512f,avx512bw"))) void pack_bf16_row_avx512(const float* x, size_t k, size_t groups, size_t /*block*/,
                                                                     uint32_t* a, size_t R, size_t r, float* /*scales*/) {
  const __m512i magnitude = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7fff), quiet = _mm512_set1_epi32(0x40);
  for (size_t p = 0; p < 2 * groups; p += 16) {
    const __m512i u = _mm512_castps_si512(_mm512_maskz_loadu_ps(tail_mask(k, p), x + p));
    const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(half, _mm512_and_si512(_mm512_srli_epi32(u, 16), one))), 16);
    const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, magnitude), inf);
    const __m256i h = _mm512_cvtepi32_epi16(_mm512_mask_or_epi32(rounded, nan, _mm512_srli_epi32(u, 16), quiet));
    scatter_groups(_mm256_castsi256_si128(h), a, p / 2, groups, R, r);
    scatter_groups(_mm256_extracti128_si256(h, 1), a, p / 2 + 4, groups, R, r);
  }
}

// ---- AVX2 and AVX-VNNI (YMM) ----
// A panel (16 columns: two YMM) at a time; each block's int32 sums in registers, the float sums in
// memory (updated once per block and panel), so a tile of 6 rows fits in 16 registers.

// The statement given adds group g's products for row r (av: its packed word; w0, w1: the panel's 16 columns) to
// acc[r][0..1]. OFFSET: those sums include 128 · Σw (vpdpbusd's u8 × s8 of q + 128), subtracted here;
// AVX2 sums q · w itself.
#define EMBEDRT_INT8_YMM(NAME, TARGET, OFFSET, ...)                                                              \
  template <int R>                                                                                             \
  __attribute__((target(TARGET))) void NAME(const Tile& t) {                                                   \
    alignas(32) float sums[R][kStrip] = {};                                                                    \
    for (size_t b = 0; b < t.blocks; ++b) {                                                                    \
      const size_t g0 = b * kBlockGroups, g1 = std::min(t.groups, g0 + kBlockGroups);                         \
      for (size_t h = 0; h < 2; ++h) {                                                                         \
        const uint32_t* bp = t.b + h * t.panel;                                                                \
        __m256i acc[R][2];                                                                                     \
        for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();                            \
        for (size_t g = g0; g < g1; ++g) {                                                                     \
          const __m256i w0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + g * kCols));              \
          const __m256i w1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + g * kCols + 8));          \
          _Pragma("GCC unroll 6") for (int r = 0; r < R; ++r) {                                                \
            const uint32_t av = t.a[g * R + r];                                                                \
            __VA_ARGS__                                                                                        \
          }                                                                                                    \
        }                                                                                                      \
        for (int r = 0; r < R; ++r) {                                                                          \
          const __m256 s = _mm256_set1_ps(t.xscale[r * t.blocks + b]);                                        \
          for (size_t i = 0; i < 2; ++i) {                                                                     \
            __m256i v = acc[r][i];                                                                             \
            if (OFFSET) {                                                                                      \
              const int32_t* cs = t.colsum + b * t.cstride + h * kCols + 8 * i;                                \
              v = _mm256_sub_epi32(v, _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(cs)), 7)); \
            }                                                                                                  \
            float* sum = &sums[r][h * kCols + 8 * i];                                                          \
            _mm256_store_ps(sum, _mm256_fmadd_ps(_mm256_cvtepi32_ps(v), s, _mm256_load_ps(sum)));              \
          }                                                                                                    \
        }                                                                                                      \
      }                                                                                                        \
    }                                                                                                          \
    for (size_t j = 0; j < kStrip; j += 8) {                                                                   \
      const __m256 ws = _mm256_loadu_ps(t.wscale + j), bias = _mm256_loadu_ps(t.bias + j);                     \
      for (int r = 0; r < R; ++r) {                                                                            \
        _mm256_storeu_ps(t.y + r * t.ldy + j, _mm256_fmadd_ps(_mm256_load_ps(&sums[r][j]), ws, bias));         \
      }                                                                                                        \
    }                                                                                                          \
  }

EMBEDRT_INT8_YMM(int8_avxvnni, "avx2,fma,avxvnni", true, {
  const __m256i x = _mm256_set1_epi32(static_cast<int>(av));
  acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], x, w0);
  acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], x, w1);
})
EMBEDRT_INT8_YMM(int8_avx512vl_vnni, "avx2,fma,avx512f,avx512vl,avx512vnni", true, {
  const __m256i x = _mm256_set1_epi32(static_cast<int>(av));
  acc[r][0] = _mm256_dpbusd_epi32(acc[r][0], x, w0);
  acc[r][1] = _mm256_dpbusd_epi32(acc[r][1], x, w1);
})
EMBEDRT_INT8_YMM(int8_avx2, "avx2,fma", false, {
  const __m256i x = _mm256_set1_epi32(static_cast<int>(av ^ 0x80808080u));  // q, signed
  const __m256i ax = _mm256_sign_epi8(x, x), ones = _mm256_set1_epi16(1);  // |q| ≤ 127
  acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w0, x)), ones));
  acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(w1, x)), ones));
})
#undef EMBEDRT_INT8_YMM

// bf16_fma on 8 lanes, a panel at a time.
template <int R>
__attribute__((target("avx2,fma"))) void bf16_avx2(const Tile& t) {
  const __m256i high = _mm256_set1_epi32(static_cast<int>(0xffff0000u));
  for (size_t h = 0; h < 2; ++h) {
    const uint32_t* bp = t.b + h * t.panel;
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (size_t g = 0; g < t.groups; ++g) {
      __m256 wo[2], we[2];
      for (size_t i = 0; i < 2; ++i) {
        const __m256i w = _mm256_load_si256(reinterpret_cast<const __m256i*>(bp + g * kCols + 8 * i));
        wo[i] = _mm256_castsi256_ps(_mm256_and_si256(w, high));
        we[i] = _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
      }
      _Pragma("GCC unroll 6") for (int r = 0; r < R; ++r) {
        const uint32_t av = t.a[g * R + r];
        const __m256 odd = _mm256_set1_ps(float_of(av & 0xffff0000u)), even = _mm256_set1_ps(float_of(av << 16));
        for (size_t i = 0; i < 2; ++i) acc[r][i] = _mm256_fmadd_ps(even, we[i], _mm256_fmadd_ps(odd, wo[i], acc[r][i]));
      }
    }
    for (size_t i = 0; i < 2; ++i) {
      const size_t j = h * kCols + 8 * i;
      const __m256 bias = _mm256_loadu_ps(t.bias + j);
      for (int r = 0; r < R; ++r) _mm256_storeu_ps(t.y + r * t.ldy + j, _mm256_add_ps(acc[r][i], bias));
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif

#if defined(__aarch64__)

// ---- NEON ----
// A panel (16 columns: four registers of 4) at a time, as the YMM kernels. x's word as s8 (q) in every
// lane, so the sums are of q · w directly (no u8 offset).

// y = the float sums times the columns' scales + bias (one fused multiply-add, as on x86).
template <int R>
inline void int8_neon_store(const Tile& t, const float (&sums)[R][kStrip]) {
  for (size_t j = 0; j < kStrip; j += 4) {
    const float32x4_t ws = vld1q_f32(t.wscale + j), bias = vld1q_f32(t.bias + j);
    for (int r = 0; r < R; ++r) vst1q_f32(t.y + r * t.ldy + j, vfmaq_f32(bias, vld1q_f32(&sums[r][j]), ws));
  }
}

// ACCS int32x4 accumulators per row and panel; STEP adds group g's products for row r (x: its q in every
// lane, w[4]: the panel's 16 columns); FOLD(i) gives columns 4i … 4i + 3's block sums.
#define EMBEDRT_INT8_NEON(NAME, ATTR, ACCS, STEP, FOLD)                                                   \
  template <int R>                                                                                      \
  ATTR void NAME(const Tile& t) {                                                                       \
    float sums[R][kStrip] = {};                                                                         \
    for (size_t b = 0; b < t.blocks; ++b) {                                                             \
      const size_t g0 = b * kBlockGroups, g1 = std::min(t.groups, g0 + kBlockGroups);                  \
      for (size_t h = 0; h < 2; ++h) {                                                                  \
        const uint32_t* bp = t.b + h * t.panel;                                                         \
        int32x4_t acc[R][ACCS];                                                                         \
        for (int r = 0; r < R; ++r) {                                                                   \
          for (int i = 0; i < ACCS; ++i) acc[r][i] = vdupq_n_s32(0);                                     \
        }                                                                                               \
        for (size_t g = g0; g < g1; ++g) {                                                              \
          int8x16_t w[4];                                                                               \
          for (int i = 0; i < 4; ++i) w[i] = vreinterpretq_s8_u32(vld1q_u32(bp + g * kCols + 4 * i));   \
          for (int r = 0; r < R; ++r) {                                                                 \
            const int8x16_t x = vreinterpretq_s8_u32(vdupq_n_u32(t.a[g * R + r] ^ 0x80808080u));        \
            for (int i = 0; i < 4; ++i) { STEP }                                                        \
          }                                                                                             \
        }                                                                                               \
        for (int r = 0; r < R; ++r) {                                                                   \
          const float32x4_t s = vdupq_n_f32(t.xscale[r * t.blocks + b]);                                \
          for (int i = 0; i < 4; ++i) {                                                                 \
            float* sum = &sums[r][h * kCols + 4 * i];                                                   \
            vst1q_f32(sum, vfmaq_f32(vld1q_f32(sum), vcvtq_f32_s32(FOLD), s));                          \
          }                                                                                             \
        }                                                                                               \
      }                                                                                                 \
    }                                                                                                   \
    int8_neon_store<R>(t, sums);                                                                        \
  }

// sdot: lane j += the four products of column j's bytes and x's.
EMBEDRT_INT8_NEON(int8_neon_dot, __attribute__((target("arch=armv8.2-a+dotprod"))), 4,
                  acc[r][i] = vdotq_s32(acc[r][i], w[i], x);, acc[r][i])
// smull: 16-bit products of two columns' bytes; sadalp: their pairs added into 32 bits (two partial sums
// per column, added at the block's end by addp).
EMBEDRT_INT8_NEON(int8_neon, , 8,
                  acc[r][2 * i] = vpadalq_s16(acc[r][2 * i], vmull_s8(vget_low_s8(w[i]), vget_low_s8(x)));
                  acc[r][2 * i + 1] = vpadalq_s16(acc[r][2 * i + 1], vmull_high_s8(w[i], x));,
                  vpaddq_s32(acc[r][2 * i], acc[r][2 * i + 1]))
#undef EMBEDRT_INT8_NEON

// bf16_portable's products and order by float32 FMAs, a panel at a time.
template <int R>
void bf16_neon(const Tile& t) {
  const uint32x4_t high = vdupq_n_u32(0xffff0000u);
  for (size_t h = 0; h < 2; ++h) {
    const uint32_t* bp = t.b + h * t.panel;
    float32x4_t acc[R][4];
    for (int r = 0; r < R; ++r) {
      for (int i = 0; i < 4; ++i) acc[r][i] = vdupq_n_f32(0.f);
    }
    for (size_t g = 0; g < t.groups; ++g) {
      float32x4_t wo[4], we[4];
      for (int i = 0; i < 4; ++i) {
        const uint32x4_t w = vld1q_u32(bp + g * kCols + 4 * i);
        wo[i] = vreinterpretq_f32_u32(vandq_u32(w, high));
        we[i] = vreinterpretq_f32_u32(vshlq_n_u32(w, 16));
      }
      for (int r = 0; r < R; ++r) {
        const uint32_t av = t.a[g * R + r];
        const float32x4_t odd = vdupq_n_f32(float_of(av & 0xffff0000u)), even = vdupq_n_f32(float_of(av << 16));
        for (int i = 0; i < 4; ++i) acc[r][i] = vfmaq_f32(vfmaq_f32(acc[r][i], wo[i], odd), we[i], even);
      }
    }
    for (int i = 0; i < 4; ++i) {
      const size_t j = h * kCols + 4 * i;
      const float32x4_t bias = vld1q_f32(t.bias + j);
      for (int r = 0; r < R; ++r) vst1q_f32(t.y + r * t.ldy + j, vaddq_f32(acc[r][i], bias));
    }
  }
}

#endif


#define EMBEDRT_LOWP_TABLE(kernel)                                                                              \
  constexpr Micro kernel##_table[] = {nullptr,    kernel<1>, kernel<2>, kernel<3>,  kernel<4>,  kernel<5>, kernel<6>, \
                                      kernel<7>, kernel<8>, kernel<9>, kernel<10>, kernel<11>, kernel<12>};   \
  static_assert(sizeof(kernel##_table) / sizeof(Micro) == kTileRows + 1, "a kernel per row count");

EMBEDRT_LOWP_TABLE(int8_portable)
EMBEDRT_LOWP_TABLE(bf16_portable)
#if defined(__x86_64__)
EMBEDRT_LOWP_TABLE(int8_vnni)
EMBEDRT_LOWP_TABLE(bf16_dot)
EMBEDRT_LOWP_TABLE(bf16_fma)
EMBEDRT_LOWP_TABLE(int8_avxvnni)
EMBEDRT_LOWP_TABLE(int8_avx512vl_vnni)
EMBEDRT_LOWP_TABLE(int8_avx2)
EMBEDRT_LOWP_TABLE(bf16_avx2)
#endif
#if defined(__aarch64__)
EMBEDRT_LOWP_TABLE(int8_neon_dot)
EMBEDRT_LOWP_TABLE(int8_neon)
EMBEDRT_LOWP_TABLE(bf16_neon)
#endif
#undef EMBEDRT_LOWP_TABLE

}  // namespace

Kernels kernels_for(LowPrecision format, LowpKernel kernel) {
  const bool int8 = format == LowPrecision::Int8;
  const PackRow pack = int8 ? pack_int8_row : pack_bf16_row;
  switch (kernel) {
#if defined(__x86_64__)
    case LowpKernel::Avx512Dot:
      return int8 ? Kernels{int8_vnni_table, pack_int8_row_avx512, 6} : Kernels{bf16_dot_table, pack_bf16_row_avx512, 12};
    case LowpKernel::Avx512:
      if (!int8) return {bf16_fma_table, pack_bf16_row_avx512, 12};
      break;
    case LowpKernel::AvxVnni:
      // AVX-VNNI's encoding where the CPU has it, else AVX512-VL's (lowp_kernel_supported checks one exists).
      if (int8) return {x86_features().avxvnni ? int8_avxvnni_table : int8_avx512vl_vnni_table, pack, 6};
      break;
    case LowpKernel::Avx2: return int8 ? Kernels{int8_avx2_table, pack, 6} : Kernels{bf16_avx2_table, pack, 4};
#endif
#if defined(__aarch64__)
    case LowpKernel::NeonDot:
      if (int8) return {int8_neon_dot_table, pack, 6};
      break;
    case LowpKernel::Neon: return int8 ? Kernels{int8_neon_table, pack, 3} : Kernels{bf16_neon_table, pack, 4};
#endif
    default: break;
  }
  return int8 ? Kernels{int8_portable_table, pack, 6} : Kernels{bf16_portable_table, pack, 12};
}

}  // namespace lowp

uint16_t to_bfloat16(float v) {
  const uint32_t u = lowp::bits_of(v);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);  // a quiet NaN
  return static_cast<uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace embedrt
