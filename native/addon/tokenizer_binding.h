#pragma once

#include <napi.h>

#include <memory>

#include "tokenizer.h"

namespace embedrt {

// Registers the NativeTokenizer class on exports.
void register_tokenizer(Napi::Env env, Napi::Object exports);

// The tokenizer inside a NativeTokenizer object (throws a TypeError for anything else).
std::shared_ptr<const Tokenizer> tokenizer_of(const Napi::Value& value);

}  // namespace embedrt
