#include "search.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "gemm.h"
#include "pooling.h"
#include "simd.h"
#include "thread_pool.h"

namespace embedrt {

namespace {

// The rows a score function compares: cosine works on unit-normalized copies (as util.cos_sim),
// dot and euclidean on the rows as given.
struct ScoredRows {
  std::vector<float> copy;
  const float* data;
  ScoredRows(const MatrixView& m, Score score) : data(m.data) {
    if (score != Score::Cosine) return;
    copy.assign(m.data, m.data + m.rows * m.dim);
    for (size_t r = 0; r < m.rows; ++r) l2_normalize(copy.data() + r * m.dim, m.dim);
    data = copy.data();
  }
  ScoredRows(const ScoredRows&) = delete;  // data may point into copy
  ScoredRows& operator=(const ScoredRows&) = delete;
};

// Worse-first order for the bounded heap: lower score, or equal score and higher id.
struct Worse {
  bool operator()(const Hit& a, const Hit& b) const { return a.score > b.score || (a.score == b.score && a.id < b.id); }
};

void push_hit(std::vector<Hit>& heap, size_t k, Hit h) {
  const Worse worse;
  if (heap.size() < k) {
    heap.push_back(h);
    std::push_heap(heap.begin(), heap.end(), worse);
  } else if (worse(h, heap.front())) {
    std::pop_heap(heap.begin(), heap.end(), worse);
    heap.back() = h;
    std::push_heap(heap.begin(), heap.end(), worse);
  }
}

void finish(std::vector<Hit>& heap) {
  std::sort(heap.begin(), heap.end(), [](const Hit& a, const Hit& b) { return a.score > b.score || (a.score == b.score && a.id < b.id); });
}

constexpr size_t kGemmMinRows = 24;
constexpr size_t kCorpusBlock = 256;  // corpus rows per block: ~768 KiB of 768-d vectors stays in L2

// Scores of queries [q0, q0 + nq) against corpus rows [c0, c1), fed to sink(query, corpus, score).
template <typename Sink>
void score_block(const float* q, size_t nq, const float* c, size_t c0, size_t c1, size_t dim, Score s, Sink&& sink) {
  const simd::Kernels& k = simd::kernels();
  if (s == Score::Euclidean) {
    for (size_t j = c0; j < c1; ++j) {
      for (size_t i = 0; i < nq; ++i) sink(i, j, -std::sqrt(k.sq_l2(q + i * dim, c + j * dim, dim)));
    }
    return;
  }
  size_t i = 0;
  for (; i + 4 <= nq; i += 4) {
    for (size_t j = c0; j < c1; ++j) {
      float out[4];
      k.dot4(q + i * dim, dim, c + j * dim, dim, out);
      for (size_t r = 0; r < 4; ++r) sink(i + r, j, out[r]);
    }
  }
  for (; i < nq; ++i) {
    for (size_t j = c0; j < c1; ++j) sink(i, j, k.dot(q + i * dim, c + j * dim, dim));
  }
}


}  // namespace

void similarity_matrix(const MatrixView& a, const MatrixView& b, Score score, float* out) {
  const ScoredRows as(a, score), bs(b, score);
  const float* ad = as.data;
  const float* bd = bs.data;
  // Few rows of A: packing B for the GEMM would cost more than it saves (measured: 100k × 768, dot,
  // the row kernels win up to ~24 rows, the GEMM from ~32).
  if (score != Score::Euclidean && a.rows >= kGemmMinRows) {
    gemm_abt(ad, a.rows, bd, b.rows, a.dim, out);
    return;
  }
  const size_t qblock = 16;
  const size_t qblocks = (a.rows + qblock - 1) / qblock;
  const size_t cblocks = (b.rows + kCorpusBlock - 1) / kCorpusBlock;
  ThreadPool::shared().parallel_for(qblocks * cblocks, [&](size_t t) {
    const size_t qi = (t % qblocks) * qblock, ci = (t / qblocks) * kCorpusBlock;
    const size_t nq = std::min(qblock, a.rows - qi);
    score_block(ad + qi * a.dim, nq, bd, ci, std::min(b.rows, ci + kCorpusBlock), a.dim, score,
                [&](size_t i, size_t j, float v) { out[(qi + i) * b.rows + j] = v; });
  });
}

std::vector<std::vector<Hit>> top_k_search(const MatrixView& queries, const MatrixView& corpus, size_t top_k, Score score,
                                           bool* non_finite) {
  const ScoredRows qs(queries, score), cs(corpus, score);
  const float* qd = qs.data;
  const float* cd = cs.data;
  const size_t k = std::min(top_k, corpus.rows);
  // Split the corpus over the pool; each part keeps a heap per query; merge at the end.
  const size_t parts = std::max<size_t>(1, std::min(ThreadPool::shared().size(), (corpus.rows + kCorpusBlock - 1) / kCorpusBlock));
  std::vector<std::vector<std::vector<Hit>>> partial(parts, std::vector<std::vector<Hit>>(queries.rows));
  std::vector<uint8_t> odd(parts, 0);  // per part: a NaN or infinite score was seen
  // Many queries: the scores of each corpus block come from the GEMM (queries packed once), then go
  // through the heaps; few queries: the row kernels, with no packing.
  std::unique_ptr<PackedA> packed;
  if (score != Score::Euclidean && queries.rows >= kGemmMinRows) packed = std::make_unique<PackedA>(qd, queries.rows, queries.dim);
  ThreadPool::shared().parallel_for(parts, [&](size_t p) {
    const size_t c0 = corpus.rows * p / parts, c1 = corpus.rows * (p + 1) / parts;
    auto& heaps = partial[p];
    bool seen = false;
    auto take = [&](size_t query, size_t row, float v) {
      seen |= !std::isfinite(v);
      push_hit(heaps[query], k, Hit{v, static_cast<uint32_t>(row)});
    };
    if (packed) {
      // Queries in chunks of at most ~1,024 rows (a whole number of panels): the score tile stays ≤ 1 MiB.
      const size_t chunk = std::max<size_t>(1, 1024 / packed->panel_rows()) * packed->panel_rows();
      std::vector<float> tile(std::min(chunk, queries.rows) * kCorpusBlock);
      for (size_t cb = c0; cb < c1; cb += kCorpusBlock) {
        const size_t nb = std::min(c1, cb + kCorpusBlock) - cb;
        for (size_t q0 = 0; q0 < queries.rows; q0 += chunk) {
          const size_t q1 = std::min(queries.rows, q0 + chunk);
          gemm_abt_block(*packed, q0, q1, cd + cb * corpus.dim, nb, tile.data(), kCorpusBlock);
          for (size_t i = q0; i < q1; ++i) {
            const float* row = tile.data() + (i - q0) * kCorpusBlock;
            for (size_t j = 0; j < nb; ++j) take(i, cb + j, row[j]);
          }
        }
      }
      odd[p] = seen;
      return;
    }
    const size_t qblock = 16;
    for (size_t cb = c0; cb < c1; cb += kCorpusBlock) {
      const size_t ce = std::min(c1, cb + kCorpusBlock);
      for (size_t qi = 0; qi < queries.rows; qi += qblock) {
        const size_t nq = std::min(qblock, queries.rows - qi);
        score_block(qd + qi * queries.dim, nq, cd, cb, ce, queries.dim, score, [&](size_t i, size_t j, float v) { take(qi + i, j, v); });
      }
    }
    odd[p] = seen;
  });
  if (non_finite) *non_finite = std::find(odd.begin(), odd.end(), 1) != odd.end();
  std::vector<std::vector<Hit>> result(queries.rows);
  for (size_t q = 0; q < queries.rows; ++q) {
    for (auto& part : partial) {
      for (const Hit& h : part[q]) push_hit(result[q], k, h);
    }
    finish(result[q]);
  }
  return result;
}

namespace {

template <typename ScoreFn>
std::vector<std::vector<Hit>> top_k_generic(size_t nq, size_t nc, size_t top_k, ScoreFn&& score) {
  const size_t k = std::min(top_k, nc);
  std::vector<std::vector<Hit>> result(nq);
  ThreadPool::shared().parallel_for(nq, [&](size_t q) {
    for (size_t j = 0; j < nc; ++j) push_hit(result[q], k, Hit{score(q, j), static_cast<uint32_t>(j)});
    finish(result[q]);
  });
  return result;
}

}  // namespace

std::vector<std::vector<Hit>> top_k_int8(const int8_t* q, size_t nq, const int8_t* c, size_t nc, size_t dim, size_t top_k) {
  const simd::Kernels& k = simd::kernels();
  return top_k_generic(nq, nc, top_k, [&](size_t i, size_t j) { return static_cast<float>(k.dot_i8(q + i * dim, c + j * dim, dim)); });
}

std::vector<std::vector<Hit>> top_k_binary(const uint8_t* q, size_t nq, const uint8_t* c, size_t nc, size_t bytes, size_t top_k) {
  const simd::Kernels& k = simd::kernels();
  return top_k_generic(nq, nc, top_k, [&](size_t i, size_t j) { return -static_cast<float>(k.hamming(q + i * bytes, c + j * bytes, bytes)); });
}

std::vector<std::vector<Hit>> rescore(const MatrixView& queries, const MatrixView& corpus, const std::vector<std::vector<Hit>>& candidates,
                                      size_t top_k, Score score) {
  const simd::Kernels& k = simd::kernels();
  const size_t dim = queries.dim;
  std::vector<std::vector<Hit>> result(candidates.size());
  ThreadPool::shared().parallel_for(candidates.size(), [&](size_t q) {
    std::vector<float> qrow(queries.data + q * dim, queries.data + (q + 1) * dim), crow(dim);
    if (score == Score::Cosine) l2_normalize(qrow.data(), dim);
    for (const Hit& h : candidates[q]) {
      const float* c = corpus.data + size_t{h.id} * dim;
      float v;
      if (score == Score::Euclidean) {
        v = -std::sqrt(k.sq_l2(qrow.data(), c, dim));
      } else if (score == Score::Dot) {
        v = k.dot(qrow.data(), c, dim);
      } else {
        std::copy(c, c + dim, crow.begin());
        l2_normalize(crow.data(), dim);
        v = k.dot(qrow.data(), crow.data(), dim);
      }
      push_hit(result[q], top_k, Hit{v, h.id});
    }
    finish(result[q]);
  });
  return result;
}

size_t first_non_finite(const float* p, size_t n) {
  // Chunks scanned with a branch-free max of the exponent bits (it vectorizes); a chunk that holds an
  // all-ones exponent is searched again for the exact index.
  constexpr size_t kChunk = size_t{1} << 16;
  constexpr uint32_t kExp = 0x7f800000u;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<uint8_t> bad(chunks, 0);
  ThreadPool::shared().parallel_for(chunks, [&](size_t c) {
    const size_t end = std::min(n, (c + 1) * kChunk);
    uint32_t top = 0;
    for (size_t i = c * kChunk; i < end; ++i) {
      uint32_t u;
      std::memcpy(&u, p + i, sizeof u);
      top = std::max(top, u & kExp);
    }
    bad[c] = top == kExp;
  });
  for (size_t c = 0; c < chunks; ++c) {
    if (!bad[c]) continue;
    for (size_t i = c * kChunk; i < n; ++i) {
      if (!std::isfinite(p[i])) return i;
    }
  }
  return n;
}

void column_ranges(const MatrixView& m, float* out) {
  if (m.rows == 0) {
    std::fill(out, out + 2 * m.dim, 0.f);
    return;
  }
  // Rows split over the pool, each part with its own min/max rows, merged at the end.
  const size_t parts = std::max<size_t>(1, std::min(ThreadPool::shared().size(), m.rows / 64));
  std::vector<float> part(parts * 2 * m.dim);
  ThreadPool::shared().parallel_for(parts, [&](size_t t) {
    float* lo = part.data() + t * 2 * m.dim;
    float* hi = lo + m.dim;
    const size_t r0 = m.rows * t / parts, r1 = m.rows * (t + 1) / parts;
    std::copy(m.data + r0 * m.dim, m.data + (r0 + 1) * m.dim, lo);
    std::copy(m.data + r0 * m.dim, m.data + (r0 + 1) * m.dim, hi);
    for (size_t r = r0 + 1; r < r1; ++r) {
      const float* row = m.data + r * m.dim;
      for (size_t d = 0; d < m.dim; ++d) {
        lo[d] = std::min(lo[d], row[d]);
        hi[d] = std::max(hi[d], row[d]);
      }
    }
  });
  std::copy(part.begin(), part.begin() + 2 * m.dim, out);
  for (size_t t = 1; t < parts; ++t) {
    for (size_t d = 0; d < m.dim; ++d) {
      out[d] = std::min(out[d], part[t * 2 * m.dim + d]);
      out[m.dim + d] = std::max(out[m.dim + d], part[t * 2 * m.dim + m.dim + d]);
    }
  }
}

void quantize(const MatrixView& emb, Precision p, const float* ranges, uint8_t* out) {
  const size_t dim = emb.dim;
  if (p == Precision::Int8 || p == Precision::Uint8) {
    std::vector<float> steps(dim);
    for (size_t d = 0; d < dim; ++d) steps[d] = (ranges[dim + d] - ranges[d]) / 255.0f;
    ThreadPool::shared().parallel_for(emb.rows, [&](size_t r) {
      for (size_t d = 0; d < dim; ++d) {
        // numpy: float32 arithmetic, then its cast: truncation toward zero, the low 8 bits kept
        // (values outside the ranges wrap around; NaN and huge values become 0).
        float v = (emb.data[r * dim + d] - ranges[d]) / steps[d];
        if (p == Precision::Int8) v -= 128.0f;
        int64_t t = 0;
        if (std::isfinite(v) && std::fabs(v) < 2147483648.0f) t = static_cast<int64_t>(v);
        out[r * dim + d] = static_cast<uint8_t>(static_cast<uint64_t>(t) & 0xFFu);
      }
    });
    return;
  }
  // np.packbits(x > 0, axis=-1): most significant bit first; a last byte that is not full is padded
  // with zero bits.
  const size_t bytes = (dim + 7) / 8;
  ThreadPool::shared().parallel_for(emb.rows, [&](size_t r) {
    for (size_t b = 0; b < bytes; ++b) {
      unsigned v = 0;
      for (size_t bit = 0; bit < 8; ++bit) {
        const size_t d = b * 8 + bit;
        v = (v << 1) | (d < dim && emb.data[r * dim + d] > 0.0f ? 1u : 0u);
      }
      out[r * bytes + b] = static_cast<uint8_t>(p == Precision::Binary ? (v - 128u) & 0xFFu : v);
    }
  });
}

}  // namespace embedrt
