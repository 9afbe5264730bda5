// The tokenizer: construction (vocabulary tables, added tokens), one sequence through the pipeline
// (SequencePass: BERT's stages here, SentencePiece's from sentencepiece.h), truncation and templates
// (assemble), decode and padding.
// Longer than 400 lines because the pipeline's stages share this file's ASCII tables and scratch
// buffers, and splitting them would publish both.
#include "tokenizer.h"

#include <algorithm>
#include <fstream>
#include <stdexcept>

#include "unicode.h"

namespace embedrt {

namespace {

// Per-ASCII-character facts, so the common case never touches the Unicode tables.
enum AsciiClass : uint8_t { kKeep = 0, kRemove = 1, kSpace = 2 };

struct AsciiTables {
  uint8_t clean[128];   // BertNormalizer clean_text
  bool split[128];      // BertPreTokenizer whitespace
  bool punct[128];      // BertPreTokenizer punctuation
  AsciiTables() {
    for (char32_t c = 0; c < 128; ++c) {
      // Removal first: \v and \f are whitespace but also controls, and tokenizers drops them.
      clean[c] = (c == 0 || unicode::is_bert_control(c)) ? kRemove : unicode::is_bert_whitespace(c) ? kSpace : kKeep;
      split[c] = unicode::is_whitespace(c);
      punct[c] = unicode::is_bert_punctuation(c);
    }
  }
};

const AsciiTables& ascii() {
  static const AsciiTables tables;
  return tables;
}

// Scratch buffers reused across calls on the same thread (tokenization runs on many threads).
struct Scratch {
  std::vector<char32_t> cps;
  std::vector<char32_t> norm, norm2;
  std::vector<uint32_t> origin, origin2;
  std::vector<uint8_t> first;
  std::vector<std::pair<int, size_t>> marks;  // canonical_order's run
  std::vector<char32_t> tmp, trim;
  std::string word, text;
  std::vector<uint32_t> bounds;
  AlignedText aligned, aligned2, piece;  // the SentencePiece pipeline's text
  std::vector<UnigramModel::Piece> pieces;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

bool is_word_char(char32_t c) {
  if (c == '_') return true;
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  return !unicode::is_whitespace(c) && !unicode::is_bert_punctuation(c) && !unicode::is_bert_control(c);
}

}  // namespace

struct Tokenizer::Impl {
  std::unordered_map<std::string_view, int32_t> vocab;
  std::unordered_map<std::string_view, int32_t> continuing;  // tokens with the prefix, keyed without it
  size_t max_piece_bytes = 0;
  size_t max_continuing_bytes = 0;
  struct Match {
    std::u32string content;
    size_t index;  // into config.added_tokens
  };
  std::vector<Match> raw_added;         // matched on the original text
  std::vector<Match> normalized_added;  // matched on the normalized text
  std::unordered_map<int32_t, size_t> added_by_id;
  std::unordered_map<std::string_view, int32_t> added_by_content;
  std::unique_ptr<SpNormalizer> sp_normalizer;  // with config.unigram
  std::unique_ptr<UnigramModel> unigram;
  class SequencePass;
};

Tokenizer::Tokenizer(TokenizerConfig config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const std::string& prefix = config_.continuing_subword_prefix;
  m.vocab.reserve(config_.vocab.size());
  for (size_t id = 0; id < config_.vocab.size(); ++id) {
    const std::string& tok = config_.vocab[id];
    if (tok.empty()) continue;
    if (config_.unigram) {
      m.vocab.insert_or_assign(tok, static_cast<int32_t>(id));  // of equal pieces the last (as tokenizers)
    } else {
      m.vocab.emplace(tok, static_cast<int32_t>(id));
    }
    m.max_piece_bytes = std::max(m.max_piece_bytes, tok.size());
    if (!prefix.empty() && tok.size() > prefix.size() && tok.compare(0, prefix.size(), prefix) == 0) {
      std::string_view rest(tok);
      rest.remove_prefix(prefix.size());
      m.continuing.emplace(rest, static_cast<int32_t>(id));
      m.max_continuing_bytes = std::max(m.max_continuing_bytes, rest.size());
    }
  }
  if (config_.unigram) {
    m.sp_normalizer = std::make_unique<SpNormalizer>(config_.sp_normalizer);
    m.unigram = std::make_unique<UnigramModel>(config_.vocab, config_.scores, config_.unk_id);
  }
  for (size_t i = 0; i < config_.added_tokens.size(); ++i) {
    const AddedToken& t = config_.added_tokens[i];
    m.added_by_id.emplace(t.id, i);
    m.added_by_content.emplace(t.content, t.id);
    if (t.content.empty()) continue;
    std::vector<char32_t> cps;
    unicode::decode_utf8(t.content, cps);
    Impl::Match match{std::u32string(cps.begin(), cps.end()), i};
    if (t.normalized && m.sp_normalizer && !m.sp_normalizer->empty()) {
      AlignedText text, scratch;
      text.assign(cps.data(), cps.size(), 0);
      m.sp_normalizer->normalize(text, scratch);
      match.content.assign(text.chars.begin(), text.chars.end());
      if (!match.content.empty()) m.normalized_added.push_back(std::move(match));
    } else if (t.normalized && config_.normalize) {
      // Matched against normalized text, so compare with the normalized form of the content.
      match.content.clear();
      std::vector<char32_t> tmp;
      for (char32_t c : cps) {
        if (config_.clean_text && (c == 0 || c == unicode::kReplacement || unicode::is_bert_control(c))) continue;
        if (config_.clean_text && unicode::is_bert_whitespace(c)) c = ' ';
        tmp.clear();
        if (config_.strip_accents) {
          unicode::canonical_decompose(c, tmp);
        } else {
          tmp.push_back(c);
        }
        for (char32_t d : tmp) {
          if (config_.strip_accents && unicode::is_nonspacing_mark(d)) continue;
          std::vector<char32_t> low;
          if (config_.lowercase) {
            unicode::to_lowercase(d, low);
          } else {
            low.push_back(d);
          }
          match.content.append(low.begin(), low.end());
        }
      }
      if (!match.content.empty()) m.normalized_added.push_back(std::move(match));
    } else {
      m.raw_added.push_back(std::move(match));
    }
  }
}

Tokenizer::~Tokenizer() = default;

size_t Tokenizer::vocab_size() const {
  size_t n = config_.vocab.size();
  for (const AddedToken& t : config_.added_tokens) n = std::max(n, static_cast<size_t>(t.id) + 1);
  return n;
}

std::string_view Tokenizer::token_text(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  if (it != impl_->added_by_id.end()) return config_.added_tokens[it->second].content;
  if (id >= 0 && static_cast<size_t>(id) < config_.vocab.size()) return config_.vocab[static_cast<size_t>(id)];
  return {};
}

std::string Tokenizer::id_to_token(int32_t id) const { return std::string(token_text(id)); }

int32_t Tokenizer::token_to_id(std::string_view token) const {
  auto a = impl_->added_by_content.find(token);
  if (a != impl_->added_by_content.end()) return a->second;
  auto v = impl_->vocab.find(token);
  return v == impl_->vocab.end() ? -1 : v->second;
}

size_t Tokenizer::num_special_tokens(bool pair) const {
  size_t n = 0;
  for (const TemplatePiece& p : pair ? config_.pair : config_.single) {
    if (!p.is_sequence) n += p.ids.size();
  }
  return n;
}

// One sequence through tokenizers' BERT pipeline, stage by stage: added tokens matched on the raw text
// (split_added), the BertNormalizer (normalize: clean, CJK spacing, then strip_accents and lowercase),
// added tokens matched on the normalized text, the BertPreTokenizer (pre_tokenize), WordPiece
// (word_piece). Tokens go to `out` as they come, with their offsets in code points of the input.
class Tokenizer::Impl::SequencePass {
 public:
  SequencePass(const Tokenizer& tok, bool with_tokens, size_t token_limit, Encoding& out)
      : tok_(tok), config_(tok.config_), m_(*tok.impl_), at_(ascii()), s_(scratch()), with_tokens_(with_tokens), token_limit_(token_limit), out_(out) {}

