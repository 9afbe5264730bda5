// The SentencePiece side of the tokenizer (XLM-RoBERTa and its kin), as Hugging Face `tokenizers` runs
// it from a tokenizer.json: the normalizers (Precompiled charsmap, Strip, Replace) over a text that
// keeps each char's alignment to the original, the Metaspace pre-tokenizer, and the Unigram model.
// Alignments follow tokenizers' NormalizedString::transform rules exactly, quirks included, since the
// offsets users see come from them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace embedrt {

// A normalized text: each char with the [begin, end) range of original chars it came from.
struct AlignedText {
  std::vector<char32_t> chars;
  std::vector<uint32_t> begin, end;
  uint32_t base = 0;  // the original position of the text's start (an inserted first char's alignment)

  void assign(const char32_t* cps, size_t n, uint32_t first);  // original chars first, first + 1, ...
  void clear() { chars.clear(), begin.clear(), end.clear(); }
  size_t size() const { return chars.size(); }
};

// One char of a transformation, as tokenizers' NormalizedString::transform takes it: change 0 replaces
// the next original char, 1 is inserted (aligned with the char before), -N replaces one and removes N.
struct CharChange {
  char32_t c;
  int32_t change;
};

// Applies a transformation to the whole text, the first `initial_offset` chars removed.
void transform(AlignedText& text, const std::vector<CharChange>& dest, size_t initial_offset, AlignedText& scratch);

// One step of a normalizer Sequence.
struct SpNormalizerStep {
  enum Kind { kPrecompiled, kStrip, kReplace } kind = kPrecompiled;
  std::string charsmap;         // kPrecompiled: the decoded precompiled_charsmap
  bool left = false, right = false;  // kStrip
  std::u32string pattern;       // kReplace: a literal, or (min_repeat > 0) one char repeated
  size_t min_repeat = 0;        //   at least this many times (a regex such as " {2,}")
  std::u32string content;       // kReplace: the replacement
};

// SentencePiece's precompiled charsmap: a darts-clone double-array trie over UTF-8 keys whose values
// index NUL-terminated replacements. Built from untrusted bytes: every read is bounds-checked.
class PrecompiledCharsmap {
 public:
  // Throws std::invalid_argument when the blob is not a charsmap.
  explicit PrecompiledCharsmap(std::string_view blob);
  // The replacement of the shortest key that prefixes `chunk` (false when none does).
  bool transform(std::string_view chunk, std::string_view& out) const;
  // tokenizers' Precompiled normalizer: each grapheme cluster under 6 bytes replaced whole when a key
  // prefixes it, otherwise each of its chars on its own.
  void normalize(AlignedText& text, AlignedText& scratch) const;

 private:
  // The replacement of each ASCII char alone (most text: one lookup, no trie walk).
  struct AsciiRule {
    bool found = false;
    std::string replacement;
  };
  bool transform_trie(std::string_view chunk, std::string_view& out) const;
  std::vector<uint32_t> units_;
  std::string normalized_;
  AsciiRule ascii_[128];
};

// The normalizer Sequence, each step as tokenizers applies it.
class SpNormalizer {
 public:
  explicit SpNormalizer(const std::vector<SpNormalizerStep>& steps);
  void normalize(AlignedText& text, AlignedText& scratch) const;
  bool empty() const { return steps_.empty(); }

 private:
  struct Step {
    const SpNormalizerStep* spec;
    std::vector<PrecompiledCharsmap> charsmap;  // one for kPrecompiled
  };
  std::vector<Step> steps_;
};

// The Unigram model: the most probable segmentation of a word (Viterbi over the pieces' log
// probabilities); a char no piece covers is the unknown token, consecutive unknowns fused.
class UnigramModel {
 public:
  struct Piece {
    int32_t id;
    uint32_t begin, end;  // bytes of the word
  };
  // pieces[id] with scores[id]; an empty piece is never matched.
  UnigramModel(const std::vector<std::string>& pieces, const std::vector<double>& scores, int32_t unk_id);
  void tokenize(std::string_view word, std::vector<Piece>& out) const;

 private:
  // A trie over the pieces' bytes: node n's children are edges [first_[n], first_[n + 1]), sorted by byte.
  std::vector<int32_t> node_id_;  // the piece a node spells, or -1
  std::vector<uint32_t> first_;
  std::vector<uint8_t> edge_byte_;
  std::vector<uint32_t> edge_to_;
  uint32_t root_[256] = {};  // the root's children by byte (the first step of every match)
  std::vector<double> scores_;
  int32_t unk_id_;
  double unk_score_;
  uint32_t child(uint32_t node, uint8_t byte) const;  // 0 when absent (the root is never a child)
};

}  // namespace embedrt
