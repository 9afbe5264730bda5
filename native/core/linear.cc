#include "linear.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gemm.h"
#include "simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace embedrt {

namespace {

// A streaming kernel computes rows [0, R) × one panel of 16 columns of y from x packed step-major
// (xp[p * R + r]) and the panel (w: k × 16, row-major): one pass over those columns of W.
using StreamKernel = void (*)(size_t p0, size_t p1, const float* xp, const float* w, const float* next, const float* bias,
                              float* y, size_t ldy, int stage);

struct StreamPath {
  size_t max_rows;              // rows per pass
  const StreamKernel* kernels;  // kernels[r] for r rows, 1 ≤ r ≤ max_rows
  size_t streaming_rows;        // rows up to which streaming beats the packed GEMM
};

constexpr size_t kCols = kPanelCols;
constexpr size_t kMaxPassRows = 24;  // the most rows any path's kernels take in one pass

// Every kernel computes depth steps [p0, p1) and stores to y (stage First), adds to y (Middle), or adds
// to y and then the bias (Last, or Only for a single slice): the packed GEMM's order of operations, so
// a row gives the same bits whichever path computes it (gemm_depth_slice).
enum Stage { kFirst = 0, kMiddle = 1, kLast = 2, kOnly = 3 };

// ---- portable: up to 4 rows per pass (NEON on AArch64, SSE2 on x86-64) ----

template <int R>
void stream_portable(size_t p0, size_t p1, const float* xp, const float* w, const float* /*next*/, const float* bias, float* y,
                     size_t ldy, int stage) {
  float acc[R][kCols] = {};
  for (size_t p = p0; p < p1; ++p) {
    const float* wr = w + p * kCols;
    for (int r = 0; r < R; ++r) {
      const float xv = xp[p * R + r];
      for (size_t j = 0; j < kCols; ++j) acc[r][j] += xv * wr[j];
    }
  }
  for (int r = 0; r < R; ++r) {
    float* yr = y + r * ldy;
    for (size_t j = 0; j < kCols; ++j) {
      const float v = stage == kFirst || stage == kOnly ? acc[r][j] : yr[j] + acc[r][j];
      yr[j] = stage >= kLast ? v + bias[j] : v;
    }
  }
}

constexpr StreamKernel kPortable[] = {nullptr, stream_portable<1>, stream_portable<2>, stream_portable<3>, stream_portable<4>};

#if defined(__x86_64__)

// Panel rows prefetched ahead of the one being read: about one memory latency of work.
constexpr size_t kPrefetchFloats = 24 * kCols;

// Prefetches w[offset] into L1 (computed as an integer: near the end it lies past the panel, which a
// prefetch may touch but pointer arithmetic may not), and the same row of the task's next panel into L2:
// by the time a panel is read it is in L2, so two memory streams are in flight per core.
inline void prefetch(const float* w, size_t offset, const float* next, size_t row) {
  _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(w) + offset * sizeof(float)), _MM_HINT_T0);
  if (next != nullptr) _mm_prefetch(reinterpret_cast<const char*>(next + row), _MM_HINT_T1);
}

// ---- AVX2 + FMA: up to 6 rows (12 ymm accumulators) ----

template <int R>
__attribute__((target("avx2,fma"))) void stream_avx2(size_t p0, size_t p1, const float* xp, const float* w, const float* next,
                                                      const float* bias, float* y, size_t ldy, int stage) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t p = p0; p < p1; ++p) {
    prefetch(w, p * kCols + kPrefetchFloats, next, p * kCols);
    const __m256 w0 = _mm256_loadu_ps(w + p * kCols), w1 = _mm256_loadu_ps(w + p * kCols + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 xv = _mm256_broadcast_ss(xp + p * R + r);
      acc[r][0] = _mm256_fmadd_ps(xv, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(xv, w1, acc[r][1]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int h = 0; h < 2; ++h) {
      float* yr = y + r * ldy + h * 8;
      __m256 v = stage == kFirst || stage == kOnly ? acc[r][h] : _mm256_add_ps(acc[r][h], _mm256_loadu_ps(yr));
      if (stage >= kLast) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + h * 8));
      _mm256_storeu_ps(yr, v);
    }
  }
}

