#include "linear_lowp.h"

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

#include "cpu_features.h"
#include "lowp_kernels.h"
#include "simd.h"

namespace embedrt {

using namespace lowp;

namespace {

constexpr size_t kTilesPerBlock = 8;   // a task's rows (their packed x stays in L2 while its strips pass)
constexpr size_t kStripsPerBlock = 4;  // a task's columns, at most

std::atomic<int> forced[2] = {-1, -1};

}  // namespace

bool lowp_kernel_supported(LowPrecision format, LowpKernel kernel) {
  const bool int8 = format == LowPrecision::Int8;
  switch (kernel) {
    case LowpKernel::Portable: return true;
#if defined(__x86_64__)
    case LowpKernel::Avx512:
    case LowpKernel::Avx512Dot: {
      const X86Features& f = x86_features();
      if (!simd::path_supported(simd::Path::Avx512) || !f.avx512bw) return false;
      if (kernel == LowpKernel::Avx512) return !int8;
      return int8 ? f.avx512vnni : f.avx512bf16;
    }
    case LowpKernel::Avx2: return simd::path_supported(simd::Path::Avx2);
    case LowpKernel::AvxVnni: {
      const X86Features& f = x86_features();
      return int8 && simd::path_supported(simd::Path::Avx2) && (f.avxvnni || (f.avx512vnni && f.avx512vl));
    }
#endif
#if defined(__aarch64__)
    case LowpKernel::Neon: return true;
    case LowpKernel::NeonDot: return int8 && arm_features().dotprod;
#endif
    default: return false;
  }
}

// The best kernel the active SIMD path allows (a path forced lower, as tests do, takes the lower kernels).
LowpKernel lowp_kernel(LowPrecision format) {
  const int f = forced[static_cast<int>(format)].load(std::memory_order_relaxed);
  if (f >= 0) return static_cast<LowpKernel>(f);
  struct Choice {
    LowpKernel kernel;
    simd::Path path;  // the SIMD path it belongs to
  };
  static constexpr Choice kBestFirst[] = {{LowpKernel::Avx512Dot, simd::Path::Avx512}, {LowpKernel::Avx512, simd::Path::Avx512},
                                          {LowpKernel::AvxVnni, simd::Path::Avx2},      {LowpKernel::Avx2, simd::Path::Avx2},
                                          {LowpKernel::NeonDot, simd::Path::Neon},      {LowpKernel::Neon, simd::Path::Neon}};
  const simd::Path active = simd::active_path();
  for (const Choice& c : kBestFirst) {
    const bool allowed = c.path == active || (active == simd::Path::Avx512 && c.path == simd::Path::Avx2);
    if (allowed && lowp_kernel_supported(format, c.kernel)) return c.kernel;
  }
  return LowpKernel::Portable;
}

bool force_lowp_kernel(LowPrecision format, LowpKernel kernel) {
  if (!lowp_kernel_supported(format, kernel)) return false;
  forced[static_cast<int>(format)].store(static_cast<int>(kernel), std::memory_order_relaxed);
  return true;
}

void reset_lowp_kernels() {
  for (auto& f : forced) f.store(-1, std::memory_order_relaxed);
}

LowpLinear::LowpLinear(LowPrecision format, const LinearRows* blocks, size_t count, size_t k) : format_(format), k_(k) {
  const bool int8 = format == LowPrecision::Int8;
  if (int8 && k > kMaxInt8Depth) {
    throw std::invalid_argument("an int8 linear layer's depth must be at most " + std::to_string(kMaxInt8Depth) + ", got " + std::to_string(k));
  }
  std::vector<const float*> rows;
  for (size_t b = 0; b < count; ++b) {
    for (size_t r = 0; r < blocks[b].rows; ++r) rows.push_back(blocks[b].data + r * k);
  }
  n_ = rows.size();
  groups_ = int8 ? (k + 3) / 4 : (k + 1) / 2;
  strips_ = (n_ + kStrip - 1) / kStrip;
  const size_t panel = groups_ * kCols, columns = strips_ * kStrip;
  uint32_t* w = reinterpret_cast<uint32_t*>(w_.get(std::max<size_t>(1, columns * groups_)));
  blocks_ = int8 ? std::max<size_t>(1, (groups_ + kBlockGroups - 1) / kBlockGroups) : 1;
  if (int8) {
    wscale_.assign(columns, 0.f);
    colsum_.assign(blocks_ * columns, 0);
  }
  const PackRow pack = kernels_for(format, lowp_kernel(format)).pack;  // every kernel's packer gives the same bits
  for (size_t j = 0; j < columns; ++j) {
    uint32_t* col = w + (j / kCols) * panel + j % kCols;  // group g of column j at col[g · 16]
    if (j >= n_) {
      for (size_t g = 0; g < groups_; ++g) col[g * kCols] = 0;
      continue;
    }
    // A column packs as a row of x would (int8: q + 128), so the same code rounds both.
    // (int8: one block, the whole column.)
    float unused_scale = 0;
    pack(rows[j], k, groups_, groups_, col, kCols, 0, int8 ? &wscale_[j] : &unused_scale);
    if (!int8) continue;
    for (size_t g = 0; g < groups_; ++g) {
      uint32_t word = col[g * kCols] ^ 0x80808080u;  // q + 128 → q as int8 bytes
      col[g * kCols] = word;
      for (int e = 0; e < 4; ++e) colsum_[g / kBlockGroups * columns + j] += static_cast<int8_t>(static_cast<uint8_t>(word >> (8 * e)));
    }
  }
}

void LowpLinear::forward(const float* x, size_t m, const float* bias, float* y, const ParallelFor& parallel) const {
  if (m == 0 || n_ == 0) return;
  if (k_ == 0) {
    for (size_t i = 0; i < m; ++i) std::copy(bias, bias + n_, y + i * n_);
    return;
  }
  const Kernels kern = kernels_for(format_, lowp_kernel(format_));
  const size_t tiles = (m + kern.rows - 1) / kern.rows;
  std::vector<size_t> first(tiles + 1);
  for (size_t i = 0; i <= tiles; ++i) first[i] = m * i / tiles;  // near-equal tiles
  thread_local AlignedFloats packed;
  thread_local std::vector<float> scales;
  uint32_t* a = reinterpret_cast<uint32_t*>(packed.get(std::max<size_t>(1, m * groups_)));
  scales.resize(m * blocks_);
  float* xs = scales.data();
  parallel(tiles, [&](size_t i) {
    const size_t r0 = first[i], rows = first[i + 1] - r0;
    for (size_t r = 0; r < rows; ++r) kern.pack(x + (r0 + r) * k_, k_, groups_, kBlockGroups, a + r0 * groups_, rows, r, xs + (r0 + r) * blocks_);
  });
  // Tasks: blocks of up to 8 tiles × up to 4 strips, at least ~4 per thread where the product allows.
  const size_t row_blocks = (tiles + kTilesPerBlock - 1) / kTilesPerBlock;
  const size_t per_block = std::clamp<size_t>(strips_ * row_blocks / (4 * ThreadPool::shared().size()), 1, kStripsPerBlock);
  const size_t col_blocks = (strips_ + per_block - 1) / per_block;
  const uint32_t* w = reinterpret_cast<const uint32_t*>(w_.get());
  const size_t panel = groups_ * kCols;
  const bool int8 = format_ == LowPrecision::Int8;
  parallel(row_blocks * col_blocks, [&](size_t task) {
    const size_t cb = task / row_blocks, rb = task % row_blocks;  // a thread's run of tasks shares strips
    for (size_t s = cb * per_block; s < std::min(strips_, (cb + 1) * per_block); ++s) {
      const size_t j = s * kStrip, cols = std::min(kStrip, n_ - j);
      float bias_pad[kStrip] = {}, tail[kTileRows * kStrip];
      if (cols < kStrip) std::copy(bias + j, bias + n_, bias_pad);
      for (size_t i = rb * kTilesPerBlock; i < std::min(tiles, (rb + 1) * kTilesPerBlock); ++i) {
        const size_t r0 = first[i], rows = first[i + 1] - r0;
        const bool full = cols == kStrip;  // a partial strip goes through `tail`, its columns copied out
        const Tile t{a + r0 * groups_,         w + s * 2 * panel,
                     groups_,                  panel,
                     xs + r0 * blocks_,        blocks_,
                     int8 ? colsum_.data() + j : nullptr,  strips_ * kStrip,
                     int8 ? wscale_.data() + j : nullptr,
                     full ? bias + j : bias_pad, full ? y + r0 * n_ + j : tail,
                     full ? n_ : kStrip,
                     // The first tile streams this strip; it prefetches the next one.
                     i == rb * kTilesPerBlock && s + 1 < strips_ ? w + (s + 1) * 2 * panel : nullptr};
        kern.micro[rows](t);
        if (!full) {
          for (size_t r = 0; r < rows; ++r) std::copy(tail + r * kStrip, tail + r * kStrip + cols, y + (r0 + r) * n_ + j);
        }
      }
    }
  });
}

}  // namespace embedrt
