// The native encode pipeline (session, batching, pooling) under the sanitizers, on a tiny generated
// model that scripts/native-tests.sh writes (EMBEDRT_TEST_MODEL). Numerical fidelity against
// onnxruntime-node and sentence-transformers is tested in test/model/.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <cstdlib>
#include <string>
#include <vector>

#include <algorithm>

#include "embedder.h"
#include "ort_runtime.h"
#include "pooling.h"
#include "session.h"
#include "test_support.h"
#include "tokenizer.h"

namespace embedrt {
namespace {

TEST(Pooling, MatchesTheDefinitionsInFloat64) {
  // 3 tokens (the last is padding) × 2 dims.
  const float hidden[] = {1.0f, -2.0f, 3.0f, 5.0f, 100.0f, 100.0f};
  const int64_t mask[] = {1, 1, 0};
  std::vector<float> out(12);
  pool(hidden, mask, 3, 2,
       {PoolingMode::Cls, PoolingMode::Max, PoolingMode::Mean, PoolingMode::MeanSqrtLen, PoolingMode::WeightedMean,
        PoolingMode::LastToken},
       out.data());
  const std::vector<double> expected = {1, -2,                                      // cls
                                        3, 5,                                       // max over real tokens
                                        2, 1.5,                                     // mean
                                        4 / std::sqrt(2.0), 3 / std::sqrt(2.0),     // sum / sqrt(2)
                                        (1 * 1 + 2 * 3) / 3.0, (1 * -2 + 2 * 5) / 3.0,  // weights 1, 2
                                        3, 5};                                      // last real token
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], expected[i], 1e-6) << i;
  std::vector<float> v = {3, 4};
  l2_normalize(v.data(), 2);
  EXPECT_NEAR(v[0], 0.6, 1e-7);
  EXPECT_NEAR(v[1], 0.8, 1e-7);
}

std::string test_model() {
  const char* p = std::getenv("EMBEDRT_TEST_MODEL");
  return p ? p : "";
}

SessionConfig one_thread(const std::string& model) {
  SessionConfig sc;
  sc.model_path = model;
  sc.intra_op_threads = 1;
  return sc;
}

TEST(Embedder, BatchingDoesNotChangeResultsAndRowsKeepInputOrder) {
  const std::string model = test_model();
  ASSERT_FALSE(model.empty()) << "EMBEDRT_TEST_MODEL is not set (scripts/native-tests.sh sets it)";
  Tokenizer tok(testing::bert_uncased_config(testing::bge_vocab_path()));
  InferenceSession session(one_thread(model));
  std::vector<std::string> texts = {"short", "a somewhat longer text about revenue growth in fiscal 2023",
                                    "", "x y z", "naïve café 東京"};
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "word ";
  texts.push_back(long_text);
  EmbedOptions one;
  one.batch_size = 1;
  one.max_length = 64;
  one.pooling = {PoolingMode::Mean};
  one.normalize_module = true;
  EmbedOptions many = one;
  many.batch_size = 4;
  many.max_batch_tokens = 4 * 64;
  EmbedResult a = embed(tok, session, texts, one, nullptr, nullptr);
  EmbedResult b = embed(tok, session, texts, many, nullptr, nullptr);
  ASSERT_EQ(a.rows, texts.size());
  ASSERT_EQ(a.dim, session.hidden_size());
  for (size_t i = 0; i < a.data.size(); ++i) EXPECT_NEAR(a.data[i], b.data[i], 1e-5) << i;
  EXPECT_EQ(a.truncated[5], 1);
  EXPECT_EQ(a.truncated[0], 0);
  EXPECT_LE(b.padded_tokens, a.tokens + 3 * 64);
  std::atomic<bool> cancel{true};
  EXPECT_THROW(embed(tok, session, texts, many, nullptr, &cancel), Cancelled);
}

