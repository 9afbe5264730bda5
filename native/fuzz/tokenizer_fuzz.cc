// libFuzzer target: any bytes, as text (and optionally a pair), under every option combination.
// Checks the invariants every encoding must hold; ASan/UBSan catch memory and UB errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../tests/test_support.h"
#include "tokenizer.h"
#include "unicode.h"

namespace {

const embedrt::Tokenizer& tokenizer() {
  static embedrt::Tokenizer* tok =
      new embedrt::Tokenizer(embedrt::testing::bert_uncased_config(embedrt::testing::bge_vocab_path()));
  return *tok;
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_encoding(const embedrt::Encoding& e, size_t limit, size_t a_len, size_t b_len) {
  check(e.offsets.size() == 2 * e.ids.size());
  check(e.type_ids.size() == e.ids.size() && e.special_tokens_mask.size() == e.ids.size());
  if (limit) check(e.ids.size() <= limit);
  const size_t vocab = tokenizer().vocab_size();
  for (size_t i = 0; i < e.ids.size(); ++i) {
    check(e.ids[i] >= 0 && static_cast<size_t>(e.ids[i]) < vocab);
    check(e.offsets[2 * i] <= e.offsets[2 * i + 1]);
    check(e.offsets[2 * i + 1] <= (e.type_ids[i] == 0 ? a_len : b_len));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  embedrt::EncodeOptions opts;
  opts.add_special_tokens = (flags & 1) != 0;
  opts.with_tokens = (flags & 2) != 0;
  opts.max_length = (flags & 4) ? 3 + (flags >> 4) : 0;
  std::vector<char32_t> cps;
  if (flags & 8) {
    const size_t cut = rest.find('\x1f');
    std::string_view a = rest.substr(0, cut), b = cut == std::string_view::npos ? "" : rest.substr(cut + 1);
    embedrt::unicode::decode_utf8(a, cps);
    const size_t a_len = cps.size();
    cps.clear();
    embedrt::unicode::decode_utf8(b, cps);
    check_encoding(tokenizer().encode_pair(a, b, opts), opts.max_length, a_len, cps.size());
  } else {
    embedrt::unicode::decode_utf8(rest, cps);
    const embedrt::Encoding e = tokenizer().encode(rest, opts);
    check_encoding(e, opts.max_length, cps.size(), cps.size());
    (void)tokenizer().decode(e.ids.data(), e.ids.size(), (flags & 16) != 0);
  }
  std::string utf8;
  std::u16string u16(reinterpret_cast<const char16_t*>(data), size / 2);
  embedrt::unicode::utf16_to_utf8(u16.data(), u16.size(), utf8);
  return 0;
}
