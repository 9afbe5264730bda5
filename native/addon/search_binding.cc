// N-API surface of the similarity / search / quantization kernels. lib/search.ts validated the
// arguments' shapes and options; the values (NaN, ±Infinity) are checked here, on the worker, so a
// large corpus is never scanned on the JS thread. Input typed arrays are pinned (referenced) for the job's life and read
// in place on a worker thread; results are external ArrayBuffers.
#include "search_binding.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "napi_util.h"
#include "search.h"
#include "simd.h"

namespace embedrt {
namespace {

// Runs work() on a libuv worker, then done(env) on the JS thread; keeps `pins` alive until then.
class JobWorker : public Napi::AsyncWorker {
 public:
  JobWorker(Napi::Env env, std::vector<Napi::Value> pins, std::function<void()> work,
            std::function<Napi::Value(Napi::Env)> done)
      : Napi::AsyncWorker(env, "embedrt:search"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        done_(std::move(done)) {
    for (Napi::Value& v : pins) {
      if (v.IsObject()) pins_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    }
  }
  Napi::Promise promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      work_();
    } catch (const CodedError& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = "E_NO_MEMORY";
      SetError("out of memory");
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }
  void OnOK() override {
    try {
      deferred_.Resolve(done_(Env()));
    } catch (...) {
      deferred_.Reject(error_from_current_exception(Env()).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(make_error(Env(), code_, e.Message()).Value()); }

 private:
  std::string code_ = "E_INTERNAL";
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> pins_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
};

Napi::Value queue(Napi::Env env, std::vector<Napi::Value> pins, std::function<void()> work,
                  std::function<Napi::Value(Napi::Env)> done) {
  auto* w = new JobWorker(env, std::move(pins), std::move(work), std::move(done));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

size_t arg_size(const Napi::Value& v) { return static_cast<size_t>(v.As<Napi::Number>().Int64Value()); }

// The caller's name for an argument (e.g. "similarity: a"), used in error messages.
std::string arg_label(const Napi::Value& v, const char* fallback) {
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(fallback);
}

// E_BAD_INPUT naming the first NaN or ±Infinity of m, if any (run on the worker).
void require_finite(const MatrixView& m, const std::string& label) {
  const size_t n = m.rows * m.dim;
  const size_t i = first_non_finite(m.data, n);
  if (i == n) return;
  const float v = m.data[i];
  const char* what = std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
  throw CodedError("E_BAD_INPUT", label + ": row " + std::to_string(i / m.dim) + ", dimension " + std::to_string(i % m.dim) +
                                      " is " + what);
}

Napi::Object hits_to_js(Napi::Env env, std::vector<std::vector<Hit>>& hits) {
  std::vector<uint32_t> ids, counts;
  std::vector<float> scores;
  for (auto& row : hits) {
    counts.push_back(static_cast<uint32_t>(row.size()));
    for (const Hit& h : row) {
      ids.push_back(h.id);
      scores.push_back(h.score);
    }
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ids", to_typed_array(env, std::move(ids)));
  out.Set("scores", to_typed_array(env, std::move(scores)));
  out.Set("counts", to_typed_array(env, std::move(counts)));
  return out;
}

// similarity(a, aRows, b, bRows, dim, score, labelA?, labelB?): Promise<Float32Array>
Napi::Value Similarity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    MatrixView a{info[0].As<Napi::Float32Array>().Data(), arg_size(info[1]), arg_size(info[4])};
    MatrixView b{info[2].As<Napi::Float32Array>().Data(), arg_size(info[3]), arg_size(info[4])};
    const Score score = static_cast<Score>(info[5].As<Napi::Number>().Int32Value());
    const std::string la = arg_label(info[6], "similarity: a"), lb = arg_label(info[7], "similarity: b");
    auto out = std::make_shared<std::vector<float, ResultAllocator<float>>>(a.rows * b.rows);
    return queue(env, {info[0], info[2]},
                 [=] {
                   require_finite(a, la);
                   require_finite(b, lb);
                   similarity_matrix(a, b, score, out->data());
                 },
                 [out](Napi::Env e) -> Napi::Value { return to_typed_array(e, std::move(*out)); });
  });
}

// semanticSearch(q, qRows, c, cRows, dim, topK, score, labelQ?, labelC?): Promise<{ids, scores, counts}>
Napi::Value SemanticSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    MatrixView q{info[0].As<Napi::Float32Array>().Data(), arg_size(info[1]), arg_size(info[4])};
    MatrixView c{info[2].As<Napi::Float32Array>().Data(), arg_size(info[3]), arg_size(info[4])};
    const size_t k = arg_size(info[5]);
    const Score score = static_cast<Score>(info[6].As<Napi::Number>().Int32Value());
    const std::string lq = arg_label(info[7], "semanticSearch: queries"), lc = arg_label(info[8], "semanticSearch: corpus");
    auto hits = std::make_shared<std::vector<std::vector<Hit>>>();
    return queue(env, {info[0], info[2]},
                 [=] {
                   require_finite(q, lq);
                   bool odd = false;  // a NaN / infinite score: then look for the corpus value behind it
                   *hits = top_k_search(q, c, k, score, &odd);
                   if (odd) require_finite(c, lc);
                 },
                 [hits](Napi::Env e) -> Napi::Value { return hits_to_js(e, *hits); });
  });
}