TEST(Embedder, TokenEmbeddingsAreEachTextsRowsAndMeanPoolToTheSentenceEmbedding) {
  const std::string model = test_model();
  ASSERT_FALSE(model.empty()) << "EMBEDRT_TEST_MODEL is not set (scripts/native-tests.sh sets it)";
  Tokenizer tok(testing::bert_uncased_config(testing::bge_vocab_path()));
  InferenceSession session(one_thread(model));
  ASSERT_FALSE(session.cls_only());
  const std::vector<std::string> texts = {"a somewhat longer text about revenue growth", "", "short", "x y z w v u"};
  EmbedOptions pooled;
  pooled.batch_size = 3;
  pooled.max_length = 64;
  pooled.pooling = {PoolingMode::Mean};
  EmbedOptions tokens = pooled;
  tokens.token_embeddings = true;
  const EmbedResult s = embed(tok, session, texts, pooled, nullptr, nullptr);
  const EmbedResult t = embed(tok, session, texts, tokens, nullptr, nullptr);
  const size_t h = session.hidden_size();
  ASSERT_EQ(t.dim, h);
  ASSERT_EQ(t.offsets.size(), texts.size() + 1);
  ASSERT_EQ(t.rows, t.offsets.back());
  ASSERT_EQ(t.data.size(), t.rows * h);
  EncodeOptions eo;
  eo.max_length = 64;
  for (size_t i = 0; i < texts.size(); ++i) {
    const size_t n = t.offsets[i + 1] - t.offsets[i];
    EXPECT_EQ(n, tok.encode(texts[i], eo).ids.size()) << i;  // every token, special ones included
    for (size_t d = 0; d < h; ++d) {
      double sum = 0;
      for (size_t r = 0; r < n; ++r) sum += t.data[(t.offsets[i] + r) * h + d];
      EXPECT_NEAR(sum / static_cast<double>(n), s.data[i * h + d], 1e-5) << i << "," << d;
    }
  }
}

// The expected message's part, for a CodedError of code E_BAD_INPUT.
void expect_bad_input(const std::function<void()>& f, const std::string& part) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one saying " << part;
  } catch (const CodedError& e) {
    EXPECT_EQ(e.code(), "E_BAD_INPUT");
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(Embedder, IdsEmbedAsTheTextTheyComeFromAndBadIdsAreNamed) {
  const std::string model = test_model();
  ASSERT_FALSE(model.empty()) << "EMBEDRT_TEST_MODEL is not set (scripts/native-tests.sh sets it)";
  Tokenizer tok(testing::bert_uncased_config(testing::bge_vocab_path()));
  InferenceSession session(one_thread(model));
  const std::vector<std::string> texts = {"revenue grew in fiscal 2023", "", "x y z"};
  EmbedOptions o;
  o.max_length = 16;
  o.pooling = {PoolingMode::Mean};
  EncodeOptions eo;
  eo.max_length = o.max_length;
  std::vector<std::vector<int32_t>> ids;
  for (const std::string& t : texts) ids.push_back(tok.encode(t, eo).ids);
  const EmbedResult a = embed(tok, session, texts, o, nullptr, nullptr);
  const EmbedResult b = embed_ids(session, ids, tok.vocab_size(), o, nullptr, nullptr);
  EXPECT_EQ(a.data, b.data);
  EXPECT_EQ(a.tokens, b.tokens);
  const size_t v = tok.vocab_size();
  expect_bad_input([&] { embed_ids(session, {{101, 102}, {}}, v, o, nullptr, nullptr); }, "ids[1] is empty");
  expect_bad_input([&] { embed_ids(session, {std::vector<int32_t>(17, 1000)}, v, o, nullptr, nullptr); }, "ids[0] has 17 ids, more than max_seq_length (16)");
  expect_bad_input([&] { embed_ids(session, {{101, static_cast<int32_t>(v)}}, v, o, nullptr, nullptr); },
                   "ids[0][1] = " + std::to_string(v) + " is not an id of the vocabulary");
  expect_bad_input([&] { embed_ids(session, {{-1}}, v, o, nullptr, nullptr); }, "ids[0][0] = -1");
}

TEST(Session, MissingProviderIsAProviderError) {
  const std::string model = test_model();
  ASSERT_FALSE(model.empty());
  SessionConfig sc;
  sc.model_path = model;
  sc.device = "cuda";
  const RuntimeInfo rt = runtime_info();
  if (std::find(rt.providers.begin(), rt.providers.end(), "CUDAExecutionProvider") == rt.providers.end()) {
    EXPECT_THROW(InferenceSession s(sc), ProviderError);
  }
  sc.device = "auto";
  InferenceSession fallback(sc);
  EXPECT_FALSE(fallback.provider().empty());
}

}  // namespace
}  // namespace embedrt
