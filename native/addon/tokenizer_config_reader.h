// Reading the tokenizer config lib/tokenizer-config.ts packs (a plain JS object) into the native
// TokenizerConfig, and the small property readers the tokenizer binding shares with it. lib/ has
// checked every field; what is read here is trusted but for sizes that bound reads.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "tokenizer.h"
#include "unicode.h"

namespace embedrt {

inline bool get_bool(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Boolean>().Value(); }
inline int64_t get_int(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::Number>().Int64Value(); }
inline std::string get_string(const Napi::Object& o, const char* key) { return o.Get(key).As<Napi::String>().Utf8Value(); }

inline std::string to_utf8(const std::u16string& s) {
  std::string out;
  unicode::utf16_to_utf8(s.data(), s.size(), out);
  return out;
}

// The config object NativeTokenizer and createTokenizer take (lib/tokenizer-json.ts's PackedTokenizerConfig).
TokenizerConfig read_tokenizer_config(Napi::Env env, const Napi::Object& o);

}  // namespace embedrt
