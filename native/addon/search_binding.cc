// N-API surface of the similarity / search / quantization kernels. lib/search.ts validated the
// arguments' shapes and options; the values (NaN, ±Infinity) are checked here, on the worker, so a
// large corpus is never scanned on the JS thread. Input typed arrays are pinned for the job's life
// (napi_util.h: embedrt's own results shared, other buffers copied) and every shape is checked against
// its array's length again here; results are external ArrayBuffers.
#include "search_binding.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "napi_util.h"
#include "promise_worker.h"
#include "search.h"
#include "simd.h"

namespace embedrt {
namespace {

// Runs work() on a libuv worker, then done(env) on the JS thread. The inputs it reads are Pinned
// (captured by work), so they stay valid whatever JS does with its buffers meanwhile.
class JobWorker : public PromiseWorker {
 public:
  JobWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done)
      : PromiseWorker(env, "embedrt:search"), work_(std::move(work)), done_(std::move(done)) {}

 private:
  void work() override {
    work_();
    work_ = nullptr;  // releases the pinned inputs now
  }
  Napi::Value result(Napi::Env env) override { return done_(env); }

  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> done_;
};

Napi::Value queue(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> done) {
  return (new JobWorker(env, std::move(work), std::move(done)))->start();
}

// A count argument (topK): a non-negative integer.
size_t arg_count(const Napi::Value& v, const char* what) {
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    throw CodedError("E_BAD_INPUT", std::string(what) + " must be a non-negative integer");
  }
  return static_cast<size_t>(d);
}

// The caller's name for an argument (e.g. "similarity: a"), used in error messages.
std::string arg_label(const Napi::Value& v, const char* fallback) {
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(fallback);
}

// A float matrix argument: data (a Float32Array), rows and dim, pinned for the job.
struct PinnedMatrix {
  Pinned memory;
  MatrixView view;
};

PinnedMatrix pin_matrix(Napi::Env env, const Napi::Value& data, const Napi::Value& rows, const Napi::Value& dim,
                        const std::string& label) {
  if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw CodedError("E_BAD_INPUT", label + ": expected a Float32Array");
  }
  PinnedMatrix m;
  m.memory = pin(env, data, shape_size(rows, dim, label), label);
  m.view = MatrixView{m.memory.as<float>(), static_cast<size_t>(rows.As<Napi::Number>().DoubleValue()),
                      static_cast<size_t>(dim.As<Napi::Number>().DoubleValue())};
  return m;
}

Score arg_score(const Napi::Value& v) {
  const int32_t s = v.As<Napi::Number>().Int32Value();
  if (s < 0 || s > 2) throw CodedError("E_BAD_INPUT", "unknown score function");
  return static_cast<Score>(s);
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
    const std::string la = arg_label(info[6], "similarity: a"), lb = arg_label(info[7], "similarity: b");
    const PinnedMatrix a = pin_matrix(env, info[0], info[1], info[4], la);
    const PinnedMatrix b = pin_matrix(env, info[2], info[3], info[4], lb);
    const Score score = arg_score(info[5]);
    auto out = std::make_shared<std::vector<float, ResultAllocator<float>>>(shape_size(info[1], info[3], "similarity"));
    return queue(env,
                 [=] {
                   require_finite(a.view, la);
                   require_finite(b.view, lb);
                   similarity_matrix(a.view, b.view, score, out->data());
                 },
                 [out](Napi::Env e) -> Napi::Value { return to_typed_array(e, std::move(*out)); });
  });
}

// semanticSearch(q, qRows, c, cRows, dim, topK, score, labelQ?, labelC?): Promise<{ids, scores, counts}>
Napi::Value SemanticSearch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const std::string lq = arg_label(info[7], "semanticSearch: queries"), lc = arg_label(info[8], "semanticSearch: corpus");
    const PinnedMatrix q = pin_matrix(env, info[0], info[1], info[4], lq);
    const PinnedMatrix c = pin_matrix(env, info[2], info[3], info[4], lc);
    const size_t k = arg_count(info[5], "topK");
    const Score score = arg_score(info[6]);
    auto hits = std::make_shared<std::vector<std::vector<Hit>>>();
    return queue(env,
                 [=] {
                   require_finite(q.view, lq);
                   bool odd = false;  // a NaN / infinite score: then look for the corpus value behind it
                   *hits = top_k_search(q.view, c.view, k, score, &odd);
                   if (odd) require_finite(c.view, lc);
                 },
                 [hits](Napi::Env e) -> Napi::Value { return hits_to_js(e, *hits); });
  });
}

// uint8 rows as the int8 rows they score as: v - 128, which is v with its top bit flipped.
std::vector<int8_t> shifted_to_int8(const uint8_t* p, size_t n) {
  std::vector<int8_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<int8_t>(p[i] ^ 0x80u);
  return out;
}