// searchQuantized(q, qRows, c, cRows, width, topK, binary): Promise<{ids, scores, counts}>
Napi::Value SearchQuantized(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const auto* q = static_cast<const uint8_t*>(info[0].As<Napi::TypedArray>().ArrayBuffer().Data()) +
                    info[0].As<Napi::TypedArray>().ByteOffset();
    const auto* c = static_cast<const uint8_t*>(info[2].As<Napi::TypedArray>().ArrayBuffer().Data()) +
                    info[2].As<Napi::TypedArray>().ByteOffset();
    const size_t nq = arg_size(info[1]), nc = arg_size(info[3]), width = arg_size(info[4]), k = arg_size(info[5]);
    const bool binary = info[6].As<Napi::Boolean>().Value();
    auto hits = std::make_shared<std::vector<std::vector<Hit>>>();
    return queue(env, {info[0], info[2]},
                 [=] {
                   *hits = binary ? top_k_binary(q, nq, c, nc, width, k)
                                  : top_k_int8(reinterpret_cast<const int8_t*>(q), nq, reinterpret_cast<const int8_t*>(c), nc, width, k);
                 },
                 [hits](Napi::Env e) -> Napi::Value { return hits_to_js(e, *hits); });
  });
}

// quantize(emb, rows, dim, precision, ranges | null, calibration | null, calibrationRows, label?,
// calibrationLabel?): Promise<Uint8Array> (bytes; lib/ views them as Int8 where signed). int8/uint8
// without ranges take each dimension's min and max from the calibration set, else the embeddings.
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    MatrixView e{info[0].As<Napi::Float32Array>().Data(), arg_size(info[1]), arg_size(info[2])};
    const Precision p = static_cast<Precision>(info[3].As<Napi::Number>().Int32Value());
    const float* given = info[4].IsTypedArray() ? info[4].As<Napi::Float32Array>().Data() : nullptr;
    const bool calibrated = info[5].IsTypedArray();
    const MatrixView cal{calibrated ? info[5].As<Napi::Float32Array>().Data() : e.data, calibrated ? arg_size(info[6]) : e.rows, e.dim};
    const std::string le = arg_label(info[7], "quantizeEmbeddings: embeddings"),
                      lc = arg_label(info[8], "quantizeEmbeddings: calibration");
    const bool ranged = p == Precision::Int8 || p == Precision::Uint8;
    const size_t width = ranged ? e.dim : e.dim / 8;
    auto out = std::make_shared<std::vector<uint8_t, ResultAllocator<uint8_t>>>(e.rows * width);
    return queue(env, {info[0], info[4], info[5]},
                 [=] {
                   require_finite(e, le);
                   std::vector<float> ranges;
                   if (ranged && !given) {
                     if (calibrated) require_finite(cal, lc);
                     ranges.resize(2 * e.dim);
                     column_ranges(cal, ranges.data());
                   }
                   quantize(e, p, given ? given : ranges.data(), out->data());
                 },
                 [out](Napi::Env en) -> Napi::Value { return to_typed_array(en, std::move(*out)); });
  });
}

