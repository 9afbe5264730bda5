// C = A · Bᵀ for float32 row-major matrices: embedrt's own packed, cache-blocked GEMM (the BLIS
// scheme). A is packed once into MR-row panels; each task packs an NC-column block of B into NR-column
// micro-panels (kept in L1/L2 while every A panel streams past) and a register-blocked micro-kernel
// computes MR × NR tiles. Micro-kernels: AVX-512 12 × 32, AVX2+FMA 6 × 16, and a portable 4 × 16 (what
// the compiler vectorizes; it is the NEON and scalar path). The path follows simd::active_path(), so
// tests run every one this CPU has. Work is spread over ThreadPool::shared().
#pragma once

#include <cstddef>
#include <memory>

#include "thread_pool.h"

namespace embedrt {

// A is m × k, B is n × k, C is m × n (all row-major, densely packed).
void gemm_abt(const float* a, size_t m, const float* b, size_t n, size_t k, float* c,
              const ParallelFor& parallel = ThreadPool::shared_for());

// The depth of one slice of K: K itself up to 1,024, else near-equal slices ≤ 768. C = Σ over slices, in
// order ((s₀ + s₁) + s₂) …, each slice a sequence of FMAs from zero (what linear.h's streaming kernels
// repeat, so both give bit-identical results).
size_t gemm_depth_slice(size_t k);

// Columns per panel of a matrix stored in panels (kPanelCols below).
constexpr size_t kPanelCols = 16;

// C = A · B for a k × n matrix B stored as panels of kPanelCols columns, each k × kPanelCols row-major
// (B[p][j] at b[(j / 16) · k · 16 + p · 16 + j % 16]; the last panel zero-padded): a linear layer's
// weights as embedrt's graphs store them (linear.h). C is m × n.
void gemm_ab_panels(const float* a, size_t m, const float* b, size_t n, size_t k, float* c,
                    const ParallelFor& parallel = ThreadPool::shared_for());

// 64-byte aligned float storage that grows on demand (on huge pages from 4 MiB, where the system has them).
class AlignedFloats {
 public:
  float* get(size_t n);
  float* get() const { return ptr_.get(); }

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float, Free> ptr_;
  size_t size_ = 0;
};

// A (m × k) packed once, on the pool, into the panels of the active path's micro-kernel, for products
// with many blocks of B (top-k search streams the corpus through it).
class PackedA {
 public:
  PackedA(const float* a, size_t m, size_t k, const ParallelFor& parallel = ThreadPool::shared_for());
  size_t panel_rows() const { return mr_; }  // row ranges given to gemm_abt_block start at multiples of this
  size_t panel_cols() const { return nr_; }

 private:
  friend void gemm_block(const PackedA&, size_t, size_t, const float*, bool, size_t, float*, size_t);
  size_t m_, k_, mr_ = 1, nr_ = 1, slices_ = 1, kc_max_ = 0, panels_ = 0;
  void (*micro_)(size_t, const float*, const float*, float*, size_t, bool) = nullptr;
  AlignedFloats data_;
};

// C = A[i_begin, i_end) · Bᵀ for B n × k, on the calling thread (B is packed in thread-local storage):
// C's row r (stride ldc) is A's row i_begin + r. i_begin must be a multiple of a.panel_rows().
void gemm_abt_block(const PackedA& a, size_t i_begin, size_t i_end, const float* b, size_t n, float* c, size_t ldc);

// gemm_abt_block, or (b_panels) the same for B's columns [j0, j0 + n) in panels (gemm_ab_panels' layout),
// b pointing at the panel of column j0 (a multiple of kPanelCols).
void gemm_block(const PackedA& a, size_t i_begin, size_t i_end, const float* b, bool b_panels, size_t n, float* c, size_t ldc);

}  // namespace embedrt
