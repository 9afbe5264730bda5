// embedrt's ONNX Runtime custom op domain "com.embedrt" (added to every embedrt session):
//
//   Linear(X: float[..., K], W: float[ceil(N / 16), K, 16], B: float[N]) -> Y: float[..., N]
//   Y = X · W + B, W the K × N weights in panels of 16 columns (the last zero-padded)
//
// The encoder's projections, computed by linear_forward (linear.h) on ONNX Runtime's intra-op threads.
// Graphs embedrt builds for the CPU use it in place of MatMul + Add (lib/onnx/bert.ts).
#pragma once

#include "ort_api.h"

namespace embedrt {

constexpr const char* kOpDomain = "com.embedrt";

// The domain, created on first use and kept for the life of the process (sessions refer to it).
Ort::CustomOpDomain& embedrt_op_domain();

}  // namespace embedrt
