#pragma once

#include <napi.h>

namespace embedrt {

// Registers the NativeModel class (ONNX Runtime session + encode pipeline) on exports.
void register_model(Napi::Env env, Napi::Object exports);

}  // namespace embedrt