  void run(std::string_view text) {
    sequence_start_ = out_.ids.size();
    s_.cps.clear();
    unicode::decode_utf8(text, s_.cps);
    const std::vector<char32_t>& cps = s_.cps;
    if (m_.raw_added.empty()) {
      on_raw_text(0, cps.size());
      return;
    }
    split_added(
        m_.raw_added, cps.data(), cps.size(), [&](size_t b, size_t e) { on_raw_text(b, e); },
        [&](size_t b, size_t e, size_t index, bool widened) { emit_added(index, static_cast<uint32_t>(b), static_cast<uint32_t>(e), widened, cps.data() + b, e - b); });
  }

 private:
  void push_token(int32_t id, uint32_t begin, uint32_t end, const std::string* token) {
    if (config_.trim_offsets) trim_offsets(token ? std::string_view(*token) : tok_.token_text(id), begin, end);
    out_.ids.push_back(id);
    out_.offsets.push_back(begin);
    out_.offsets.push_back(end);
    if (with_tokens_) out_.tokens.push_back(token ? *token : tok_.id_to_token(id));
  }

  // RobertaProcessing's trim_offsets (tokenizers' byte_level process_offsets): a token whose text begins
  // or ends with whitespace (or ByteLevel's space, U+0120) has its offsets moved in by that many chars —
  // except, with add_prefix_space, one leading space of a sequence's first token.
  void trim_offsets(std::string_view token, uint32_t& begin, uint32_t& end) {
    std::vector<char32_t>& cps = s_.trim;
    cps.clear();
    unicode::decode_utf8(token, cps);
    const auto space = [](char32_t c) { return c == 0x120 || unicode::is_whitespace(c); };
    size_t lead = 0, trail = 0;
    while (lead < cps.size() && space(cps[lead])) ++lead;
    while (trail < cps.size() && space(cps[cps.size() - 1 - trail])) ++trail;
    const bool first = out_.ids.size() == sequence_start_ || begin == 0;
    if (lead > 0 && !(first && config_.trim_add_prefix_space && lead == 1)) begin = std::min(begin + static_cast<uint32_t>(lead), end);
    if (trail > 0 && end >= trail) end = std::max(end - static_cast<uint32_t>(trail), begin);
  }

