// Tokenization id for id what Hugging Face `tokenizers` produces from a tokenizer.json: BERT's
// BertNormalizer + BertPreTokenizer + WordPiece, or SentencePiece's normalizers + Metaspace + Unigram
// (sentencepiece.h), then TemplateProcessing (or BertProcessing, RobertaProcessing).
//
// The native side trusts its config: lib/tokenizer.ts parses and validates tokenizer.json (or vocab.txt
// + tokenizer_config.json) and hands over this flat struct.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sentencepiece.h"

namespace embedrt {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false;
  bool normalized = false;  // matched in the normalized text rather than the raw text
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

// One piece of a post-processing template: a special token, or sequence A (0) or B (1).
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;
  std::vector<int32_t> ids;  // special token ids (a special token may expand to several)
  std::vector<std::string> tokens;
  uint32_t type_id = 0;
};

struct TokenizerConfig {
  // BertNormalizer (absent: no normalization)
  bool normalize = true;
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
  // BertPreTokenizer (absent: whole text is one word)
  bool pre_tokenize = true;
  // WordPiece
  std::vector<std::string> vocab;  // indexed by id; "" marks an unused id
  int32_t unk_id = 0;
  std::string continuing_subword_prefix = "##";
  size_t max_input_chars_per_word = 100;
  // Unigram instead of WordPiece: a score per vocabulary id, the SentencePiece normalizer steps and the
  // Metaspace pre-tokenizer (replacing spaces, a replacement prepended unless the scheme is "never",
  // split before each replacement). The BERT flags above are then all off.
  bool unigram = false;
  std::vector<double> scores;
  std::vector<SpNormalizerStep> sp_normalizer;
  bool metaspace = false;
  char32_t metaspace_replacement = 0x2581;
  bool metaspace_prepend = true;
  bool metaspace_split = true;
  // Added vocabulary (special tokens etc.), matched before the model
  std::vector<AddedToken> added_tokens;
  // Post-processor templates
  std::vector<TemplatePiece> single;
  std::vector<TemplatePiece> pair;
  // RobertaProcessing's trim_offsets (and its add_prefix_space, which spares a first token's one space)
  bool trim_offsets = false;
  bool trim_add_prefix_space = false;
  // Decoder: WordPiece (joins "##" pieces, optional cleanup), Metaspace (the replacement back to spaces,
  // the first token's dropped when it prepends) or, when absent, tokens joined by spaces
  bool wordpiece_decoder = true;
  bool metaspace_decoder = false;
  char32_t metaspace_decoder_replacement = 0x2581;
  bool metaspace_decoder_prepend = true;
  std::string decoder_prefix = "##";
  bool decoder_cleanup = true;
  // Padding token
  int32_t pad_id = 0;
  uint32_t pad_type_id = 0;
  std::string pad_token = "[PAD]";
};

struct EncodeOptions {
  bool add_special_tokens = true;
  size_t max_length = 0;  // 0: no truncation; else truncate (longest first, right) keeping special tokens
  bool with_tokens = false;
};

// One encoded text. Offsets are [start, end) in Unicode code points of the original text (as the
// tokenizers Node binding reports them); special tokens have (0, 0).
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<uint32_t> type_ids;
  std::vector<uint32_t> offsets;  // 2 per token
  std::vector<uint8_t> special_tokens_mask;
  std::vector<std::string> tokens;  // only with EncodeOptions::with_tokens
  bool truncated = false;
  size_t untruncated_length = 0;  // tokens before truncation, special tokens included
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerConfig config);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  Encoding encode(std::string_view text, const EncodeOptions& opts) const;
  Encoding encode_pair(std::string_view a, std::string_view b, const EncodeOptions& opts) const;
  std::string decode(const int32_t* ids, size_t n, bool skip_special_tokens) const;

  // Token string of an id ("" when unknown).
  std::string id_to_token(int32_t id) const;
  // Id of a token string, -1 when absent.
  int32_t token_to_id(std::string_view token) const;
  size_t vocab_size() const;
  size_t num_special_tokens(bool pair) const;
  const TokenizerConfig& config() const { return config_; }

 private:
  struct Impl;
  // A token's text without a copy: an added token's content, else the vocabulary's ("" for an unused id).
  std::string_view token_text(int32_t id) const;
  void encode_sequence(std::string_view text, bool with_tokens, size_t token_limit, Encoding& out) const;
  void assemble(Encoding* a, Encoding* b, const EncodeOptions& opts, Encoding& out) const;

  TokenizerConfig config_;
  std::unique_ptr<Impl> impl_;
};

// Pads each encoding (right side) to `length` with the pad token, attention 0.
// Returns the attention masks (1 for real tokens).
void pad_encoding(const TokenizerConfig& config, Encoding& enc, size_t length, std::vector<uint8_t>& attention);

// Reads a vocab.txt (one token per line, id = line number).
std::vector<std::string> read_vocab_txt(const std::string& path);

}  // namespace embedrt
