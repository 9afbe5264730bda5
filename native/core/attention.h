// Multi-head self-attention over a fused query/key/value projection's output (the op
// com.embedrt.Attention; ops.h), in place of the ONNX chain Split → Reshape → Transpose ×3 →
// MatMul → Mul → Add(mask) → Softmax → MatMul → Transpose → Reshape:
//
//   context[b, i, h·d + e] = Σ_j softmax_j(q_i · k_j · scale)  v_j[e],  scale = 1 / √d (as float32)
//
// q_i, k_j, v_j: head h's d columns of token i's (j's) query, key and value, the three thirds of
// qkv[b, token] (columns [0, H), [H, 2H), [2H, 3H); H = heads · d). The sum runs over the keys j whose
// mask is non-zero: a masked key's weight is exactly 0, as exp(−FLT_MAX) makes it in the ONNX graph, so
// a text's result does not depend on its padding. A text with no unmasked key attends to every key
// equally (what the ONNX graph's softmax of equal scores gives). Every query row is computed, padding's
// too.
#pragma once

#include <cstddef>
#include <cstdint>

#include "thread_pool.h"

namespace embedrt {

// qkv: batch × seq rows of 3 · heads · head_dim floats; mask: batch × seq; context: batch × seq rows of
// heads · head_dim floats. Tasks: one per text and head.
void attention_forward(const float* qkv, const int64_t* mask, size_t batch, size_t seq, size_t heads, size_t head_dim,
                       float* context, const ParallelFor& parallel = ThreadPool::shared_for());

// 1 / √head_dim in float32 (the graph's constant).
float attention_scale(size_t head_dim);

}  // namespace embedrt
