// embedrt's low-precision linear kernels (internal to linear_lowp.cc): the
// micro-kernels that compute a tile of x's rows × 32 columns of W from their packed forms, and the
// packers that write x's rows (and W's columns) in those forms. linear_lowp.h describes the arithmetic.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm.h"
#include "linear_lowp.h"

namespace embedrt::lowp {

constexpr size_t kCols = kPanelCols;   // columns per panel
constexpr size_t kStrip = 2 * kCols;   // columns per micro-kernel call
constexpr size_t kTileRows = 12;       // the most rows per tile (bf16 on AVX-512: 12 × 2 panels = 24 zmm)
constexpr size_t kBlockGroups = kInt8Block / 4;  // int8: groups per block of a row of x (one scale each)

// One micro-kernel call: a tile of R rows (x packed group-major: a[g · R + r]) × one strip (its panels at
// b and b + panel), over all `groups`, then the epilogue into y (R rows of 32 columns, stride ldy).
struct Tile {
  const uint32_t* a;
  const uint32_t* b;
  size_t groups, panel;
  const float* xscale;    // int8: the tile's rows' block scales, xscale[r · blocks + b]
  size_t blocks;          // int8: blocks per row
  const int32_t* colsum;  // int8: the strip's columns' Σ q per block, colsum[b · cstride + j]
  size_t cstride;
  const float* wscale;    // int8: the strip's columns' scales
  const float* bias;      // the strip's 32
  float* y;
  size_t ldy;
  const uint32_t* next;   // the next strip's first panel, to prefetch into L2 (or null)
};
using Micro = void (*)(const Tile&);

// Packs row r of a tile of R rows from x (k floats). int8: in blocks of `block` groups (a multiple of 4,
// or all of them), each scaled by its own max |x| / 127, written to scales[b]; bfloat16: rounded.
using PackRow = void (*)(const float* x, size_t k, size_t groups, size_t block, uint32_t* a, size_t R, size_t r, float* scales);

// A format's kernels on one path: micro[R] for tiles of R rows (1 ≤ R ≤ rows, the most its registers
// hold).
struct Kernels {
  const Micro* micro;
  PackRow pack;
  size_t rows;
};
Kernels kernels_for(LowPrecision format, LowpKernel kernel);

}  // namespace embedrt::lowp