// searchQuantized(q, qRows, c, cRows, width, k, kind, rescore | null): Promise<{ids, scores, counts}>;
// q and c are Int8Array or Uint8Array of rows × width bytes; kind 0 int8, 1 uint8, 2 binary. The k best
// candidates by quantized score, or, with rescore = { queries, corpus, dim, topK, score } (float
// matrices of the same rows), the rescore.topK best of them by float score. All of it on the worker.
Napi::Value SearchQuantized(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const Pinned q = pin(env, info[0], shape_size(info[1], info[4], "semanticSearchQuantized: queries"), "semanticSearchQuantized: queries");
    const Pinned c = pin(env, info[2], shape_size(info[3], info[4], "semanticSearchQuantized: corpus"), "semanticSearchQuantized: corpus");
    const size_t nq = arg_count(info[1], "rows"), nc = arg_count(info[3], "rows"), width = arg_count(info[4], "width"),
                 k = arg_count(info[5], "topK");
    const int kind = info[6].As<Napi::Number>().Int32Value();
    if (kind < 0 || kind > 2) throw CodedError("E_BAD_INPUT", "semanticSearchQuantized: unknown kind");
    struct Rescore {
      PinnedMatrix queries, corpus;
      size_t top_k;
      Score score;
      std::string lq, lc;
    };
    std::shared_ptr<const Rescore> rs;
    if (info[7].IsObject()) {
      Napi::Object o = info[7].As<Napi::Object>();
      const Napi::Value dim = o.Get("dim");
      const std::string lq = "semanticSearchQuantized: rescore.queries", lc = "semanticSearchQuantized: rescore.corpus";
      rs = std::make_shared<const Rescore>(Rescore{pin_matrix(env, o.Get("queries"), info[1], dim, lq), pin_matrix(env, o.Get("corpus"), info[3], dim, lc),
                                                   arg_count(o.Get("topK"), "rescore.topK"), arg_score(o.Get("score")), lq, lc});
    }
    auto hits = std::make_shared<std::vector<std::vector<Hit>>>();
    return queue(env,
                 [=] {
                   if (rs) {
                     require_finite(rs->queries.view, rs->lq);
                     require_finite(rs->corpus.view, rs->lc);
                   }
                   if (kind == 2) {
                     *hits = top_k_binary(q.as<uint8_t>(), nq, c.as<uint8_t>(), nc, width, k);
                   } else if (kind == 1) {
                     const std::vector<int8_t> qs = shifted_to_int8(q.as<uint8_t>(), nq * width), cs = shifted_to_int8(c.as<uint8_t>(), nc * width);
                     *hits = top_k_int8(qs.data(), nq, cs.data(), nc, width, k);
                   } else {
                     *hits = top_k_int8(q.as<int8_t>(), nq, c.as<int8_t>(), nc, width, k);
                   }
                   if (rs) *hits = rescore(rs->queries.view, rs->corpus.view, *hits, rs->top_k, rs->score);
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
    const std::string le = arg_label(info[7], "quantizeEmbeddings: embeddings"),
                      lc = arg_label(info[8], "quantizeEmbeddings: calibration");
    const PinnedMatrix e = pin_matrix(env, info[0], info[1], info[2], le);
    const int32_t precision = info[3].As<Napi::Number>().Int32Value();
    if (precision < 0 || precision > 3) throw CodedError("E_BAD_INPUT", "quantizeEmbeddings: unknown precision");
    const Precision p = static_cast<Precision>(precision);
    const bool ranged = p == Precision::Int8 || p == Precision::Uint8;
    const bool given = info[4].IsTypedArray();
    const Pinned ranges = given ? pin(env, info[4], 2 * e.view.dim, "quantizeEmbeddings: ranges") : Pinned();
    const bool calibrated = info[5].IsTypedArray();
    const PinnedMatrix cal = calibrated ? pin_matrix(env, info[5], info[6], info[2], lc) : PinnedMatrix{};
    const size_t width = ranged ? e.view.dim : (e.view.dim + 7) / 8;
    auto out = std::make_shared<std::vector<uint8_t, ResultAllocator<uint8_t>>>(e.view.rows * width);
    return queue(env,
                 [=] {
                   require_finite(e.view, le);
                   std::vector<float> computed;
                   if (ranged && !given) {
                     if (calibrated) require_finite(cal.view, lc);
                     computed.resize(2 * e.view.dim);
                     column_ranges(calibrated ? cal.view : e.view, computed.data());
                   }
                   quantize(e.view, p, given ? ranges.as<float>() : computed.data(), out->data());
                 },
                 [out](Napi::Env en) -> Napi::Value { return to_typed_array(en, std::move(*out)); });
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
  exports.Set("simdPath", Napi::Function::New(env, SimdPath, "simdPath"));
  export_raw(env, exports, "cosine", pair_score<true>);
  export_raw(env, exports, "dot", pair_score<false>);
  exports.Set("setSimdPath", Napi::Function::New(env, SetSimdPath, "setSimdPath"));
}

}  // namespace embedrt