  // Leftmost-longest matching of added tokens in seq[0, n): on_text(b, e) for the text between them,
  // on_added(b, e, index, widened) for each match (widened: by its lstrip / rstrip).
  template <typename OnText, typename OnAdded>
  void split_added(const std::vector<Match>& list, const char32_t* seq, size_t n, OnText&& on_text, OnAdded&& on_added) const {
    size_t text_begin = 0;
    size_t i = 0;
    while (i < n) {
      const Match* best = nullptr;
      for (const Match& cand : list) {
        const size_t len = cand.content.size();
        if (cand.content[0] != seq[i] || len > n - i || (best && len <= best->content.size())) continue;
        if (std::equal(cand.content.begin(), cand.content.end(), seq + i)) {
          const AddedToken& t = config_.added_tokens[cand.index];
          if (t.single_word) {
            const bool left_ok = i == 0 || !is_word_char(seq[i - 1]);
            const bool right_ok = i + len == n || !is_word_char(seq[i + len]);
            if (!left_ok || !right_ok) continue;
          }
          best = &cand;
        }
      }
      if (!best) {
        ++i;
        continue;
      }
      const AddedToken& t = config_.added_tokens[best->index];
      size_t b = i, e = i + best->content.size();
      if (t.lstrip) {
        while (b > text_begin && unicode::is_whitespace(seq[b - 1])) --b;
      }
      if (t.rstrip) {
        while (e < n && unicode::is_whitespace(seq[e])) ++e;
      }
      if (b > text_begin) on_text(text_begin, b);
      on_added(b, e, best->index, b != i || e != i + best->content.size());
      text_begin = e;
      i = e;
    }
    if (text_begin < n) on_text(text_begin, n);
  }

