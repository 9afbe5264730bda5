// Linear layers in a low precision (com.embedrt.LinearInt8 and LinearBF16; ops.h): y = x · W + bias
// as in linear.h, with W held in 8-bit integers or bfloat16 (a quarter or half of float32's bytes).
//
//  - Int8: W per output channel, symmetric (w ≈ sᵢ · q, q ∈ [-127, 127], sᵢ = max|Wᵢ| / 127); x at run
//    time the same way per row and block of kInt8Block values (a row's scales are its own, so a row
//    gives the same bits in any batch; blocks keep an outlier channel from coarsening the whole row),
//    held as q + 128 (u8) for VNNI's u8 × s8 dot product, the 128 · Σq of each column and block
//    subtracted after. Each block's products are summed in int32, exactly (k ≤ kMaxInt8Depth), then
//    added to a float32 sum times the block's scale (fused), and y = Σ · s_w + bias (fused). A
//    non-finite value in a block makes its row's every output NaN.
//  - BF16: W and x rounded to bfloat16 (nearest, ties to even), products summed in float32 pair by pair
//    in AVX512-BF16's order (vdpbf16ps: the odd element of a pair, then the even one); a bfloat16 product
//    is exact in float32, so the fallbacks, which add the same products in the same order, give the same
//    bits (subnormal sums aside: vdpbf16ps flushes them to zero).
//
// W is packed when the kernel is created: panels of 16 columns, each a run of 4-byte groups per column
// (4 int8 or 2 bfloat16 consecutive along K); x is packed per call in tiles of ≤ 12 rows, group-major.
// A micro-kernel computes one tile × 32 columns (two panels) over the whole depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gemm.h"
#include "linear.h"
#include "thread_pool.h"

namespace embedrt {

enum class LowPrecision { Int8, BF16 };

// The kernels a format has (every one gives the same bits as Portable):
//  - Portable: plain C++, any CPU.
//  - Avx512: AVX-512F, bfloat16 only (each pair's products by float32 FMAs).
//  - Avx512Dot: AVX-512 with the format's dot-product instruction (VNNI's vpdpbusd; AVX512-BF16's vdpbf16ps).
//  - Avx2: AVX2 + FMA. int8: u8 × s8 pairs by vpmaddubsw on |x| and w · sign(x) (|x| ≤ 127, so the 16-bit
//    pair sums cannot saturate), widened by vpmaddwd; bfloat16: as Avx512, on 8 lanes.
//  - AvxVnni: int8 only, vpdpbusd on YMM registers — AVX-VNNI's VEX encoding, or AVX512-VL's EVEX one
//    on an AVX-512 VNNI CPU without AVX-VNNI (the same instruction and kernel).
//  - Neon: AArch64 Advanced SIMD. int8: s8 × s8 by smull / sadalp; bfloat16: float32 FMAs.
//  - NeonDot: int8 only, ARMv8.2's sdot (FEAT_DotProd).
enum class LowpKernel { Portable = 0, Avx512 = 1, Avx512Dot = 2, Avx2 = 3, AvxVnni = 4, Neon = 5, NeonDot = 6 };
constexpr int kLowpKernels = 7;

// The deepest int8 product: 255 · 127 · K stays below 2³¹.
constexpr size_t kMaxInt8Depth = 65536;
// Values of a row of x per int8 scale.
constexpr size_t kInt8Block = 128;

class LowpLinear {
 public:
  // W = the blocks' rows one after another (as pack_linear_weights takes them), k columns each.
  LowpLinear(LowPrecision format, const LinearRows* blocks, size_t count, size_t k);

  // y (m × n) = x (m × k) · Wᵀ + bias (n), on the kernel lowp_kernel(format()) names.
  void forward(const float* x, size_t m, const float* bias, float* y, const ParallelFor& parallel = ThreadPool::shared_for()) const;

  LowPrecision format() const { return format_; }
  size_t n() const { return n_; }
  size_t k() const { return k_; }

 private:
  LowPrecision format_;
  size_t n_ = 0, k_ = 0, groups_ = 0, strips_ = 0, blocks_ = 1;
  AlignedFloats w_;             // strips_ · 2 panels · groups_ · 16 groups of 4 bytes
  std::vector<float> wscale_;   // int8: per column (zero past n)
  std::vector<int32_t> colsum_;  // int8: Σ q per block of K and column, [block][column]
};

// The kernel `format` runs on: the best this CPU has on the active SIMD path (simd::active_path), unless
// forced. Tests force each in turn.
LowpKernel lowp_kernel(LowPrecision format);
bool lowp_kernel_supported(LowPrecision format, LowpKernel kernel);
// Forces `kernel` for `format` (false when this CPU lacks it); reset_lowp_kernels() undoes every force.
bool force_lowp_kernel(LowPrecision format, LowpKernel kernel);
void reset_lowp_kernels();

// float32 → bfloat16 bits, nearest, ties to even (NaN stays NaN).
uint16_t to_bfloat16(float v);

}  // namespace embedrt
