// embedrt's ONNX Runtime custom op domain "com.embedrt" (added to every embedrt session):
//
//   Linear(X: float[..., K], B: float[N], W_1: float[N_1, K], …, W_n: float[N_n, K]) -> Y: float[..., N]
//   Y = X · Wᵀ + B, W = [W_1; …; W_n] (N = Σ N_i): torch.nn.Linear, with the weights in the checkpoint's
//   [out, in] layout and those of fused projections (query, key, value) given one by one
//
//   LinearInt8(…), LinearBF16(…): the same inputs and output, the weights held and multiplied in 8-bit
//   integers or bfloat16 (linear_lowp.h)
//
//   Attention(QKV: float[B, S, 3H], mask: int64[B, S]; num_heads) -> context: float[B, S, H]
//   multi-head self-attention over the fused query/key/value projection's output, the keys whose mask
//   is 0 skipped (attention.h)
//
// The projections are computed by linear_forward (linear.h) or LowpLinear on ONNX Runtime's intra-op
// threads from weights the kernel packs when ONNX Runtime creates it; the attention by
// attention_forward on the same threads. Graphs embedrt builds for the CPU use them in place of MatMul +
// Add and of the attention's Split … Softmax … Reshape chain (lib/onnx/encoder.ts).
#pragma once

#include "ort_api.h"

namespace embedrt {

constexpr const char* kOpDomain = "com.embedrt";

// The domain, created on first use and kept for the life of the process (sessions refer to it).
Ort::CustomOpDomain& embedrt_op_domain();

}  // namespace embedrt
