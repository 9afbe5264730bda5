#include "gemm.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <numeric>

#include "platform.h"
#include "simd.h"
#include "thread_pool.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace embedrt {

namespace {

// A micro-kernel computes one MR × NR tile from kc steps of packed A (kc × MR, step-major) and packed
// B (kc × NR, step-major) and stores it to c (row stride ldc), adding to what is there if `accumulate`.
using MicroKernel = void (*)(size_t kc, const float* ap, const float* bp, float* c, size_t ldc, bool accumulate);

struct Kernel {
  size_t mr, nr;
  MicroKernel run;
};

// The largest tile of any micro-kernel (a partial tile is computed into a buffer of this size).
constexpr size_t kMaxTile = 12 * 32;

// ---- portable: plain loops the compiler vectorizes (NEON on AArch64, SSE2 on x86-64) ----

constexpr size_t kPortableMr = 4, kPortableNr = 16;
static_assert(kPortableMr * kPortableNr <= kMaxTile, "edge buffer");

void micro_portable(size_t kc, const float* ap, const float* bp, float* c, size_t ldc, bool accumulate) {
  float acc[kPortableMr][kPortableNr] = {};
  for (size_t p = 0; p < kc; ++p) {
    for (size_t r = 0; r < kPortableMr; ++r) {
      const float av = ap[r];
      for (size_t j = 0; j < kPortableNr; ++j) acc[r][j] += av * bp[j];
    }
    ap += kPortableMr;
    bp += kPortableNr;
  }
  for (size_t r = 0; r < kPortableMr; ++r) {
    float* cr = c + r * ldc;
    for (size_t j = 0; j < kPortableNr; ++j) cr[j] = accumulate ? cr[j] + acc[r][j] : acc[r][j];
  }
}

#if defined(__x86_64__)

// ---- AVX2 + FMA: 6 rows × 16 columns = 12 ymm accumulators, 2 for B, 1 broadcast ----

constexpr size_t kAvx2Mr = 6, kAvx2Nr = 16;
static_assert(kAvx2Mr * kAvx2Nr <= kMaxTile, "edge buffer");

__attribute__((target("avx2,fma"))) void micro_avx2(size_t kc, const float* ap, const float* bp, float* c, size_t ldc,
                                                     bool accumulate) {
  __m256 acc[kAvx2Mr][2];
  for (size_t r = 0; r < kAvx2Mr; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (size_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
    for (size_t r = 0; r < kAvx2Mr; ++r) {
      const __m256 av = _mm256_broadcast_ss(ap + r);
      acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
    }
    ap += kAvx2Mr;
    bp += kAvx2Nr;
  }
  for (size_t r = 0; r < kAvx2Mr; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(cr));
      acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(cr + 8));
    }
    _mm256_storeu_ps(cr, acc[r][0]);
    _mm256_storeu_ps(cr + 8, acc[r][1]);
  }
}

// ---- AVX-512: 12 rows × 32 columns = 24 zmm accumulators, 2 for B, 1 broadcast ----

constexpr size_t kAvx512Mr = 12, kAvx512Nr = 32;
static_assert(kAvx512Mr * kAvx512Nr <= kMaxTile, "edge buffer");

