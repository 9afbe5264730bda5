#include "sentencepiece.h"

#include <algorithm>
#include <stdexcept>

#include "unicode.h"

namespace embedrt {

void AlignedText::assign(const char32_t* cps, size_t n, uint32_t first) {
  chars.assign(cps, cps + n);
  begin.resize(n);
  end.resize(n);
  for (size_t i = 0; i < n; ++i) {
    begin[i] = first + static_cast<uint32_t>(i);
    end[i] = begin[i] + 1;
  }
  base = first;
}

void transform(AlignedText& text, const std::vector<CharChange>& dest, size_t initial_offset, AlignedText& out) {
  const size_t n = text.size();
  size_t p = std::min(initial_offset, n);  // the next original char a non-inserted char replaces
  out.clear();
  out.base = text.base;
  for (const CharChange& d : dest) {
    uint32_t b = text.base, e = text.base;
    if (d.change > 0) {
      if (p > 0) b = text.begin[p - 1], e = text.end[p - 1];  // inserted: the previous char's alignment
    } else if (p < n) {
      b = text.begin[p], e = text.end[p];
      ++p;
    } else if (n > 0) {
      b = text.begin[n - 1], e = text.end[n - 1];  // (tokenizers would index past its end here)
    }
    if (d.change < 0) p = std::min(n, p + static_cast<size_t>(-static_cast<int64_t>(d.change)));
    out.chars.push_back(d.c);
    out.begin.push_back(b);
    out.end.push_back(e);
  }
  std::swap(text, out);
}

namespace {

bool valid_utf8(std::string_view s) {
  std::vector<char32_t> cps;
  unicode::decode_utf8(s, cps);
  std::string back;
  for (char32_t c : cps) unicode::append_utf8(back, c);
  return back == s;
}

// tokenizers' precompiled replace(): the new chars replace the old one for one; extra new chars are
// inserted (change 1); fewer new chars fold the difference into the last change written, which may be
// an earlier grapheme's char.
void push_replacement(std::vector<CharChange>& dest, size_t old_count, std::string_view replacement, std::vector<char32_t>& tmp) {
  tmp.clear();
  unicode::decode_utf8(replacement, tmp);
  for (char32_t c : tmp) dest.push_back({c, 0});
  const int64_t diff = static_cast<int64_t>(tmp.size()) - static_cast<int64_t>(old_count);
  if (diff > 0) {
    for (size_t k = 0; k < static_cast<size_t>(diff); ++k) dest[dest.size() - 1 - k].change = 1;
  } else if (diff < 0 && !dest.empty()) {
    dest.back().change += static_cast<int32_t>(diff);
  }
}

// NormalizedString::lrstrip: the leading chars removed up front, the trailing ones by the last kept char.
void strip(AlignedText& text, bool left, bool right, AlignedText& scratch) {
  const size_t n = text.size();
  size_t leading = 0, trailing = 0;
  if (left) {
    while (leading < n && unicode::is_whitespace(text.chars[leading])) ++leading;
  }
  if (right) {
    while (trailing < n && unicode::is_whitespace(text.chars[n - 1 - trailing])) ++trailing;
  }
  if (leading == 0 && trailing == 0) return;
  std::vector<CharChange> dest;
  dest.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (i < leading || i >= n - trailing) continue;
    dest.push_back({text.chars[i], i == n - trailing - 1 ? -static_cast<int32_t>(trailing) : 0});
  }
  transform(text, dest, leading, scratch);
}

// NormalizedString::replace: each match (leftmost, not overlapping) becomes the content, every char of
// which is inserted after the match's removal, so aligned with the match's last char.
void replace(AlignedText& text, const SpNormalizerStep& step, AlignedText& out) {
  const size_t n = text.size();
  const std::u32string& pat = step.pattern;
  if (pat.empty()) return;
  out.clear();
  out.base = text.base;
  size_t i = 0;
  bool any = false;
  auto copy = [&](size_t k) {
    out.chars.push_back(text.chars[k]);
    out.begin.push_back(text.begin[k]);
    out.end.push_back(text.end[k]);
  };
  while (i < n) {
    size_t match = 0;
    if (step.min_repeat > 0) {
      size_t run = 0;
      while (i + run < n && text.chars[i + run] == pat[0]) ++run;
      if (run >= step.min_repeat) {
        match = run;
      } else if (run > 0) {
        for (size_t k = 0; k < run; ++k) copy(i + k);
        i += run;
        continue;
      }
    } else if (n - i >= pat.size() && std::equal(pat.begin(), pat.end(), text.chars.begin() + static_cast<std::ptrdiff_t>(i))) {
      match = pat.size();
    }
    if (match == 0) {
      copy(i++);
      continue;
    }
    any = true;
    const size_t last = i + match - 1;
    for (char32_t c : step.content) {
      out.chars.push_back(c);
      out.begin.push_back(text.begin[last]);
      out.end.push_back(text.end[last]);
    }
    i += match;
  }
  if (any) std::swap(text, out);
}

// darts-clone's unit layout.
bool has_leaf(uint32_t u) { return ((u >> 8) & 1) != 0; }
uint32_t unit_value(uint32_t u) { return u & 0x7FFFFFFFu; }
uint32_t unit_label(uint32_t u) { return u & (0x80000000u | 0xFFu); }
uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

}  // namespace

