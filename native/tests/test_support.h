// Shared by the native unit tests and the fuzz targets: a BERT tokenizer config built from the
// flagship's vocab.txt the way transformers' BertTokenizerFast builds one (uncased, [CLS] A [SEP]).
#pragma once

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "tokenizer.h"

namespace embedrt::testing {

inline std::string bge_vocab_path() { return std::string(EMBEDRT_SOURCE_DIR) + "/test/fixtures/bge-base-en-v1.5/vocab.txt"; }

inline TokenizerConfig bert_uncased_config(const std::string& vocab_file) {
  TokenizerConfig c;
  c.vocab = read_vocab_txt(vocab_file);
  auto id_of = [&](const std::string& tok) {
    for (size_t i = 0; i < c.vocab.size(); ++i) {
      if (c.vocab[i] == tok) return static_cast<int32_t>(i);
    }
    throw std::runtime_error(tok + " is not in " + vocab_file);
  };
  c.unk_id = id_of("[UNK]");
  const int32_t cls = id_of("[CLS]"), sep = id_of("[SEP]");
  for (const char* t : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    AddedToken a;
    a.content = t;
    a.id = id_of(t);
    a.special = true;
    c.added_tokens.push_back(a);
  }
  auto special = [&](int32_t id, const char* tok, uint32_t type) {
    TemplatePiece p;
    p.ids = {id};
    p.tokens = {tok};
    p.type_id = type;
    return p;
  };
  auto sequence = [](int s, uint32_t type) {
    TemplatePiece p;
    p.is_sequence = true;
    p.sequence = s;
    p.type_id = type;
    return p;
  };
  c.single = {special(cls, "[CLS]", 0), sequence(0, 0), special(sep, "[SEP]", 0)};
  c.pair = {special(cls, "[CLS]", 0), sequence(0, 0), special(sep, "[SEP]", 0), sequence(1, 1),
            special(sep, "[SEP]", 1)};
  c.pad_id = id_of("[PAD]");
  return c;
}

}  // namespace embedrt::testing