  // Raw text between added tokens: normalized, then split on the added tokens that match normalized text.
  void on_raw_text(size_t b, size_t e) {
    if (m_.unigram) return on_raw_text_sp(b, e);
    normalize(b, e);
    if (m_.normalized_added.empty()) {
      pre_tokenize(0, s_.norm.size());
      return;
    }
    split_added(
        m_.normalized_added, s_.norm.data(), s_.norm.size(), [&](size_t nb, size_t ne) { pre_tokenize(nb, ne); },
        [&](size_t nb, size_t ne, size_t index, bool widened) { emit_added(index, s_.origin[nb], s_.origin[ne - 1] + 1, widened, s_.norm.data() + nb, ne - nb); });
  }

  // The SentencePiece pipeline: its normalizer over the text with alignments (s_.aligned), added tokens
  // that match normalized text, then Metaspace and Unigram on the rest.
  void on_raw_text_sp(size_t b, size_t e) {
    AlignedText& t = s_.aligned;
    t.assign(s_.cps.data() + b, e - b, static_cast<uint32_t>(b));
    m_.sp_normalizer->normalize(t, s_.aligned2);
    if (m_.normalized_added.empty()) return metaspace(0, t.size());
    split_added(
        m_.normalized_added, t.chars.data(), t.size(), [&](size_t nb, size_t ne) { metaspace(nb, ne); },
        [&](size_t nb, size_t ne, size_t index, bool widened) { emit_added(index, t.begin[nb], t.end[ne - 1], widened, t.chars.data() + nb, ne - nb); });
  }

  // The Metaspace pre-tokenizer on aligned[b, e): spaces become the replacement (keeping their
  // alignment), one is prepended (aligned with the first char) unless the text begins with one, and
  // each replacement begins a word. Without a pre-tokenizer the whole text is one word.
  void metaspace(size_t b, size_t e) {
    if (e <= b || done_) return;
    const AlignedText& t = s_.aligned;
    AlignedText& w = s_.piece;
    w.clear();
    const char32_t rep = config_.metaspace_replacement;
    if (config_.metaspace && config_.metaspace_prepend && t.chars[b] != rep && t.chars[b] != ' ') {
      w.chars.push_back(rep);
      w.begin.push_back(t.begin[b]);
      w.end.push_back(t.end[b]);
    }
    for (size_t i = b; i < e; ++i) {
      w.chars.push_back(config_.metaspace && t.chars[i] == ' ' ? rep : t.chars[i]);
      w.begin.push_back(t.begin[i]);
      w.end.push_back(t.end[i]);
    }
    if (!config_.metaspace || !config_.metaspace_split) return unigram_word(0, w.size());
    size_t word = 0;
    for (size_t i = 1; i < w.size(); ++i) {
      if (w.chars[i] == rep) {
        unigram_word(word, i);
        word = i;
      }
    }
    unigram_word(word, w.size());
  }

