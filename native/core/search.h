// Similarity matrices, exact top-k search and embedding quantization, as sentence-transformers' util
// and quantization modules define them, spread over the native pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedrt {

enum class Score : int { Cosine = 0, Dot = 1, Euclidean = 2 };  // euclidean: negative L2 distance

// A row-major float32 matrix view.
struct MatrixView {
  const float* data;
  size_t rows, dim;
};

// out[i * b.rows + j] = score(a_i, b_j). Cosine normalizes both sides first (as util.cos_sim).
void similarity_matrix(const MatrixView& a, const MatrixView& b, Score score, float* out);

struct Hit {
  float score;
  uint32_t id;
};

// For each query, the top_k corpus rows by score, best first; equal scores: the lower corpus id first.
// *non_finite (when given) tells whether any score was NaN or infinite: the caller checks the corpus
// for NaN / ±Infinity only then, instead of reading it twice on every search.
std::vector<std::vector<Hit>> top_k_search(const MatrixView& queries, const MatrixView& corpus, size_t top_k, Score score,
                                           bool* non_finite = nullptr);

// Top-k over int8 (dot) or packed binary (negative Hamming distance) corpora.
std::vector<std::vector<Hit>> top_k_int8(const int8_t* q, size_t nq, const int8_t* c, size_t nc, size_t dim, size_t top_k);
std::vector<std::vector<Hit>> top_k_binary(const uint8_t* q, size_t nq, const uint8_t* c, size_t nc, size_t bytes, size_t top_k);

// Each query's candidates (ids into corpus) scored again on the float rows; the best top_k of them, best
// first. Scores as similarity_matrix gives them (cosine of the normalized rows).
std::vector<std::vector<Hit>> rescore(const MatrixView& queries, const MatrixView& corpus, const std::vector<std::vector<Hit>>& candidates,
                                      size_t top_k, Score score);

enum class Precision : int { Int8 = 0, Uint8 = 1, Binary = 2, Ubinary = 3 };

// Index of the first NaN or ±Infinity among n floats, or n when every one is finite. Spread over the
// pool: inputs are checked on the worker, not on the JS thread.
size_t first_non_finite(const float* p, size_t n);

// Per-dimension ranges of a matrix for int8/uint8 quantization: out[d] = min, out[dim + d] = max.
void column_ranges(const MatrixView& m, float* out);

// quantize_embeddings: int8/uint8 use ranges [2][dim] (min row, then max row); binary packs sign bits
// (MSB first) and shifts by -128, ubinary packs them as is. out has rows × (dim or ⌈dim / 8⌉) bytes (np.packbits: the last byte's unused bits are 0).
// Casts follow numpy: truncation toward zero, low 8 bits kept.
void quantize(const MatrixView& emb, Precision p, const float* ranges, uint8_t* out);

}  // namespace embedrt
