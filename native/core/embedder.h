// The encode pipeline: tokenize on the pool, sort by length, cut batches by a token budget, run the
// session, pool, normalize, truncate, and write each row at its input position.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "errors.h"
#include "pooling.h"
#include "session.h"
#include "tokenizer.h"

namespace embedrt {

struct EmbedOptions {
  size_t max_length = 512;         // tokens per text, special tokens included (max_seq_length)
  size_t batch_size = 32;          // texts per session run at most
  size_t max_batch_tokens = 16384; // padded tokens per session run at most
  double max_padding = 0.1;        // a batch is cut before its padding exceeds this share of it
  std::vector<PoolingMode> pooling = {PoolingMode::Cls};
  bool normalize_module = false;   // modules.json has Normalize
  size_t truncate_dim = 0;         // 0: keep all
  bool normalize = false;          // normalize_embeddings, after truncation
  // sentence-transformers' output_value="token_embeddings": every text's rows of the last hidden state
  // where its attention mask is 1 (special tokens included), not pooled, normalized or truncated.
  bool token_embeddings = false;
};

struct EmbedResult {
  std::vector<float> data;  // rows × dim
  size_t rows = 0;          // texts; with token_embeddings, all texts' tokens
  size_t dim = 0;
  std::vector<uint32_t> offsets;  // token_embeddings: text i's rows are [offsets[i], offsets[i+1])
  std::vector<uint8_t> truncated;
  size_t tokens = 0;         // real tokens
  size_t padded_tokens = 0;  // tokens the session computed
};


using Progress = std::function<void(size_t done, size_t total)>;

// `pairs`: each text with its pair (a cross-encoder's query and document), truncated longest first.
EmbedResult embed(const Tokenizer& tok, const InferenceSession& session, const std::vector<std::string>& texts,
                  const EmbedOptions& opts, const Progress& progress, const std::atomic<bool>* cancel,
                  const std::vector<std::string>* pairs = nullptr);

// The same from token ids as they are (no special tokens added, token type 0): ids[i] is input i's. Each
// list must be non-empty, at most opts.max_length long, and every id below vocab_size — else a
// CodedError E_BAD_INPUT naming the input.
EmbedResult embed_ids(const InferenceSession& session, std::vector<std::vector<int32_t>> ids, size_t vocab_size,
                      const EmbedOptions& opts, const Progress& progress, const std::atomic<bool>* cancel);

}  // namespace embedrt
