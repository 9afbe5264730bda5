// A linear layer, y = x · W + bias, for the encoder's projections (ONNX Runtime runs it as the custom
// op com.embedrt.Linear; ops.h). W (k × n) is stored in panels of 16 columns (gemm_ab_panels'
// layout: each panel k × 16 row-major, the last zero-padded), so a panel is one contiguous stream;
// pack_linear_weights makes that layout from a checkpoint's weights, once, when the op is created.
//
// Few rows (a short text on its own) make the product bound by streaming W from memory: each weight is
// used by m rows only. Then each panel is read once per 24 rows (AVX-512; 6 with AVX2), prefetched ahead,
// one panel per task — up to 256 rows on AVX-512 (96 AVX2, 48 otherwise), where the packed GEMM (gemm.h)
// takes over.
#pragma once

#include <cstddef>

#include "gemm.h"
#include "thread_pool.h"

namespace embedrt {

// y (m × n, row-major) = x (m × k) · w (k × n, in panels: ceil(n / 16) × k × 16 floats) + bias (n).
void linear_forward(const float* x, size_t m, size_t k, const float* w, size_t n, const float* bias, float* y,
                    const ParallelFor& parallel = ThreadPool::shared_for());

// Rows of W in torch.nn.Linear's layout ([out, in], row-major): `rows` outputs of k inputs each.
struct LinearRows {
  const float* data;
  size_t rows;
};

// Floats of W packed for linear_forward: n columns (n = Σ rows of its blocks) of depth k.
size_t linear_packed_floats(size_t n, size_t k);

// Packs W = the blocks' rows one after another (fused projections: one block each), transposed to
// k × n, into linear_forward's panels at `out` (linear_packed_floats(n, k) floats; the padding zeroed).
void pack_linear_weights(const LinearRows* blocks, size_t count, size_t k, float* out);

// Rows up to which linear_forward streams W instead of running the packed GEMM (on the active SIMD path).
size_t linear_streaming_rows();

}  // namespace embedrt
