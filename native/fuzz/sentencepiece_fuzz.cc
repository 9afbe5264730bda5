// libFuzzer target: the SentencePiece pipeline on untrusted bytes — a precompiled charsmap (its
// double-array trie walked for every grapheme cluster, its replacements cut at NULs) and a text through
// the normalizers, Metaspace and Unigram. Input: [flags][text length, u16 LE][text][charsmap]. The
// seed (scripts/native-tests.sh writes it) holds the generated XLM-RoBERTa-style tokenizer's real
// charsmap, so mutations start from a valid trie. Checks the invariants every encoding must hold;
// ASan/UBSan catch memory and UB errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tokenizer.h"
#include "unicode.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

embedrt::TokenizerConfig config(uint8_t flags, std::string_view charsmap) {
  embedrt::TokenizerConfig c;
  c.normalize = c.clean_text = c.handle_chinese_chars = c.strip_accents = c.lowercase = c.pre_tokenize = false;
  c.unigram = true;
  c.vocab = {"<s>", "<pad>", "</s>", "<unk>", "\xE2\x96\x81", "\xE2\x96\x81" "the", "\xE2\x96\x81" "a", "a", "b", "e", "x", "\xC3\xA9", "ab", "abc", "\xE2\x96\x81\xE2\x96\x81", "", "x"};
  c.scores = {0, 0, 0, 0, -2, -3, -3.5, -4, -4, -4, -4, -5, -6, -7, -8, -1, -9};
  c.unk_id = 3;
  embedrt::SpNormalizerStep pre;
  pre.kind = embedrt::SpNormalizerStep::kPrecompiled;
  pre.charsmap = std::string(charsmap);
  c.sp_normalizer.push_back(pre);
  if (flags & 1) {
    embedrt::SpNormalizerStep strip;
    strip.kind = embedrt::SpNormalizerStep::kStrip;
    strip.left = (flags & 16) != 0;
    strip.right = true;
    c.sp_normalizer.push_back(strip);
  }
  if (flags & 2) {
    embedrt::SpNormalizerStep rep;
    rep.kind = embedrt::SpNormalizerStep::kReplace;
    rep.pattern = U" ";
    rep.min_repeat = 2;
    rep.content = U"\u2581";
    c.sp_normalizer.push_back(rep);
  }
  c.metaspace = true;
  c.metaspace_prepend = (flags & 4) != 0;
  c.metaspace_split = (flags & 8) == 0;
  c.metaspace_decoder = true;
  int32_t id = 0;
  for (const char* t : {"<s>", "<pad>", "</s>", "<unk>"}) {
    embedrt::AddedToken a;
    a.content = t;
    a.id = id++;
    a.special = true;
    c.added_tokens.push_back(a);
  }
  embedrt::AddedToken mask;
  mask.content = "<mask>";
  mask.id = 17;
  mask.special = mask.normalized = mask.lstrip = true;
  c.added_tokens.push_back(mask);
  embedrt::TemplatePiece s, a, e;
  s.ids = {0};
  s.tokens = {"<s>"};
  a.is_sequence = true;
  e.ids = {2};
  e.tokens = {"</s>"};
  c.single = {s, a, e};
  c.pair = {s, a, e, e, a, e};
  c.pair[4].sequence = 1;
  c.pad_id = 1;
  c.pad_token = "<pad>";
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const size_t len = std::min<size_t>(static_cast<size_t>(data[1]) | static_cast<size_t>(data[2]) << 8, size - 3);
  const std::string_view text(reinterpret_cast<const char*>(data + 3), len);
  const std::string_view charsmap(reinterpret_cast<const char*>(data + 3 + len), size - 3 - len);
  std::unique_ptr<embedrt::Tokenizer> tok;
  try {
    tok = std::make_unique<embedrt::Tokenizer>(config(flags, charsmap));
  } catch (const std::invalid_argument&) {
    return 0;  // not a charsmap: lib/ refuses it before it gets here
  }
  embedrt::EncodeOptions opts;
  opts.with_tokens = (flags & 32) != 0;
  opts.max_length = (flags & 64) ? 5 : 0;
  std::vector<char32_t> cps;
  embedrt::unicode::decode_utf8(text, cps);
  const embedrt::Encoding e = (flags & 128) ? tok->encode_pair(text, text, opts) : tok->encode(text, opts);
  check(e.offsets.size() == 2 * e.ids.size() && e.type_ids.size() == e.ids.size());
  if (opts.max_length) check(e.ids.size() <= opts.max_length);
  for (size_t i = 0; i < e.ids.size(); ++i) {
    check(e.ids[i] >= 0 && static_cast<size_t>(e.ids[i]) < tok->vocab_size());
    // (tokenizers' alignments can run backwards after some charsmap rules, so begin ≤ end is not promised)
    check(e.offsets[2 * i] <= cps.size() && e.offsets[2 * i + 1] <= cps.size());
  }
  (void)tok->decode(e.ids.data(), e.ids.size(), (flags & 16) != 0);
  return 0;
}
