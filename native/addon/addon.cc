// Registers the N-API surface. Each concern lives in its own file; this one only wires them up.
#include <napi.h>

#include "cpu_features.h"
#include "ort_runtime.h"
#include "napi_util.h"
#include "model_binding.h"
#include "search_binding.h"
#include "tokenizer_binding.h"
#include "unicode.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace embedrt {
namespace {

Napi::Array to_js_array(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array out = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) out.Set(static_cast<uint32_t>(i), items[i]);
  return out;
}

Napi::Value RuntimeInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    RuntimeInfo rt = runtime_info();
    Napi::Object out = Napi::Object::New(env);
    out.Set("version", EMBEDRT_VERSION);
    out.Set("ortVersion", rt.ort_version);
    out.Set("ortApiVersion", rt.ort_api_version);
    out.Set("providers", to_js_array(env, rt.providers));
    out.Set("compiledProviders", to_js_array(env, rt.compiled_providers));
    out.Set("ortLibrary", rt.library_path);
    out.Set("ortLibraryDir", rt.library_dir);
    out.Set("simd", simd_level_name(detect_simd_level()));
    out.Set("napiVersion", NAPI_VERSION);
    out.Set("unicodeVersion", unicode::data_version());
    return out;
  });
}

// tuneMalloc(arenas, mmapThreshold): glibc's malloc for a long-running server, for the rest of the
// process — at most `arenas` arenas (M_ARENA_MAX: threads otherwise each grow one that keeps the pages
// freed there) and blocks of `mmapThreshold` bytes or more always mapped on their own and returned when
// freed (M_MMAP_THRESHOLD, which also stops glibc raising it as large blocks come and go). False where
// the C library is not glibc or it refuses.
Napi::Value TuneMallocJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
#if defined(__GLIBC__)
    const int arenas = info[0].As<Napi::Number>().Int32Value();
    const int threshold = info[1].As<Napi::Number>().Int32Value();
    const bool ok = arenas > 0 && threshold > 0 && mallopt(M_ARENA_MAX, arenas) == 1 && mallopt(M_MMAP_THRESHOLD, threshold) == 1;
    return Napi::Boolean::New(env, ok);
#else
    (void)info;
    return Napi::Boolean::New(env, false);
#endif
  });
}

}  // namespace
}  // namespace embedrt

static Napi::Object InitEmbedrt(Napi::Env env, Napi::Object exports) {
  exports.Set("runtimeInfo", Napi::Function::New(env, embedrt::RuntimeInfoJs, "runtimeInfo"));
  exports.Set("tuneMalloc", Napi::Function::New(env, embedrt::TuneMallocJs, "tuneMalloc"));
  embedrt::register_tokenizer(env, exports);
  embedrt::register_model(env, exports);
  embedrt::register_search(env, exports);
  return exports;
}

NODE_API_MODULE(embedrt, InitEmbedrt)
