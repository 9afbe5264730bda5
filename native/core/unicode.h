// Unicode facts the BERT tokenizer needs, from utf8proc's tables, except where Hugging Face tokenizers'
// own (older) tables differ: those ranges are generated into unicode_legacy.inc by scripts/unicode/.
// Plus UTF-8 and UTF-16 conversion. Definitions follow Hugging Face tokenizers' BertNormalizer and BertPreTokenizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace embedrt::unicode {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes UTF-8; each malformed sequence becomes one U+FFFD (as Rust's from_utf8_lossy does).
void decode_utf8(std::string_view in, std::vector<char32_t>& out);
// Appends the UTF-8 encoding of one code point.
void append_utf8(std::string& out, char32_t cp);
// UTF-16 (a JS string's code units) to UTF-8; a lone surrogate becomes U+FFFD, as V8 does.
void utf16_to_utf8(const char16_t* in, size_t len, std::string& out);

// Rust's char::is_whitespace: the Unicode White_Space property.
bool is_whitespace(char32_t c);
// BertNormalizer's whitespace: \t \n \r and White_Space.
bool is_bert_whitespace(char32_t c);
// BertNormalizer's control: general category C* except \t \n \r.
bool is_bert_control(char32_t c);
// BertPreTokenizer's punctuation: ASCII punctuation or general category P*.
bool is_bert_punctuation(char32_t c);
// BertNormalizer's "chinese character": the CJK ideograph blocks it lists.
bool is_cjk_ideograph(char32_t c);
// General category Mn.
bool is_nonspacing_mark(char32_t c);
// Canonical combining class.
int combining_class(char32_t c);
// Full canonical decomposition of one code point (recursive; Hangul included), appended to out.
void canonical_decompose(char32_t c, std::vector<char32_t>& out);
// Canonical ordering, as NFD applies it after decomposing: each run of combining marks (class != 0)
// sorted by class, stably, in O(n log n); flags[i] travels with chars[i]. `run` is scratch space.
void canonical_order(std::vector<char32_t>& chars, std::vector<uint8_t>& flags, std::vector<std::pair<int, size_t>>& run);
// Full lowercase mapping of one code point (UnicodeData simple mapping plus SpecialCasing's one
// unconditional multi-character lowercase entry, U+0130), appended to out.
void to_lowercase(char32_t c, std::vector<char32_t>& out);

// Whether an extended grapheme cluster (UAX #29) ends between a and b. `state` carries the rules
// that look further back: 0 at a text's start, then passed to every call in order.
bool grapheme_break(char32_t a, char32_t b, int32_t* state);

// The Unicode version of the tables.
const char* data_version();

}  // namespace embedrt::unicode