constexpr StreamKernel kAvx2[] = {nullptr,        stream_avx2<1>, stream_avx2<2>, stream_avx2<3>,
                                  stream_avx2<4>, stream_avx2<5>, stream_avx2<6>};

// ---- AVX-512: up to 24 rows (24 zmm accumulators; x comes as embedded broadcasts) ----

template <int R>
__attribute__((target("avx512f"))) void stream_avx512(size_t p0, size_t p1, const float* xp, const float* w, const float* next,
                                                       const float* bias, float* y, size_t ldy, int stage) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (size_t p = p0; p < p1; ++p) {
    prefetch(w, p * kCols + kPrefetchFloats, next, p * kCols);
    const __m512 wv = _mm512_loadu_ps(w + p * kCols);
#pragma GCC unroll 24
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(xp[p * R + r]), wv, acc[r]);
  }
  for (int r = 0; r < R; ++r) {
    float* yr = y + r * ldy;
    __m512 v = stage == kFirst || stage == kOnly ? acc[r] : _mm512_add_ps(acc[r], _mm512_loadu_ps(yr));
    if (stage >= kLast) v = _mm512_add_ps(v, _mm512_loadu_ps(bias));
    _mm512_storeu_ps(yr, v);
  }
}

constexpr StreamKernel kAvx512[] = {
    nullptr,           stream_avx512<1>,  stream_avx512<2>,  stream_avx512<3>,  stream_avx512<4>,  stream_avx512<5>,
    stream_avx512<6>,  stream_avx512<7>,  stream_avx512<8>,  stream_avx512<9>,  stream_avx512<10>, stream_avx512<11>,
    stream_avx512<12>, stream_avx512<13>, stream_avx512<14>, stream_avx512<15>, stream_avx512<16>, stream_avx512<17>,
    stream_avx512<18>, stream_avx512<19>, stream_avx512<20>, stream_avx512<21>, stream_avx512<22>, stream_avx512<23>,
    stream_avx512<24>};
static_assert(sizeof(kAvx512) / sizeof(kAvx512[0]) == kMaxPassRows + 1, "the tail buffer holds a pass");

#endif

// streaming_rows: measured on BERT-base's 48 projections per text (weights from memory, 2 cores), time
// streaming / GEMM — AVX-512: 0.52 at 24 rows, 0.68 at 48, 0.80 at 128, 0.92 at 256, 1.01 at 384 and 512;
// AVX2: 0.76 at 24, 0.85 at 48, 0.92 at 96, 1.04 at 192; portable (SSE2 here): 0.63 at 4, 0.78 at 48
// (kept at 48: NEON not measured).
StreamPath stream_path() {
  switch (simd::active_path()) {
#if defined(__x86_64__)
    case simd::Path::Avx512: return {24, kAvx512, 256};
    case simd::Path::Avx2: return {6, kAvx2, 96};
#endif
    default: return {4, kPortable, 48};
  }
}

// Rows per GEMM call.
constexpr size_t kGemmChunkRows = 2048;

