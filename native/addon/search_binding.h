#pragma once

#include <napi.h>

namespace embedrt {

// Registers similarity, semanticSearch, quantize and the SIMD path controls on exports.
void register_search(Napi::Env env, Napi::Object exports);

}  // namespace embedrt