PrecompiledCharsmap::PrecompiledCharsmap(std::string_view blob) {
  if (blob.size() < 4) throw std::invalid_argument("the precompiled_charsmap is shorter than its header");
  uint32_t trie_bytes = 0;
  for (int k = 3; k >= 0; --k) trie_bytes = (trie_bytes << 8) | static_cast<uint8_t>(blob[static_cast<size_t>(k)]);
  const size_t units = trie_bytes / 4;
  if (units == 0 || units > (blob.size() - 4) / 4) throw std::invalid_argument("the precompiled_charsmap's trie size does not fit the blob");
  units_.resize(units);
  for (size_t i = 0; i < units; ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(blob.data() + 4 + 4 * i);
    units_[i] = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
  }
  normalized_ = std::string(blob.substr(4 + 4 * units));
  if (!valid_utf8(normalized_)) throw std::invalid_argument("the precompiled_charsmap's replacements are not UTF-8");
  for (int c = 1; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    std::string_view r;
    ascii_[c].found = transform_trie(std::string_view(&ch, 1), r);
    ascii_[c].replacement = std::string(r);
  }
}

bool PrecompiledCharsmap::transform(std::string_view chunk, std::string_view& out) const {
  if (chunk.size() == 1 && static_cast<unsigned char>(chunk[0]) < 0x80) {
    const AsciiRule& rule = ascii_[static_cast<unsigned char>(chunk[0])];
    out = rule.replacement;
    return rule.found;
  }
  return transform_trie(chunk, out);
}

bool PrecompiledCharsmap::transform_trie(std::string_view chunk, std::string_view& out) const {
  size_t pos = unit_offset(units_[0]);
  for (char ch : chunk) {
    const auto c = static_cast<uint8_t>(ch);
    if (c == 0) return false;
    pos ^= c;
    if (pos >= units_.size()) return false;
    const uint32_t unit = units_[pos];
    if (unit_label(unit) != c) return false;
    pos ^= unit_offset(unit);
    if (has_leaf(unit)) {
      if (pos >= units_.size()) return false;
      const size_t index = unit_value(units_[pos]);
      if (index > normalized_.size()) return false;
      const size_t nul = normalized_.find('\0', index);
      out = std::string_view(normalized_).substr(index, nul == std::string::npos ? std::string::npos : nul - index);
      return true;
    }
  }
  return false;
}

void PrecompiledCharsmap::normalize(AlignedText& text, AlignedText& scratch) const {
  const std::vector<char32_t>& cs = text.chars;
  const size_t n = cs.size();
  // Reused per thread: tokenization runs on every native thread, and allocating per text contends.
  thread_local std::vector<CharChange> dest;
  thread_local std::vector<char32_t> tmp;
  thread_local std::string bytes;
  dest.clear();
  std::string_view out;
  bool modified = false;
  int32_t state = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && !unicode::grapheme_break(cs[j - 1], cs[j], &state)) ++j;
    bytes.clear();
    for (size_t k = i; k < j; ++k) unicode::append_utf8(bytes, cs[k]);
    if (bytes.size() < 6 && transform(bytes, out)) {
      push_replacement(dest, j - i, out, tmp);
      modified = true;
    } else if (j == i + 1) {
      dest.push_back({cs[i], 0});  // one char, just looked up
    } else {
      for (size_t k = i; k < j; ++k) {
        bytes.clear();
        unicode::append_utf8(bytes, cs[k]);
        if (transform(bytes, out)) {
          push_replacement(dest, 1, out, tmp);
          modified = true;
        } else {
          dest.push_back({cs[k], 0});
        }
      }
    }
    i = j;
  }
  if (modified) embedrt::transform(text, dest, 0, scratch);
}

SpNormalizer::SpNormalizer(const std::vector<SpNormalizerStep>& steps) {
  for (const SpNormalizerStep& s : steps) {
    Step step{&s, {}};
    if (s.kind == SpNormalizerStep::kPrecompiled) step.charsmap.emplace_back(s.charsmap);
    steps_.push_back(std::move(step));
  }
}

