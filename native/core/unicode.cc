#include "unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <utility>

namespace embedrt::unicode {

namespace {

#include "unicode_legacy.inc"

template <size_t N>
bool in_ranges(const char32_t (&ranges)[N][2], char32_t c) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (c < ranges[mid][0]) {
      hi = mid;
    } else if (c > ranges[mid][1]) {
      lo = mid + 1;
    } else {
      return true;
    }
  }
  return false;
}

int range_value(const LegacyRange* ranges, size_t n, char32_t c) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (c < ranges[mid].first) {
      hi = mid;
    } else if (c > ranges[mid].last) {
      lo = mid + 1;
    } else {
      return ranges[mid].value;
    }
  }
  return 0;
}

const utf8proc_property_t* prop(char32_t c) {
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c));
}

bool is_surrogate(char32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

}  // namespace

void decode_utf8(std::string_view in, std::vector<char32_t>& out) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const size_t n = in.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char b0 = s[i];
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    // Maximal-subpart decoding (WHATWG / Rust from_utf8_lossy): one U+FFFD per invalid prefix.
    size_t need = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      need = 1; cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      need = 2; cp = b0 & 0x0Fu;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      need = 3; cp = b0 & 0x07u;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    size_t j = 1;
    for (; j <= need; ++j) {
      if (i + j >= n) break;
      const unsigned char b = s[i + j];
      if (b < lo || b > hi) break;
      lo = 0x80;
      hi = 0xBF;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (j == need + 1) {
      out.push_back(cp);
      i += j;
    } else {
      out.push_back(kReplacement);
      i += j;
    }
  }
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void utf16_to_utf8(const char16_t* in, size_t len, std::string& out) {
  out.reserve(out.size() + len);
  for (size_t i = 0; i < len; ++i) {
    char32_t c = in[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (static_cast<char32_t>(in[i + 1]) - 0xDC00);
      ++i;
    } else if (is_surrogate(c)) {
      c = kReplacement;
    }
    append_utf8(out, c);
  }
}

bool is_whitespace(char32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D)) return true;
  if (c < 0x80) return false;
  if (c == 0x85) return true;
  switch (prop(c)->category) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
      return true;
    default:
      return false;
  }
}

bool is_bert_whitespace(char32_t c) { return is_whitespace(c); }

bool grapheme_break(char32_t a, char32_t b, int32_t* state) {
  return utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b), state);
}

// tokenizers takes "control", "punctuation" and "non-spacing mark" from the unicode_categories crate,
// whose tables are Unicode 8.0; unicode_legacy.inc holds those categories (generated, see
// scripts/unicode/generate.sh). Whitespace and case come from Rust's std, current Unicode: utf8proc.
bool is_bert_control(char32_t c) {
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return in_ranges(kLegacyControl, c);
}

bool is_bert_punctuation(char32_t c) {
  if (c < 0x80) {
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
           (c >= 0x7B && c <= 0x7E);
  }
  return in_ranges(kLegacyPunctuation, c);
}

bool is_cjk_ideograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c) { return c >= 0x300 && in_ranges(kLegacyNonspacingMark, c); }

// Combining classes and decompositions as of Unicode 9.0, the tables of the normalization crate that
// tokenizers uses; utf8proc expands a decomposition that 9.0 already had (decompositions never change).
int combining_class(char32_t c) {
  if (c < 0x300) return 0;
  return range_value(kLegacyCombiningClass, sizeof(kLegacyCombiningClass) / sizeof(kLegacyCombiningClass[0]), c);
}

void canonical_decompose(char32_t c, std::vector<char32_t>& out) {
  const bool hangul_syllable = c >= 0xAC00 && c <= 0xD7A3;
  if (c < 0xC0 || (!hangul_syllable && !in_ranges(kLegacyCanonicalDecomposable, c))) {
    out.push_back(c);
    return;
  }
  utf8proc_int32_t buf[8];
  int boundclass = 0;
  const utf8proc_ssize_t n =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 8, UTF8PROC_DECOMPOSE, &boundclass);
  if (n <= 0 || n > 8) {
    out.push_back(c);
    return;
  }
  for (utf8proc_ssize_t i = 0; i < n; ++i) out.push_back(static_cast<char32_t>(buf[i]));
}

void to_lowercase(char32_t c, std::vector<char32_t>& out) {
  if (c < 0x80) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (c == 0x130) {  // SpecialCasing.txt: LATIN CAPITAL LETTER I WITH DOT ABOVE -> 0069 0307
    out.push_back(0x69);
    out.push_back(0x307);
    return;
  }
  out.push_back(static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
}

// Canonical ordering (Unicode's, as NFD applies it): every run of combining marks (class ≠ 0) is
// sorted by combining class, stably; `first` travels with its char. A stable sort per run gives what
// inserting each mark behind the marks of a higher class gives, in O(n log n) rather than O(n²) for a
// long run of marks.
void canonical_order(std::vector<char32_t>& chars, std::vector<uint8_t>& first, std::vector<std::pair<int, size_t>>& run) {
  const size_t n = chars.size();
  for (size_t b = 0; b < n;) {
    if (combining_class(chars[b]) == 0) {
      ++b;
      continue;
    }
    size_t e = b;
    run.clear();
    for (; e < n; ++e) {
      const int cc = combining_class(chars[e]);
      if (cc == 0) break;
      run.emplace_back(cc, e);
    }
    if (e - b > 1) {
      std::stable_sort(run.begin(), run.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      std::vector<char32_t> c(e - b);
      std::vector<uint8_t> f(e - b);
      for (size_t k = 0; k < run.size(); ++k) {
        c[k] = chars[run[k].second];
        f[k] = first[run[k].second];
      }
      std::copy(c.begin(), c.end(), chars.begin() + static_cast<std::ptrdiff_t>(b));
      std::copy(f.begin(), f.end(), first.begin() + static_cast<std::ptrdiff_t>(b));
    }
    b = e;
  }
}

const char* data_version() { return utf8proc_unicode_version(); }

}  // namespace embedrt::unicode
