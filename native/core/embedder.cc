#include "embedder.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "thread_pool.h"

namespace embedrt {

namespace {

void check_graph(const InferenceSession& session, const EmbedOptions& opts) {
  if (session.cls_only() && (opts.token_embeddings || opts.pooling.size() != 1 || opts.pooling[0] != PoolingMode::Cls)) {
    throw std::invalid_argument(opts.token_embeddings ? "the graph returns only the CLS row, and token embeddings need every token"
                                                      : "the graph returns only the CLS row, and the pooling needs every token");
  }
}

EmbedResult embed_encodings(const InferenceSession& session, const std::vector<Encoding>& encs, const EmbedOptions& opts,
                            const Progress& progress, const std::atomic<bool>* cancel);

}  // namespace

EmbedResult embed(const Tokenizer& tok, const InferenceSession& session, const std::vector<std::string>& texts,
                  const EmbedOptions& opts, const Progress& progress, const std::atomic<bool>* cancel,
                  const std::vector<std::string>* pairs) {
  check_graph(session, opts);
  if (pairs && pairs->size() != texts.size()) throw std::invalid_argument("embed: a pair for every text expected");
  EncodeOptions eo;
  eo.max_length = opts.max_length;
  std::vector<Encoding> encs(texts.size());
  // An abort stops tokenization too (a batch of long texts takes a while), not only inference.
  ThreadPool::shared().parallel_for(texts.size(), [&](size_t i) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
    encs[i] = pairs ? tok.encode_pair(texts[i], (*pairs)[i], eo) : tok.encode(texts[i], eo);
  });
  return embed_encodings(session, encs, opts, progress, cancel);
}

EmbedResult embed_ids(const InferenceSession& session, std::vector<std::vector<int32_t>> ids, size_t vocab_size,
                      const EmbedOptions& opts, const Progress& progress, const std::atomic<bool>* cancel) {
  check_graph(session, opts);
  std::vector<Encoding> encs(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string at = "ids[" + std::to_string(i) + "]";
    if (ids[i].empty()) throw CodedError("E_BAD_INPUT", at + " is empty");
    if (ids[i].size() > opts.max_length) {
      throw CodedError("E_BAD_INPUT", at + " has " + std::to_string(ids[i].size()) + " ids, more than max_seq_length (" + std::to_string(opts.max_length) + ")");
    }
    for (size_t t = 0; t < ids[i].size(); ++t) {
      if (ids[i][t] < 0 || static_cast<size_t>(ids[i][t]) >= vocab_size) {
        throw CodedError("E_BAD_INPUT", at + "[" + std::to_string(t) + "] = " + std::to_string(ids[i][t]) + " is not an id of the vocabulary (0 to " +
                                             std::to_string(vocab_size - 1) + ")");
      }
    }
    encs[i].type_ids.assign(ids[i].size(), 0);
    encs[i].untruncated_length = ids[i].size();
    encs[i].ids = std::move(ids[i]);
  }
  return embed_encodings(session, encs, opts, progress, cancel);
}

namespace {

EmbedResult embed_encodings(const InferenceSession& session, const std::vector<Encoding>& encs, const EmbedOptions& opts,
                            const Progress& progress, const std::atomic<bool>* cancel) {
  const size_t n = encs.size();
  // Longest first: padding inside a batch stays small, and the first batches show the peak memory.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return encs[a].ids.size() > encs[b].ids.size(); });

  const size_t hidden = session.hidden_size();
  const size_t pooled = hidden * opts.pooling.size();
  const size_t dim = opts.token_embeddings ? hidden : opts.truncate_dim > 0 ? std::min(opts.truncate_dim, pooled) : pooled;
  EmbedResult r;
  r.truncated.resize(n);
  for (size_t i = 0; i < n; ++i) {
    r.truncated[i] = encs[i].truncated ? 1 : 0;
    r.tokens += encs[i].ids.size();
  }
  if (opts.token_embeddings) {
    if (r.tokens > UINT32_MAX) throw std::length_error("token embeddings of more than 2^32 tokens in one call");
    r.offsets.resize(n + 1);
    for (size_t i = 0; i < n; ++i) r.offsets[i + 1] = r.offsets[i] + static_cast<uint32_t>(encs[i].ids.size());
  }
  r.rows = opts.token_embeddings ? r.tokens : n;
  r.dim = dim;
  r.data.assign(r.rows * dim, 0.0f);

  std::vector<int64_t> ids, mask, types;
  std::vector<float> hidden_states, row(pooled);
  size_t done = 0;
  size_t largest_run_tokens = 0;
  for (size_t start = 0; start < n;) {
    if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
    const size_t seq = std::max<size_t>(encs[order[start]].ids.size(), 1);
    size_t end = start + 1;
    size_t real = encs[order[start]].ids.size();
    // Longest first, so the first text sets the width; stop before padding passes max_padding.
    while (end < n && end - start < opts.batch_size && (end - start + 1) * seq <= opts.max_batch_tokens) {
      const size_t next_real = real + encs[order[end]].ids.size();
      const double padded = static_cast<double>((end - start + 1) * seq);
      if (1.0 - static_cast<double>(next_real) / padded > opts.max_padding) break;
      real = next_real;
      ++end;
    }
    const size_t batch = end - start;
    ids.assign(batch * seq, 0);
    mask.assign(batch * seq, 0);
    types.assign(batch * seq, 0);
    for (size_t b = 0; b < batch; ++b) {
      const Encoding& e = encs[order[start + b]];
      for (size_t t = 0; t < e.ids.size(); ++t) {
        ids[b * seq + t] = e.ids[t];
        mask[b * seq + t] = 1;
        types[b * seq + t] = e.type_ids[t];
      }
    }
    session.run(ids, mask, types, batch, seq, hidden_states);
    r.padded_tokens += batch * seq;
    largest_run_tokens = std::max(largest_run_tokens, batch * seq);
    const size_t out_seq = session.cls_only() ? 1 : seq;  // a CLS-only graph returns [batch, 1, hidden]
    for (size_t b = 0; b < batch && opts.token_embeddings; ++b) {
      // Right padding: a text's real tokens are its first rows.
      const size_t i = order[start + b];
      const float* src = hidden_states.data() + b * seq * hidden;
      std::copy(src, src + encs[i].ids.size() * hidden, r.data.data() + size_t{r.offsets[i]} * hidden);
    }
    for (size_t b = 0; b < batch && !opts.token_embeddings; ++b) {
      pool(hidden_states.data() + b * out_seq * hidden, mask.data() + b * seq, out_seq, hidden, opts.pooling, row.data());
      if (opts.normalize_module) l2_normalize(row.data(), pooled);
      float* dst = r.data.data() + order[start + b] * dim;
      std::copy(row.begin(), row.begin() + static_cast<long>(dim), dst);
      if (opts.normalize) l2_normalize(dst, dim);
    }
    done += batch;
    start = end;
    if (progress) progress(done, n);
  }
#if defined(__GLIBC__)
  // The activations of a run are large, short-lived blocks spread over many threads' malloc arenas;
  // without this glibc keeps the freed pages and RSS climbs from call to call. Only after runs big
  // enough to matter: trimming costs milliseconds (it walks every arena), which a single short text
  // would pay on every call, and a run under kTrimTokens tokens leaves little behind.
  constexpr size_t kTrimTokens = 2048;
  hidden_states = std::vector<float>();
  if (largest_run_tokens >= kTrimTokens) malloc_trim(0);
#else
  (void)largest_run_tokens;
#endif
  return r;
}

}  // namespace

}  // namespace embedrt
