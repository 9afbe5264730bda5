#pragma once

#include <napi.h>

namespace embedrt {

// Registers the NativeTokenizer class on exports.
void register_tokenizer(Napi::Env env, Napi::Object exports);

}  // namespace embedrt
