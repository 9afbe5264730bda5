// sentence-transformers' Pooling module, Normalize module, truncation and normalization, on one row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedrt {

// In the order sentence-transformers concatenates them when several are enabled.
enum class PoolingMode : int { Cls = 0, Max = 1, Mean = 2, MeanSqrtLen = 3, WeightedMean = 4, LastToken = 5 };

// Pools hidden [seq][dim] (rows with mask 0 are padding) into out[modes.size() * dim].
void pool(const float* hidden, const int64_t* mask, size_t seq, size_t dim, const std::vector<PoolingMode>& modes,
          float* out);

// Scales v to unit L2 norm (eps 1e-12, as torch.nn.functional.normalize).
void l2_normalize(float* v, size_t n);

}  // namespace embedrt