  // Unigram on the word piece[b, e); offsets from the first and last chars' alignments. A token's text
  // is the word's (for an unknown token, the chars it covers, as tokenizers reports it).
  void unigram_word(size_t b, size_t e) {
    if (done_ || e <= b) return;
    const AlignedText& w = s_.piece;
    s_.word.clear();
    s_.bounds.clear();
    for (size_t i = b; i < e; ++i) {
      s_.bounds.push_back(static_cast<uint32_t>(s_.word.size()));
      unicode::append_utf8(s_.word, w.chars[i]);
    }
    s_.bounds.push_back(static_cast<uint32_t>(s_.word.size()));
    s_.pieces.clear();
    m_.unigram->tokenize(s_.word, s_.pieces);
    for (const UnigramModel::Piece& p : s_.pieces) {
      const auto at = [&](uint32_t byte) { return static_cast<size_t>(std::lower_bound(s_.bounds.begin(), s_.bounds.end(), byte) - s_.bounds.begin()); };
      const size_t cb = b + at(p.begin), ce = b + at(p.end);
      if (with_tokens_) s_.text.assign(s_.word, p.begin, p.end - p.begin);
      push_token(p.id, w.begin[cb], w.end[ce - 1], with_tokens_ ? &s_.text : nullptr);
    }
    done_ = token_limit_ > 0 && out_.ids.size() >= token_limit_;
  }

  // An added token; widened by lstrip / rstrip, its text is the span it took, spaces included (as tokenizers').
  void emit_added(size_t index, uint32_t begin, uint32_t end, bool widened, const char32_t* span, size_t len) {
    if (done_) return;
    const AddedToken& t = config_.added_tokens[index];
    if (!widened) return push_token(t.id, begin, end, &t.content);
    s_.text.clear();
    for (size_t k = 0; k < len; ++k) unicode::append_utf8(s_.text, span[k]);
    push_token(t.id, begin, end, &s_.text);
  }

  // BertNormalizer on cps[b, e): into s_.norm, with the input index of every normalized char in s_.origin.
  void normalize(size_t b, size_t e) {
    s_.norm.clear();
    s_.origin.clear();
    bool all_ascii = true;
    for (size_t i = b; i < e; ++i) {
      char32_t c = s_.cps[i];
      if (config_.normalize && config_.clean_text) {
        if (c < 0x80) {
          const uint8_t k = at_.clean[c];
          if (k == kRemove) continue;
          if (k == kSpace) c = ' ';
        } else if (c == unicode::kReplacement || unicode::is_bert_control(c)) {
          continue;
        } else if (unicode::is_bert_whitespace(c)) {
          c = ' ';
        }
      }
      const uint32_t o = static_cast<uint32_t>(i);
      if (c >= 0x80) all_ascii = false;
      if (config_.normalize && config_.handle_chinese_chars && c >= 0x3400 && unicode::is_cjk_ideograph(c)) {
        s_.norm.insert(s_.norm.end(), {U' ', c, U' '});
        s_.origin.insert(s_.origin.end(), {o, o, o});
      } else {
        s_.norm.push_back(c);
        s_.origin.push_back(o);
      }
    }
    if (!config_.normalize) return;
    if (config_.strip_accents && !all_ascii) strip_accents();
    if (config_.lowercase) lowercase(all_ascii);
  }

  // NFD, then drop non-spacing marks. tokenizers aligns the NFD output positionally: each char that
  // begins a source char's decomposition takes the next source char's alignment, the rest share the
  // previous one's, and canonical reordering moves chars but not alignments.
  void strip_accents() {
    s_.norm2.clear();
    s_.first.clear();
    for (size_t i = 0; i < s_.norm.size(); ++i) {
      s_.tmp.clear();
      unicode::canonical_decompose(s_.norm[i], s_.tmp);
      for (size_t k = 0; k < s_.tmp.size(); ++k) {
        s_.norm2.push_back(s_.tmp[k]);
        s_.first.push_back(k == 0 ? 1 : 0);
      }
    }
    unicode::canonical_order(s_.norm2, s_.first, s_.marks);
    s_.origin2.clear();
    size_t next = 0;
    for (size_t i = 0; i < s_.norm2.size(); ++i) {
      if (s_.first[i]) {
        s_.origin2.push_back(s_.origin[next++]);
      } else {
        s_.origin2.push_back(next > 0 ? s_.origin[next - 1] : s_.origin[0]);
      }
    }
    s_.norm.clear();
    s_.origin.clear();
    for (size_t i = 0; i < s_.norm2.size(); ++i) {
      if (unicode::is_nonspacing_mark(s_.norm2[i])) continue;
      s_.norm.push_back(s_.norm2[i]);
      s_.origin.push_back(s_.origin2[i]);
    }
  }