__attribute__((target("avx512f"))) void micro_avx512(size_t kc, const float* ap, const float* bp, float* c, size_t ldc,
                                                      bool accumulate) {
  __m512 acc[kAvx512Mr][2];
  for (size_t r = 0; r < kAvx512Mr; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (size_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#pragma GCC unroll 12
    for (size_t r = 0; r < kAvx512Mr; ++r) {
      const __m512 av = _mm512_set1_ps(ap[r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
    ap += kAvx512Mr;
    bp += kAvx512Nr;
  }
  for (size_t r = 0; r < kAvx512Mr; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm512_add_ps(acc[r][0], _mm512_loadu_ps(cr));
      acc[r][1] = _mm512_add_ps(acc[r][1], _mm512_loadu_ps(cr + 16));
    }
    _mm512_storeu_ps(cr, acc[r][0]);
    _mm512_storeu_ps(cr + 16, acc[r][1]);
  }
}

#endif

Kernel kernel_for(simd::Path path) {
  switch (path) {
#if defined(__x86_64__)
    case simd::Path::Avx512: return {kAvx512Mr, kAvx512Nr, micro_avx512};
    case simd::Path::Avx2: return {kAvx2Mr, kAvx2Nr, micro_avx2};
#endif
    default: return {kPortableMr, kPortableNr, micro_portable};
  }
}

// Blocking. KC: the whole depth when it is an embedding's (≤ 1,024), so C is written once; longer
// depths are split into near-equal slices ≤ 768 and C accumulates. NC: columns of B packed per task
// (NC × KC floats ≤ 1 MiB, one core's L2). MC: rows of C per sweep over one packed B block.
constexpr size_t kMaxDepth = 1024, kDepthSlice = 768, kNc = 256;

// Packs rows [0, rows) of `src` (stride ld), depth slice [0, kc), into one panel of `width` rows,
// step-major (panel[p * width + r] = src[r][p]); missing rows are zero.
void pack_panel(const float* src, size_t ld, size_t rows, size_t kc, size_t width, float* panel) {
  for (size_t p = 0; p < kc; ++p) {
    float* out = panel + p * width;
    for (size_t r = 0; r < rows; ++r) out[r] = src[r * ld + p];
    for (size_t r = rows; r < width; ++r) out[r] = 0.f;
  }
}

// Packs columns [0, cols) of a matrix in kPanelCols-column panels (src: the first panel's row k0;
// panel_stride: floats from one panel to the next), rows [0, kc), into one micro-panel of `width`
// columns, step-major; missing columns are zero.
void pack_from_panels(const float* src, size_t panel_stride, size_t cols, size_t kc, size_t width, float* panel) {
  for (size_t p = 0; p < kc; ++p) {
    float* out = panel + p * width;
    for (size_t q = 0; q < width; q += kPanelCols) {
      const size_t take = q < cols ? std::min(kPanelCols, cols - q) : 0;
      const float* in = src + (q / kPanelCols) * panel_stride + p * kPanelCols;
      std::copy(in, in + take, out + q);
      std::fill(out + q + take, out + q + kPanelCols, 0.f);
    }
  }
}

}  // namespace

size_t gemm_depth_slice(size_t k) {
  const size_t slices = k <= kMaxDepth ? 1 : (k + kDepthSlice - 1) / kDepthSlice;
  return (k + slices - 1) / slices;
}

void AlignedFloats::Free::operator()(float* p) const { platform::aligned_free(p); }

float* AlignedFloats::get(size_t n) {
  if (n > size_) {
    // Large buffers (a layer's packed weights) on huge pages: streamed whole, they would miss the TLB
    // every 4 KiB.
    constexpr size_t kHuge = size_t{4} << 20, kHugeAlign = size_t{2} << 20;
    const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    ptr_.reset(static_cast<float*>(platform::aligned_alloc(bytes >= kHuge ? kHugeAlign : 64, bytes)));
    if (!ptr_) throw std::bad_alloc();
    if (bytes >= kHuge) platform::advise_huge_pages(ptr_.get(), bytes);
    size_ = n;
  }
  return ptr_.get();
}

PackedA::PackedA(const float* a, size_t m, size_t k, const ParallelFor& parallel) : m_(m), k_(k) {
  const Kernel kern = kernel_for(simd::active_path());
  mr_ = kern.mr;
  nr_ = kern.nr;
  micro_ = kern.run;
  kc_max_ = gemm_depth_slice(k);
  slices_ = k == 0 ? 1 : (k + kc_max_ - 1) / kc_max_;
  panels_ = (m + mr_ - 1) / mr_;
  if (m == 0 || k == 0) return;
  // Slice s holds panels × (kc × mr) floats, from offset panels · mr · s · kc_max.
  float* ap = data_.get(panels_ * mr_ * k);
  parallel(panels_, [&](size_t i) {
    const size_t rows = std::min(mr_, m - i * mr_);
    for (size_t s = 0; s < slices_; ++s) {
      const size_t k0 = s * kc_max_, kc = std::min(kc_max_, k - k0);
      pack_panel(a + i * mr_ * k + k0, k, rows, kc, mr_, ap + panels_ * mr_ * k0 + i * mr_ * kc);
    }
  });
}

void gemm_abt_block(const PackedA& a, size_t i_begin, size_t i_end, const float* b, size_t n, float* c, size_t ldc) {
  gemm_block(a, i_begin, i_end, b, false, n, c, ldc);
}

void gemm_block(const PackedA& a, size_t i_begin, size_t i_end, const float* b, bool b_panels, size_t n, float* c, size_t ldc) {
  const size_t m = a.m_, k = a.k_, mr = a.mr_, nr = a.nr_, panels = a.panels_, kc_max = a.kc_max_;
  if (i_begin >= i_end || n == 0) return;
  if (k == 0) {
    for (size_t i = i_begin; i < i_end; ++i) std::fill(c + (i - i_begin) * ldc, c + (i - i_begin) * ldc + n, 0.f);
    return;
  }
  const MicroKernel run = a.micro_;
  const size_t mc = 8 * mr;
  thread_local AlignedFloats packed_b;
  float* bp = packed_b.get(std::min(n, kNc) / nr * nr * kc_max + nr * kc_max);
  alignas(64) float edge[kMaxTile];
  for (size_t j0 = 0; j0 < n; j0 += kNc) {
    const size_t ncols = std::min(kNc, n - j0);
    for (size_t s = 0; s < a.slices_; ++s) {
      const size_t k0 = s * kc_max, kc = std::min(kc_max, k - k0);
      for (size_t jr = 0; jr < ncols; jr += nr) {
        if (b_panels) {
          pack_from_panels(b + (j0 + jr) * k + k0 * kPanelCols, k * kPanelCols, std::min(nr, ncols - jr), kc, nr, bp + jr * kc);
        } else {
          pack_panel(b + (j0 + jr) * k + k0, k, std::min(nr, ncols - jr), kc, nr, bp + jr * kc);
        }
      }
      const float* aslice = a.data_.get() + panels * mr * k0;
      for (size_t ic = i_begin; ic < i_end; ic += mc) {
        const size_t ie = std::min(i_end, ic + mc);
        for (size_t jr = 0; jr < ncols; jr += nr) {
          const size_t cols = std::min(nr, ncols - jr);
          for (size_t i = ic; i < ie; i += mr) {
            const size_t rows = std::min(mr, std::min(m, i_end) - i);
            float* ct = c + (i - i_begin) * ldc + j0 + jr;
            const float* apanel = aslice + (i / mr) * mr * kc;
            if (rows == mr && cols == nr) {
              run(kc, apanel, bp + jr * kc, ct, ldc, s > 0);
              continue;
            }
            run(kc, apanel, bp + jr * kc, edge, nr, false);  // a partial tile goes through `edge`
            for (size_t r = 0; r < rows; ++r) {
              for (size_t j = 0; j < cols; ++j) ct[r * ldc + j] = (s > 0 ? ct[r * ldc + j] : 0.f) + edge[r * nr + j];
            }
          }
        }
      }
    }
  }
}

namespace {

void gemm(const float* a, size_t m, const float* b, size_t n, size_t k, bool b_panels, float* c, const ParallelFor& parallel) {
  if (m == 0 || n == 0) return;
  const PackedA packed(a, m, k, parallel);
  // Tasks: column blocks of B (each packed by its task), times row parts of C. (The thread count is the
  // shared pool's, one per hardware thread, also when `parallel` runs on ONNX Runtime's intra-op pool.)
  const size_t threads = ThreadPool::shared().size();
  const size_t mr = packed.panel_rows(), nr = packed.panel_cols(), panels = (m + mr - 1) / mr;
  const size_t nc = std::max(nr, std::min(kNc, (n / threads + nr - 1) / nr * nr));
  const size_t blocks = (n + nc - 1) / nc;
  // Row parts so the tasks spread evenly: a multiple of the thread count (3 blocks on 2 threads would
  // leave one thread idle for a third of the time), unless there are so many blocks that the last
  // round hardly matters. Each part packs its own copy of its B block.
  size_t parts = 1;
  if (blocks < 8 * threads) parts = std::max((threads + blocks - 1) / blocks, threads / std::gcd(blocks, threads));
  parts = std::max<size_t>(1, std::min(panels, parts));
  parallel(blocks * parts, [&](size_t t) {
    const size_t j0 = (t / parts) * nc, part = t % parts;
    const size_t i_begin = panels * part / parts * mr, i_end = std::min(m, panels * (part + 1) / parts * mr);
    // Column j0 starts row j0 of B (n × k) or, in panels, panel j0 / 16: both at b + j0 · k.
    gemm_block(packed, i_begin, i_end, b + j0 * k, b_panels, std::min(nc, n - j0), c + i_begin * n + j0, n);
  });
}

}  // namespace

void gemm_abt(const float* a, size_t m, const float* b, size_t n, size_t k, float* c, const ParallelFor& parallel) {
  gemm(a, m, b, n, k, false, c, parallel);
}

void gemm_ab_panels(const float* a, size_t m, const float* b, size_t n, size_t k, float* c, const ParallelFor& parallel) {
  gemm(a, m, b, n, k, true, c, parallel);
}

}  // namespace embedrt