void SpNormalizer::normalize(AlignedText& text, AlignedText& scratch) const {
  for (const Step& s : steps_) {
    switch (s.spec->kind) {
      case SpNormalizerStep::kPrecompiled:
        s.charsmap.front().normalize(text, scratch);
        break;
      case SpNormalizerStep::kStrip:
        strip(text, s.spec->left, s.spec->right, scratch);
        break;
      case SpNormalizerStep::kReplace:
        replace(text, *s.spec, scratch);
        break;
    }
  }
}

UnigramModel::UnigramModel(const std::vector<std::string>& pieces, const std::vector<double>& scores, int32_t unk_id)
    : scores_(scores), unk_id_(unk_id) {
  scores_.resize(pieces.size(), 0.0);
  double min_score = 0.0;
  for (size_t i = 0; i < scores_.size(); ++i) min_score = i == 0 ? scores_[i] : std::min(min_score, scores_[i]);
  unk_score_ = min_score - 10.0;  // sentencepiece's kUnkPenalty
  std::vector<uint32_t> order;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (!pieces[i].empty()) order.push_back(static_cast<uint32_t>(i));
  }
  // By bytes, then id: of equal pieces the last id is the one a lookup finds (tokenizers' map keeps it).
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const int c = pieces[a].compare(pieces[b]);
    return c != 0 ? c < 0 : a < b;
  });
  struct Task {
    uint32_t node;
    size_t lo, hi, depth;
  };
  std::vector<Task> tasks{{0, 0, order.size(), 0}};
  node_id_.push_back(-1);
  for (size_t t = 0; t < tasks.size(); ++t) {
    Task task = tasks[t];
    first_.push_back(static_cast<uint32_t>(edge_to_.size()));
    while (task.lo < task.hi && pieces[order[task.lo]].size() == task.depth) node_id_[task.node] = static_cast<int32_t>(order[task.lo++]);
    size_t g = task.lo;
    while (g < task.hi) {
      const uint8_t byte = static_cast<uint8_t>(pieces[order[g]][task.depth]);
      size_t h = g + 1;
      while (h < task.hi && static_cast<uint8_t>(pieces[order[h]][task.depth]) == byte) ++h;
      const auto child = static_cast<uint32_t>(node_id_.size());
      node_id_.push_back(-1);
      edge_byte_.push_back(byte);
      edge_to_.push_back(child);
      tasks.push_back({child, g, h, task.depth + 1});
      g = h;
    }
  }
  first_.push_back(static_cast<uint32_t>(edge_to_.size()));
  for (uint32_t e = first_[0]; e < first_[1]; ++e) root_[edge_byte_[e]] = edge_to_[e];
}

uint32_t UnigramModel::child(uint32_t node, uint8_t byte) const {
  if (node == 0) return root_[byte];
  const auto lo = edge_byte_.begin() + first_[node], hi = edge_byte_.begin() + first_[node + 1];
  const auto it = std::lower_bound(lo, hi, byte);
  return it != hi && *it == byte ? edge_to_[static_cast<size_t>(it - edge_byte_.begin())] : 0;
}

// tokenizers' Unigram::encode_optimized: for each char boundary, the best path ending there; ties keep
// the first candidate found (shorter pieces first).
void UnigramModel::tokenize(std::string_view word, std::vector<Piece>& out) const {
  const size_t size = word.size();
  if (size == 0) return;
  struct Best {
    int32_t id = 0;
    double score = 0.0;
    int64_t start = -1;
  };
  thread_local std::vector<Best> best;
  best.assign(size + 1, Best{});
  auto offer = [&](size_t at, int32_t id, double score, size_t start) {
    Best& b = best[at];
    if (b.start < 0 || score > b.score) b = {id, score, static_cast<int64_t>(start)};
  };
  size_t start = 0;
  while (start < size) {
    const double here = best[start].score;
    const auto lead = static_cast<uint8_t>(word[start]);
    const size_t mblen = std::min(size - start, static_cast<size_t>(lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4));
    bool single = false;
    uint32_t node = 0;
    for (size_t k = start; k < size; ++k) {
      node = child(node, static_cast<uint8_t>(word[k]));
      if (node == 0) break;
      const int32_t id = node_id_[node];
      if (id < 0) continue;
      offer(k + 1, id, scores_[static_cast<size_t>(id)] + here, start);
      if (k + 1 - start == mblen) single = true;
    }
    if (!single) offer(start + mblen, unk_id_, unk_score_ + here, start);
    start += mblen;
  }
  // Back from the end; consecutive unknowns become one token.
  const size_t first = out.size();
  size_t end = size;
  while (end > 0) {
    const Best& b = best[end];
    const auto s = static_cast<uint32_t>(b.start);
    if (b.id == unk_id_ && out.size() > first && out.back().id == unk_id_ && out.back().begin == end) {
      out.back().begin = s;
    } else {
      out.push_back({b.id, s, static_cast<uint32_t>(end)});
    }
    end = s;
  }
  std::reverse(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
}

}  // namespace embedrt