// checkFinite(data, rows, dim, label): Promise<void>, rejected with E_BAD_INPUT at the first NaN or ±Infinity.
Napi::Value CheckFinite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const MatrixView m{info[0].As<Napi::Float32Array>().Data(), arg_size(info[1]), arg_size(info[2])};
    const std::string label = arg_label(info[3], "embeddings");
    return queue(env, {info[0]}, [=] { require_finite(m, label); }, [](Napi::Env e) -> Napi::Value { return e.Undefined(); });
  });
}

// cosine(a, b) / dot(a, b): one pair, synchronously. Raw Node-API on this hot path: a call costs a
// few hundred nanoseconds, most of it crossing the boundary (lib/search.ts checked the arguments).
bool float_array(napi_env env, napi_value v, const float** data, size_t* length) {
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok || type != napi_float32_array) return false;
  *data = static_cast<const float*>(ptr);
  return true;
}

template <bool Cosine>
napi_value pair_score(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  const float *a = nullptr, *b = nullptr;
  size_t na = 0, nb = 0;
  if (argc < 2 || !float_array(env, argv[0], &a, &na) || !float_array(env, argv[1], &b, &nb) || na != nb) {
    napi_throw_type_error(env, "E_BAD_INPUT", "expected two Float32Arrays of equal length");
    return nullptr;
  }
  const simd::Kernels& k = simd::kernels();
  double result;
  if (Cosine) {
    float s[3];
    k.dot3(a, b, na, s);
    result = static_cast<double>(s[0]) / (std::max(std::sqrt(static_cast<double>(s[1])), 1e-12) *
                                          std::max(std::sqrt(static_cast<double>(s[2])), 1e-12));
  } else {
    result = k.dot(a, b, na);
  }
  napi_value out;
  napi_create_double(env, result, &out);
  return out;
}

void export_raw(Napi::Env env, Napi::Object exports, const char* name, napi_callback cb) {
  napi_value fn;
  NAPI_THROW_IF_FAILED_VOID(env, napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn));
  exports.Set(name, Napi::Value(env, fn));
}

Napi::Value SimdPath(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), simd::path_name(simd::active_path()));
}

// setSimdPath(name): whether this CPU runs it (then it is active).
Napi::Value SetSimdPath(const Napi::CallbackInfo& info) {
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  for (simd::Path p : {simd::Path::Scalar, simd::Path::Avx2, simd::Path::Avx512, simd::Path::Neon}) {
    if (name == simd::path_name(p)) return Napi::Boolean::New(info.Env(), simd::set_path(p));
  }
  return Napi::Boolean::New(info.Env(), false);
}

}  // namespace

void register_search(Napi::Env env, Napi::Object exports) {
  exports.Set("similarity", Napi::Function::New(env, Similarity, "similarity"));
  exports.Set("semanticSearch", Napi::Function::New(env, SemanticSearch, "semanticSearch"));
  exports.Set("searchQuantized", Napi::Function::New(env, SearchQuantized, "searchQuantized"));
  exports.Set("quantize", Napi::Function::New(env, Quantize, "quantize"));
  exports.Set("checkFinite", Napi::Function::New(env, CheckFinite, "checkFinite"));
  exports.Set("simdPath", Napi::Function::New(env, SimdPath, "simdPath"));
  export_raw(env, exports, "cosine", pair_score<true>);
  export_raw(env, exports, "dot", pair_score<false>);
  exports.Set("setSimdPath", Napi::Function::New(env, SetSimdPath, "setSimdPath"));
}

}  // namespace embedrt