  void lowercase(bool all_ascii) {
    if (all_ascii) {
      for (char32_t& c : s_.norm) {
        if (c >= 'A' && c <= 'Z') c += 32;
      }
      return;
    }
    s_.norm2.clear();
    s_.origin2.clear();
    for (size_t i = 0; i < s_.norm.size(); ++i) {
      s_.tmp.clear();
      unicode::to_lowercase(s_.norm[i], s_.tmp);
      for (char32_t d : s_.tmp) {
        s_.norm2.push_back(d);
        s_.origin2.push_back(s_.origin[i]);
      }
    }
    s_.norm.swap(s_.norm2);
    s_.origin.swap(s_.origin2);
  }

  // BertPreTokenizer on norm[b, e): split on whitespace (removed) and punctuation (isolated).
  void pre_tokenize(size_t b, size_t e) {
    if (!config_.pre_tokenize) {
      if (e > b) word_piece(b, e);
      return;
    }
    size_t word = b;
    for (size_t i = b; i < e; ++i) {
      const char32_t c = s_.norm[i];
      const bool space = c < 0x80 ? at_.split[c] : unicode::is_whitespace(c);
      const bool punct = !space && (c < 0x80 ? at_.punct[c] : unicode::is_bert_punctuation(c));
      if (space || punct) {
        if (i > word) word_piece(word, i);
        if (punct) word_piece(i, i + 1);
        word = i + 1;
      }
    }
    if (e > word) word_piece(word, e);
  }

  // With truncation on, tokenizers stops a sequence early: after each word, once the sequence holds
  // max_length tokens (added tokens included), the rest of the text is dropped. (The word that crosses
  // the limit stays whole, and the first word after an added token is always taken.) That never drops
  // a token truncation would keep, but it decides which of a pair counts as longer. Measured against
  // tokenizers 0.23 (see test/tokenizer/differential.test.ts).
  void word_piece(size_t b, size_t e) {
    if (done_) return;
    word_piece_word(b, e);
    done_ = token_limit_ > 0 && out_.ids.size() >= token_limit_;
  }

  // WordPiece on the word norm[b, e): longest pieces first; a word no pieces cover is the unknown token.
  void word_piece_word(size_t b, size_t e) {
    const size_t n = e - b;
    const uint32_t word_begin = s_.origin[b];
    const uint32_t word_end = s_.origin[e - 1] + 1;
    if (n > config_.max_input_chars_per_word) {
      push_token(config_.unk_id, word_begin, word_end, nullptr);
      return;
    }
    s_.word.clear();
    s_.bounds.clear();
    for (size_t i = b; i < e; ++i) {
      s_.bounds.push_back(static_cast<uint32_t>(s_.word.size()));
      unicode::append_utf8(s_.word, s_.norm[i]);
    }
    s_.bounds.push_back(static_cast<uint32_t>(s_.word.size()));
    const size_t first = out_.ids.size();
    size_t start = 0;
    while (start < n) {
      const auto& map = start == 0 ? m_.vocab : m_.continuing;
      const size_t limit = start == 0 ? m_.max_piece_bytes : m_.max_continuing_bytes;
      int32_t found = -1;
      // Longest first, from the longest piece the vocabulary could hold (not from the word's end: a
      // long word would make this quadratic).
      size_t end = static_cast<size_t>(std::upper_bound(s_.bounds.begin() + static_cast<std::ptrdiff_t>(start), s_.bounds.begin() + static_cast<std::ptrdiff_t>(n + 1),
                                                        s_.bounds[start] + limit) - s_.bounds.begin()) - 1;
      for (; end > start; --end) {
        const size_t len = s_.bounds[end] - s_.bounds[start];
        auto it = map.find(std::string_view(s_.word).substr(s_.bounds[start], len));
        if (it != map.end()) {
          found = it->second;
          break;
        }
      }
      if (found < 0) {
        out_.ids.resize(first);
        out_.offsets.resize(first * 2);
        if (with_tokens_) out_.tokens.resize(first);
        push_token(config_.unk_id, word_begin, word_end, nullptr);
        return;
      }
      push_token(found, s_.origin[b + start], s_.origin[b + end - 1] + 1, with_tokens_ ? &config_.vocab[static_cast<size_t>(found)] : nullptr);
      start = end;
    }
  }

