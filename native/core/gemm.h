// C = A · Bᵀ for float32 row-major matrices: embedrt's own packed, cache-blocked GEMM (the BLIS
// scheme). A is packed once into MR-row panels; each task packs an NC-column block of B into NR-column
// micro-panels (kept in L1/L2 while every A panel streams past) and a register-blocked micro-kernel
// computes MR × NR tiles. Micro-kernels: AVX-512 12 × 32, AVX2+FMA 6 × 16, and a portable 4 × 16 (what
// the compiler vectorizes; it is the NEON and scalar path). The path follows simd::active_path(), so
// tests run every one this CPU has. Work is spread over ThreadPool::shared().
#pragma once

#include <cstddef>

namespace embedrt {

// A is m × k, B is n × k, C is m × n (all row-major, densely packed).
void gemm_abt(const float* a, size_t m, const float* b, size_t n, size_t k, float* c);

}  // namespace embedrt
