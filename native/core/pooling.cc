#include "pooling.h"

#include <algorithm>
#include <cmath>

namespace embedrt {

void pool(const float* hidden, const int64_t* mask, size_t seq, size_t dim, const std::vector<PoolingMode>& modes,
          float* out) {
  size_t real = 0;
  for (size_t t = 0; t < seq; ++t) real += mask[t] != 0;
  for (PoolingMode m : modes) {
    std::vector<double> acc(dim, 0.0);
    switch (m) {
      case PoolingMode::Cls:
        std::copy(hidden, hidden + dim, out);
        break;
      case PoolingMode::Max:
        // Padding positions count as -1e9, as sentence-transformers masks them.
        for (size_t d = 0; d < dim; ++d) {
          float best = -1e9f;
          for (size_t t = 0; t < seq; ++t) best = std::max(best, mask[t] ? hidden[t * dim + d] : -1e9f);
          out[d] = best;
        }
        break;
      case PoolingMode::Mean:
      case PoolingMode::MeanSqrtLen: {
        for (size_t t = 0; t < seq; ++t) {
          if (!mask[t]) continue;
          for (size_t d = 0; d < dim; ++d) acc[d] += hidden[t * dim + d];
        }
        const double n = std::max(static_cast<double>(real), 1e-9);
        const double div = m == PoolingMode::Mean ? n : std::sqrt(n);
        for (size_t d = 0; d < dim; ++d) out[d] = static_cast<float>(acc[d] / div);
        break;
      }
      case PoolingMode::WeightedMean: {
        double wsum = 0;
        for (size_t t = 0; t < seq; ++t) {
          if (!mask[t]) continue;
          const double w = static_cast<double>(t + 1);
          wsum += w;
          for (size_t d = 0; d < dim; ++d) acc[d] += w * hidden[t * dim + d];
        }
        wsum = std::max(wsum, 1e-9);
        for (size_t d = 0; d < dim; ++d) out[d] = static_cast<float>(acc[d] / wsum);
        break;
      }
      case PoolingMode::LastToken: {
        // Right padding: the last real token is at real - 1.
        const size_t last = real > 0 ? real - 1 : 0;
        std::copy(hidden + last * dim, hidden + (last + 1) * dim, out);
        break;
      }
    }
    out += dim;
  }
}

void l2_normalize(float* v, size_t n) {
  double sq = 0;
  for (size_t i = 0; i < n; ++i) sq += static_cast<double>(v[i]) * v[i];
  const double norm = std::max(std::sqrt(sq), 1e-12);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(v[i] / norm);
}

}  // namespace embedrt
