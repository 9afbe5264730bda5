// Model-free properties of the native tokenizer. Id-for-id parity with Hugging Face tokenizers is
// tested differentially in test/tokenizer/differential.test.ts; these cover the C++ surface itself.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"
#include "thread_pool.h"
#include "tokenizer.h"
#include "unicode.h"

namespace embedrt {
namespace {

const Tokenizer& bge() {
  static Tokenizer* tok = new Tokenizer(testing::bert_uncased_config(testing::bge_vocab_path()));
  return *tok;
}

size_t code_points(const std::string& s) {
  std::vector<char32_t> cps;
  unicode::decode_utf8(s, cps);
  return cps.size();
}

TEST(Utf8, MalformedSequencesBecomeOneReplacementEachAsInTheUnicodeStandard) {
  // Unicode 15, section 3.9, Table 3-8: "U+FFFD for each maximal subpart".
  const std::string in = "\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64";
  std::vector<char32_t> out;
  unicode::decode_utf8(in, out);
  const std::vector<char32_t> expected = {0x61, 0xFFFD, 0xFFFD, 0xFFFD, 0x62, 0xFFFD, 0x63, 0xFFFD, 0xFFFD, 0x64};
  EXPECT_EQ(out, expected);
}

TEST(Utf16, LoneSurrogatesBecomeReplacementCharacters) {
  const char16_t in[] = {u'a', 0xD800, u'b', 0xD83D, 0xDE00, 0xDC00};
  std::string out;
  unicode::utf16_to_utf8(in, 6, out);
  EXPECT_EQ(out, "a\xEF\xBF\xBD" "b\xF0\x9F\x98\x80\xEF\xBF\xBD");
}

TEST(Tokenizer, AddsTemplateTokensAndKeepsOffsetsInRange) {
  const std::string text = "Revenue grew 12% in fiscal 2023, driven by Data Center.";
  Encoding e = bge().encode(text, EncodeOptions{});
  ASSERT_GE(e.ids.size(), 3u);
  EXPECT_EQ(bge().id_to_token(e.ids.front()), "[CLS]");
  EXPECT_EQ(bge().id_to_token(e.ids.back()), "[SEP]");
  const size_t n = code_points(text);
  for (size_t i = 0; i < e.ids.size(); ++i) {
    EXPECT_LE(e.offsets[2 * i], e.offsets[2 * i + 1]);
    EXPECT_LE(e.offsets[2 * i + 1], n);
  }
}

TEST(Tokenizer, TruncationKeepsSpecialTokensAndFlagsIt) {
  EncodeOptions opts;
  opts.max_length = 6;
  Encoding e = bge().encode("one two three four five six seven", opts);
  EXPECT_EQ(e.ids.size(), 6u);
  EXPECT_TRUE(e.truncated);
  EXPECT_EQ(bge().id_to_token(e.ids.back()), "[SEP]");
  Encoding pair = bge().encode_pair("one two three four", "five six seven eight", opts);
  EXPECT_EQ(pair.ids.size(), 6u);
  EXPECT_EQ(pair.type_ids.back(), 1u);
}

TEST(Tokenizer, DecodeJoinsWordPiecesBack) {
  Encoding e = bge().encode("tokenization works", EncodeOptions{});
  EXPECT_EQ(bge().decode(e.ids.data(), e.ids.size(), true), "tokenization works");
}

TEST(Tokenizer, SameResultOnManyThreads) {
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back("Text number " + std::to_string(i) + " naïve café 東京 ﬁ " + std::string(static_cast<size_t>(i % 50), 'x'));
  std::vector<Encoding> serial(texts.size()), parallel(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) serial[i] = bge().encode(texts[i], EncodeOptions{});
  ThreadPool pool(4);
  pool.parallel_for(texts.size(), [&](size_t i) { parallel[i] = bge().encode(texts[i], EncodeOptions{}); });
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(serial[i].ids, parallel[i].ids);
    EXPECT_EQ(serial[i].offsets, parallel[i].offsets);
  }
}

TEST(ThreadPool, RethrowsTheFirstFailure) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallel_for(100, [](size_t i) {
    if (i == 37) throw std::runtime_error("boom");
  }),
               std::runtime_error);
  std::atomic<int> sum{0};
  pool.parallel_for(1000, [&](size_t i) { sum += static_cast<int>(i); });
  EXPECT_EQ(sum.load(), 999 * 1000 / 2);
}

}  // namespace
}  // namespace embedrt

namespace embedrt {
namespace {

// The canonical ordering NFD specifies, done the obvious way: insert each mark behind the marks of a
// higher class (what the tokenizer did before; quadratic in a run of marks).
void insertion_order(std::vector<char32_t>& chars, std::vector<uint8_t>& flags) {
  std::vector<char32_t> c;
  std::vector<uint8_t> f;
  for (size_t i = 0; i < chars.size(); ++i) {
    const int cc = unicode::combining_class(chars[i]);
    size_t pos = c.size();
    while (cc != 0 && pos > 0) {
      const int prev = unicode::combining_class(c[pos - 1]);
      if (prev == 0 || prev <= cc) break;
      --pos;
    }
    c.insert(c.begin() + static_cast<std::ptrdiff_t>(pos), chars[i]);
    f.insert(f.begin() + static_cast<std::ptrdiff_t>(pos), flags[i]);
  }
  chars.swap(c);
  flags.swap(f);
}

TEST(CanonicalOrder, EqualsInsertionIntoPlaceOnRandomRunsOfMarks) {
  // Starters and marks of classes 220, 230, 202, 1, 216, 240 in random runs.
  const char32_t pool[] = {U'a', U'e', U' ', 0x0316, 0x0301, 0x0327, 0x0334, 0x031B, 0x0345, 0x0300, 0x0317};
  uint32_t x = 12345;
  auto next = [&] { return x = x * 1664525u + 1013904223u; };
  std::vector<std::pair<int, size_t>> scratch;
  for (int round = 0; round < 2000; ++round) {
    std::vector<char32_t> chars(next() % 40);
    std::vector<uint8_t> flags(chars.size());
    for (size_t i = 0; i < chars.size(); ++i) {
      chars[i] = pool[next() % (sizeof(pool) / sizeof(pool[0]))];
      flags[i] = static_cast<uint8_t>(next() % 2);
    }
    auto c1 = chars, c2 = chars;
    auto f1 = flags, f2 = flags;
    unicode::canonical_order(c1, f1, scratch);
    insertion_order(c2, f2);
    ASSERT_EQ(c1, c2);
    ASSERT_EQ(f1, f2);
  }
}

TEST(CanonicalOrder, AMegabyteOfAlternatingMarksTokenizesInLinearTime) {
  // 'a' + (U+0301 U+0316) × 256k: each insertion used to walk back over the whole run (112 s for
  // 256 KB, so about half an hour for 1 MB); sorted per run it is n log n: 0.14 s in a release build.
  // The bound leaves room for the sanitizer build (about 10× slower); test/robustness asserts under a
  // second on the release addon.
  std::string text = "a";
  for (int i = 0; i < 262144; ++i) text += "\xCC\x81\xCC\x96";
  const auto t0 = std::chrono::steady_clock::now();
  const Encoding e = bge().encode(text, EncodeOptions{});
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(e.ids.size(), 3u);  // [CLS] a [SEP]: the marks are stripped
  EXPECT_LT(s, 10.0);
}

}  // namespace
}  // namespace embedrt