void linear_streaming(const float* x, size_t m, size_t k, const float* w, size_t n, const float* bias, float* y,
                      const ParallelFor& parallel) {
  const StreamPath path = stream_path();
  // Passes of near-equal row counts ≤ max_rows; x packed step-major per pass.
  const size_t passes = (m + path.max_rows - 1) / path.max_rows;
  std::vector<size_t> first(passes + 1);
  for (size_t i = 0; i <= passes; ++i) first[i] = m * i / passes;
  thread_local AlignedFloats packed;
  float* xp = packed.get(m * k);
  // One task per pass (up to 11 at 256 rows: packing them on the calling thread alone cost ~10% there).
  parallel(passes, [&](size_t i) {
    const size_t r0 = first[i], rows = first[i + 1] - r0;
    float* out = xp + r0 * k;
    for (size_t p = 0; p < k; ++p) {
      for (size_t r = 0; r < rows; ++r) out[p * rows + r] = x[(r0 + r) * k + p];
    }
  });
  const size_t panels = (n + kCols - 1) / kCols, slice = gemm_depth_slice(k);
  parallel(panels, [&](size_t s) {
    const size_t j = s * kCols, cols = std::min(kCols, n - j);
    const float* panel = w + s * k * kCols;
    // The panel after this one, prefetched into L2 during the last pass over this one (tasks come in
    // contiguous runs per thread, so it is usually this thread's next).
    const float* next = s + 1 < panels ? panel + k * kCols : nullptr;
    for (size_t i = 0; i < passes; ++i) {
      const size_t r0 = first[i], rows = first[i + 1] - r0;
      // The last, partial panel (zero-padded in W) goes through a buffer, its columns copied out.
      float tail[kMaxPassRows * kCols], tail_bias[kCols] = {};
      const bool full = cols == kCols;
      if (!full) std::copy(bias + j, bias + n, tail_bias);
      float* out = full ? y + r0 * n + j : tail;
      for (size_t p0 = 0; p0 < k; p0 += slice) {
        const size_t p1 = std::min(k, p0 + slice);
        const int stage = p0 == 0 ? (p1 == k ? kOnly : kFirst) : (p1 == k ? kLast : kMiddle);
        // x packed per pass: step p of the pass's rows at xp + r0 · k + p · rows.
        path.kernels[rows](p0, p1, xp + r0 * k, panel, i + 1 == passes ? next : nullptr, full ? bias + j : tail_bias, out,
                           full ? n : kCols, stage);
      }
      if (!full) {
        for (size_t r = 0; r < rows; ++r) std::copy(tail + r * kCols, tail + r * kCols + cols, y + (r0 + r) * n + j);
      }
    }
  });
}

}  // namespace

size_t linear_streaming_rows() { return stream_path().streaming_rows; }

size_t linear_packed_floats(size_t n, size_t k) { return (n + kCols - 1) / kCols * kCols * k; }

void pack_linear_weights(const LinearRows* blocks, size_t count, size_t k, float* out) {
  // Column j of W is row j of the blocks taken in turn; panel q holds columns [16q, 16q + 16).
  std::vector<const float*> rows;
  for (size_t b = 0; b < count; ++b) {
    for (size_t r = 0; r < blocks[b].rows; ++r) rows.push_back(blocks[b].data + r * k);
  }
  const size_t n = rows.size();
  for (size_t q = 0; q * kCols < n; ++q) {
    float* panel = out + q * k * kCols;
    for (size_t c = 0; c < kCols; ++c) {
      const size_t j = q * kCols + c;
      if (j >= n) {
        for (size_t p = 0; p < k; ++p) panel[p * kCols + c] = 0.f;
        continue;
      }
      const float* src = rows[j];  // read in order; the panel (k × 16 floats) stays in cache while written
      for (size_t p = 0; p < k; ++p) panel[p * kCols + c] = src[p];
    }
  }
}

void linear_forward(const float* x, size_t m, size_t k, const float* w, size_t n, const float* bias, float* y,
                    const ParallelFor& parallel) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (size_t i = 0; i < m; ++i) std::copy(bias, bias + n, y + i * n);
    return;
  }
  if (m <= linear_streaming_rows()) {
    linear_streaming(x, m, k, w, n, bias, y, parallel);
    return;
  }
  // Chunks of rows, so the packed copy of x stays small (a batch of 32 × 512 tokens would pack 200 MB
  // for a 3,072-deep product); each chunk repacks W's blocks, ~2% of its work at this size.
  for (size_t r0 = 0; r0 < m; r0 += kGemmChunkRows) {
    const size_t rows = std::min(kGemmChunkRows, m - r0);
    gemm_ab_panels(x + r0 * k, rows, w, n, k, y + r0 * n, parallel);
  }
  parallel((m + 63) / 64, [&](size_t t) {
    for (size_t i = t * 64; i < std::min(m, t * 64 + 64); ++i) {
      float* row = y + i * n;
      for (size_t j = 0; j < n; ++j) row[j] += bias[j];
    }
  });
}

}  // namespace embedrt
