// C = A · Bᵀ for float32 row-major matrices, through ONNX Runtime's Gemm (its MLAS kernels pack and
// block for the cache the way a BLAS does). The similarity matrix uses it; per-pair and top-k search
// use embedrt's own kernels.
#pragma once

#include <cstddef>

namespace embedrt {

// A is m × k, B is n × k, C is m × n.
void gemm_abt(const float* a, size_t m, const float* b, size_t n, size_t k, float* c);

}  // namespace embedrt