  const Tokenizer& tok_;
  const TokenizerConfig& config_;
  const Impl& m_;
  const AsciiTables& at_;
  Scratch& s_;
  const bool with_tokens_;
  const size_t token_limit_;
  Encoding& out_;
  bool done_ = false;
  size_t sequence_start_ = 0;  // out_'s first token of the sequence being run
};

void Tokenizer::encode_sequence(std::string_view text, bool with_tokens, size_t token_limit, Encoding& out) const {
  Impl::SequencePass(*this, with_tokens, token_limit, out).run(text);
}

namespace {

void truncate_to(Encoding& e, size_t n) {
  if (e.ids.size() <= n) return;
  e.ids.resize(n);
  e.offsets.resize(n * 2);
  if (!e.tokens.empty()) e.tokens.resize(n);
}

}  // namespace

void Tokenizer::assemble(Encoding* a, Encoding* b, const EncodeOptions& opts, Encoding& out) const {
  const bool is_pair = b != nullptr;
  const size_t n_special = opts.add_special_tokens ? num_special_tokens(is_pair) : 0;
  const size_t total = a->ids.size() + (b ? b->ids.size() : 0);
  out.untruncated_length = total + n_special;
  if (opts.max_length > 0) {
    const size_t max_len = opts.max_length > n_special ? opts.max_length - n_special : 0;
    if (total > max_len) {
      out.truncated = true;
      if (!is_pair) {
        truncate_to(*a, max_len);
      } else {
        // Longest first, as tokenizers' truncate_encodings computes it (on sequences already cut
        // near max_length, see encode_sequence).
        size_t n1 = a->ids.size(), n2 = b->ids.size();
        const bool swap = n1 > n2;
        if (swap) std::swap(n1, n2);
        n2 = n1 > max_len ? n1 : std::max(n1, max_len - n1);
        if (n1 + n2 > max_len) {
          n1 = max_len / 2;
          n2 = n1 + max_len % 2;
        }
        if (swap) std::swap(n1, n2);
        truncate_to(*a, n1);
        truncate_to(*b, n2);
      }
    }
  }
  const bool with_tokens = opts.with_tokens;
  for (const TemplatePiece& p : is_pair ? config_.pair : config_.single) {
    if (p.is_sequence) {
      if (p.sequence != 0 && b == nullptr) continue;  // lib/ refuses such a template; never read a missing B
      const Encoding& src = p.sequence == 0 ? *a : *b;
      out.ids.insert(out.ids.end(), src.ids.begin(), src.ids.end());
      out.offsets.insert(out.offsets.end(), src.offsets.begin(), src.offsets.end());
      out.type_ids.insert(out.type_ids.end(), src.ids.size(), p.type_id);
      out.special_tokens_mask.insert(out.special_tokens_mask.end(), src.ids.size(), 0);
      if (with_tokens) out.tokens.insert(out.tokens.end(), src.tokens.begin(), src.tokens.end());
    } else if (opts.add_special_tokens) {
      for (size_t i = 0; i < p.ids.size(); ++i) {
        out.ids.push_back(p.ids[i]);
        out.offsets.push_back(0);
        out.offsets.push_back(0);
        out.type_ids.push_back(p.type_id);
        out.special_tokens_mask.push_back(1);
        if (with_tokens) out.tokens.push_back(p.tokens[i]);
      }
    }
  }
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& opts) const {
  Encoding a, out;
  encode_sequence(text, opts.with_tokens, opts.max_length, a);
  assemble(&a, nullptr, opts, out);
  return out;
}

Encoding Tokenizer::encode_pair(std::string_view text_a, std::string_view text_b, const EncodeOptions& opts) const {
  Encoding a, b, out;
  encode_sequence(text_a, opts.with_tokens, opts.max_length, a);
  encode_sequence(text_b, opts.with_tokens, opts.max_length, b);
  assemble(&a, &b, opts, out);
  return out;
}

namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// The WordPiece decoder's cleanup of tokenization artifacts, applied per token as tokenizers does.
void cleanup(std::string& s) {
  replace_all(s, " .", ".");
  replace_all(s, " ?", "?");
  replace_all(s, " !", "!");
  replace_all(s, " ,", ",");
  replace_all(s, " ' ", "'");
  replace_all(s, " n't", "n't");
  replace_all(s, " 'm", "'m");
  replace_all(s, " do not", " don't");
  replace_all(s, " 's", "'s");
  replace_all(s, " 've", "'ve");
  replace_all(s, " 're", "'re");
}

}  // namespace

std::string Tokenizer::decode(const int32_t* ids, size_t n, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto added = impl_->added_by_id.find(ids[i]);
    if (added != impl_->added_by_id.end()) {
      const AddedToken& t = config_.added_tokens[added->second];
      if (skip_special_tokens && t.special) continue;
      tokens.push_back(t.content);
      continue;
    }
    if (ids[i] < 0 || static_cast<size_t>(ids[i]) >= config_.vocab.size()) continue;
    const std::string& tok = config_.vocab[static_cast<size_t>(ids[i])];
    if (!tok.empty()) tokens.push_back(tok);
  }
  std::string out;
  if (config_.metaspace_decoder) {
    // tokenizers' Metaspace decoder: the replacement back to a space, but dropped in the first token
    // when the scheme prepends one.
    std::vector<char32_t> cps;
    for (size_t i = 0; i < tokens.size(); ++i) {
      cps.clear();
      unicode::decode_utf8(tokens[i], cps);
      for (char32_t c : cps) {
        if (c != config_.metaspace_decoder_replacement) {
          unicode::append_utf8(out, c);
        } else if (i != 0 || !config_.metaspace_decoder_prepend) {
          out.push_back(' ');
        }
      }
    }
    return out;
  }
  if (!config_.wordpiece_decoder) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out.push_back(' ');
      out += tokens[i];
    }
    return out;
  }
  const std::string& prefix = config_.decoder_prefix;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string tok = std::move(tokens[i]);
    if (i != 0) {
      if (!prefix.empty() && tok.compare(0, prefix.size(), prefix) == 0) {
        tok.erase(0, prefix.size());
      } else {
        tok.insert(tok.begin(), ' ');
      }
    }
    if (config_.decoder_cleanup) cleanup(tok);
    out += tok;
  }
  return out;
}

void pad_encoding(const TokenizerConfig& config, Encoding& enc, size_t length, std::vector<uint8_t>& attention) {
  const size_t n = enc.ids.size();
  attention.assign(std::max(n, length), 0);
  std::fill(attention.begin(), attention.begin() + static_cast<long>(n), 1);
  if (length <= n) return;
  enc.ids.resize(length, config.pad_id);
  enc.type_ids.resize(length, config.pad_type_id);
  enc.offsets.resize(length * 2, 0);
  enc.special_tokens_mask.resize(length, 1);
  if (!enc.tokens.empty()) enc.tokens.resize(length, config.pad_token);
}

std::vector<std::string> read_vocab_txt(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> vocab;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    vocab.push_back(line);
  }
  return vocab;
}

}  // namespace embedrt
