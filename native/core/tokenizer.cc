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
  std::vector<char32_t> tmp;
  std::string word;
  std::vector<uint32_t> bounds;
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
};

Tokenizer::Tokenizer(TokenizerConfig config) : config_(std::move(config)), impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  const std::string& prefix = config_.continuing_subword_prefix;
  m.vocab.reserve(config_.vocab.size());
  for (size_t id = 0; id < config_.vocab.size(); ++id) {
    const std::string& tok = config_.vocab[id];
    if (tok.empty()) continue;
    m.vocab.emplace(tok, static_cast<int32_t>(id));
    m.max_piece_bytes = std::max(m.max_piece_bytes, tok.size());
    if (!prefix.empty() && tok.size() > prefix.size() && tok.compare(0, prefix.size(), prefix) == 0) {
      std::string_view rest(tok);
      rest.remove_prefix(prefix.size());
      m.continuing.emplace(rest, static_cast<int32_t>(id));
      m.max_continuing_bytes = std::max(m.max_continuing_bytes, rest.size());
    }
  }
  for (size_t i = 0; i < config_.added_tokens.size(); ++i) {
    const AddedToken& t = config_.added_tokens[i];
    m.added_by_id.emplace(t.id, i);
    m.added_by_content.emplace(t.content, t.id);
    if (t.content.empty()) continue;
    std::vector<char32_t> cps;
    unicode::decode_utf8(t.content, cps);
    Impl::Match match{std::u32string(cps.begin(), cps.end()), i};
    if (t.normalized && config_.normalize) {
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

std::string Tokenizer::id_to_token(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  if (it != impl_->added_by_id.end()) return config_.added_tokens[it->second].content;
  if (id >= 0 && static_cast<size_t>(id) < config_.vocab.size()) return config_.vocab[static_cast<size_t>(id)];
  return "";
}

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

void Tokenizer::encode_sequence(std::string_view text, bool with_tokens, size_t token_limit, Encoding& out) const {
  const Impl& m = *impl_;
  const AsciiTables& at = ascii();
  Scratch& s = scratch();
  s.cps.clear();
  unicode::decode_utf8(text, s.cps);
  const std::vector<char32_t>& cps = s.cps;

  auto push_token = [&](int32_t id, uint32_t begin, uint32_t end, const std::string* token) {
    out.ids.push_back(id);
    out.offsets.push_back(begin);
    out.offsets.push_back(end);
    if (with_tokens) out.tokens.push_back(token ? *token : id_to_token(id));
  };

  // Leftmost-longest matching of added tokens in a code point sequence.
  auto match_added = [&](const std::vector<Impl::Match>& list, const char32_t* seq, size_t n,
                         auto&& on_text, auto&& on_added) {
    size_t text_begin = 0;
    size_t i = 0;
    while (i < n) {
      const Impl::Match* best = nullptr;
      for (const Impl::Match& cand : list) {
        const size_t len = cand.content.size();
        if (len > n - i || (best && len <= best->content.size())) continue;
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
      on_added(b, e, best->index);
      text_begin = e;
      i = e;
    }
    if (text_begin < n) on_text(text_begin, n);
  };

  // Normalizes cps[b, e) into s.norm with the original index of every normalized char in s.origin.
  auto normalize = [&](size_t b, size_t e) {
    s.norm.clear();
    s.origin.clear();
    bool all_ascii = true;
    for (size_t i = b; i < e; ++i) {
      char32_t c = cps[i];
      if (config_.normalize && config_.clean_text) {
        if (c < 0x80) {
          const uint8_t k = at.clean[c];
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
        s.norm.insert(s.norm.end(), {U' ', c, U' '});
        s.origin.insert(s.origin.end(), {o, o, o});
      } else {
        s.norm.push_back(c);
        s.origin.push_back(o);
      }
    }
    if (!config_.normalize) return;
    if (config_.strip_accents && !all_ascii) {
      // NFD, then drop non-spacing marks. tokenizers aligns the NFD output positionally: each char
      // that begins a source char's decomposition takes the next source char's alignment, the rest
      // share the previous one's, and canonical reordering moves chars but not alignments.
      s.norm2.clear();
      s.first.clear();
      for (size_t i = 0; i < s.norm.size(); ++i) {
        s.tmp.clear();
        unicode::canonical_decompose(s.norm[i], s.tmp);
        for (size_t k = 0; k < s.tmp.size(); ++k) {
          s.norm2.push_back(s.tmp[k]);
          s.first.push_back(k == 0 ? 1 : 0);
        }
      }
      unicode::canonical_order(s.norm2, s.first, s.marks);
      s.origin2.clear();
      size_t next = 0;
      for (size_t i = 0; i < s.norm2.size(); ++i) {
        if (s.first[i]) {
          s.origin2.push_back(s.origin[next++]);
        } else {
          s.origin2.push_back(next > 0 ? s.origin[next - 1] : s.origin[0]);
        }
      }
      s.norm.clear();
      s.origin.clear();
      for (size_t i = 0; i < s.norm2.size(); ++i) {
        if (unicode::is_nonspacing_mark(s.norm2[i])) continue;
        s.norm.push_back(s.norm2[i]);
        s.origin.push_back(s.origin2[i]);
      }
    }
    if (config_.lowercase) {
      if (all_ascii) {
        for (char32_t& c : s.norm) {
          if (c >= 'A' && c <= 'Z') c += 32;
        }
      } else {
        s.norm2.clear();
        s.origin2.clear();
        for (size_t i = 0; i < s.norm.size(); ++i) {
          s.tmp.clear();
          unicode::to_lowercase(s.norm[i], s.tmp);
          for (char32_t d : s.tmp) {
            s.norm2.push_back(d);
            s.origin2.push_back(s.origin[i]);
          }
        }
        s.norm.swap(s.norm2);
        s.origin.swap(s.origin2);
      }
    }
  };

  // With truncation on, tokenizers stops a sequence early: after each word, once the sequence
  // holds max_length tokens (added tokens included), the rest of the text is dropped. (The word that
  // crosses the limit stays whole, and the first word after an added token is always taken.) That
  // never drops a token truncation would keep, but it decides which of a pair counts as longer.
  // Measured against tokenizers 0.23 (see test/tokenizer/differential.test.ts).
  bool done = false;

  // WordPiece on norm[b, e).
  auto word_piece_impl = [&](size_t b, size_t e) {
    const size_t n = e - b;
    const uint32_t word_begin = s.origin[b];
    const uint32_t word_end = s.origin[e - 1] + 1;
    if (n > config_.max_input_chars_per_word) {
      push_token(config_.unk_id, word_begin, word_end, nullptr);
      return;
    }
    s.word.clear();
    s.bounds.clear();
    for (size_t i = b; i < e; ++i) {
      s.bounds.push_back(static_cast<uint32_t>(s.word.size()));
      unicode::append_utf8(s.word, s.norm[i]);
    }
    s.bounds.push_back(static_cast<uint32_t>(s.word.size()));
    const size_t first = out.ids.size();
    size_t start = 0;
    while (start < n) {
      const auto& map = start == 0 ? m.vocab : m.continuing;
      const size_t limit = start == 0 ? m.max_piece_bytes : m.max_continuing_bytes;
      int32_t found = -1;
      // Longest first, from the longest piece the vocabulary could hold (not from the word's end: a
      // long word would make this quadratic).
      size_t end = static_cast<size_t>(std::upper_bound(s.bounds.begin() + static_cast<std::ptrdiff_t>(start), s.bounds.begin() + static_cast<std::ptrdiff_t>(n + 1),
                                                        s.bounds[start] + limit) - s.bounds.begin()) - 1;
      for (; end > start; --end) {
        const size_t len = s.bounds[end] - s.bounds[start];
        auto it = map.find(std::string_view(s.word).substr(s.bounds[start], len));
        if (it != map.end()) {
          found = it->second;
          break;
        }
      }
      if (found < 0) {
        // No piece fits: the whole word is the unknown token.
        out.ids.resize(first);
        out.offsets.resize(first * 2);
        if (with_tokens) out.tokens.resize(first);
        push_token(config_.unk_id, word_begin, word_end, nullptr);
        return;
      }
      push_token(found, s.origin[b + start], s.origin[b + end - 1] + 1, with_tokens ? &config_.vocab[static_cast<size_t>(found)] : nullptr);
      start = end;
    }
  };
  auto word_piece = [&](size_t b, size_t e) {
    if (done) return;
    word_piece_impl(b, e);
    done = token_limit > 0 && out.ids.size() >= token_limit;
  };

  // BertPreTokenizer on norm[b, e): split on whitespace (removed) and punctuation (isolated).
  auto pre_tokenize = [&](size_t b, size_t e) {
    if (!config_.pre_tokenize) {
      if (e > b) word_piece(b, e);
      return;
    }
    size_t word = b;
    for (size_t i = b; i < e; ++i) {
      const char32_t c = s.norm[i];
      const bool space = c < 0x80 ? at.split[c] : unicode::is_whitespace(c);
      const bool punct = !space && (c < 0x80 ? at.punct[c] : unicode::is_bert_punctuation(c));
      if (space || punct) {
        if (i > word) word_piece(word, i);
        if (punct) word_piece(i, i + 1);
        word = i + 1;
      }
    }
    if (e > word) word_piece(word, e);
  };

  auto emit_added = [&](size_t index, uint32_t begin, uint32_t end) {
    if (done) return;
    const AddedToken& t = config_.added_tokens[index];
    push_token(t.id, begin, end, &t.content);
  };

  auto on_raw_text = [&](size_t b, size_t e) {
    normalize(b, e);
    if (m.normalized_added.empty()) {
      pre_tokenize(0, s.norm.size());
      return;
    }
    match_added(
        m.normalized_added, s.norm.data(), s.norm.size(), [&](size_t nb, size_t ne) { pre_tokenize(nb, ne); },
        [&](size_t nb, size_t ne, size_t index) { emit_added(index, s.origin[nb], s.origin[ne - 1] + 1); });
  };

  if (m.raw_added.empty()) {
    on_raw_text(0, cps.size());
  } else {
    match_added(
        m.raw_added, cps.data(), cps.size(), on_raw_text,
        [&](size_t b, size_t e, size_t index) { emit_added(index, static_cast<uint32_t>(b), static_cast<uint32_t>(e)); });
  }
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
