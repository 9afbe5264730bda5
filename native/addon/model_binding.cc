// N-API wrapper of an embedding model: an ONNX Runtime session plus the encode pipeline. Arguments
// were validated by lib/model.ts. encode runs on a libuv worker; its result is a zero-copy Float32Array.
#include "model_binding.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "embedder.h"
#include "napi_util.h"
#include "promise_worker.h"
#include "session.h"
#include "tokenizer_binding.h"
#include "unicode.h"

namespace embedrt {
namespace {

using CancelFlag = std::shared_ptr<std::atomic<bool>>;

EmbedOptions read_embed_options(const Napi::Object& o) {
  EmbedOptions e;
  e.max_length = static_cast<size_t>(o.Get("maxLength").As<Napi::Number>().Int64Value());
  e.batch_size = static_cast<size_t>(o.Get("batchSize").As<Napi::Number>().Int64Value());
  e.max_batch_tokens = static_cast<size_t>(o.Get("maxBatchTokens").As<Napi::Number>().Int64Value());
  Napi::Array modes = o.Get("pooling").As<Napi::Array>();
  e.pooling.clear();
  for (uint32_t i = 0; i < modes.Length(); ++i) {
    e.pooling.push_back(static_cast<PoolingMode>(modes.Get(i).As<Napi::Number>().Int32Value()));
  }
  e.normalize_module = o.Get("normalizeModule").As<Napi::Boolean>().Value();
  e.truncate_dim = static_cast<size_t>(o.Get("truncateDim").As<Napi::Number>().Int64Value());
  e.normalize = o.Get("normalize").As<Napi::Boolean>().Value();
  e.token_embeddings = o.Get("tokenEmbeddings").As<Napi::Boolean>().Value();
  return e;
}

struct ProgressData {
  size_t done, total;
};

void call_progress(Napi::Env env, Napi::Function fn, std::nullptr_t*, ProgressData* data) {
  std::unique_ptr<ProgressData> owned(data);
  if (env == nullptr || fn == nullptr || !can_run_js(env)) return;  // the environment is going away
  try {
    // lib/model.ts's wrapper catches what the user's callback throws; this only guards the crossing.
    fn.Call({Napi::Number::New(env, static_cast<double>(data->done)), Napi::Number::New(env, static_cast<double>(data->total))});
  } catch (...) {
  }
}

using ProgressTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, ProgressData, call_progress>;

// What an encode embeds: texts (UTF-16, as JavaScript holds them), text pairs, or token ids.
struct EncodeInput {
  std::vector<std::u16string> texts;
  std::vector<std::u16string> pairs;  // with pairs: texts[i]'s pair
  std::vector<std::vector<int32_t>> ids;
  bool from_ids = false;
  bool with_pairs = false;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, std::shared_ptr<const Tokenizer> tok, std::shared_ptr<const InferenceSession> session,
               EncodeInput input, EmbedOptions opts, CancelFlag cancel)
      : PromiseWorker(env, "embedrt:encode"),
        tok_(std::move(tok)),
        session_(std::move(session)),
        input_(std::move(input)),
        opts_(std::move(opts)),
        cancel_(std::move(cancel)) {}

  ~EncodeWorker() override {
    if (has_progress_) progress_.Release();
  }

  void set_progress(Napi::Env env, Napi::Function fn) {
    progress_ = ProgressTsfn::New(env, fn, "embedrt:progress", 0, 1);
    progress_.Unref(env);  // never keeps the process alive by itself
    has_progress_ = true;
  }

 private:
  void work() override {
    Progress progress;
    if (has_progress_) {
      progress = [this](size_t done, size_t total) { progress_.NonBlockingCall(new ProgressData{done, total}); };
    }
    if (input_.from_ids) {
      result_ = embed_ids(*session_, std::move(input_.ids), tok_->vocab_size(), opts_, progress, cancel_.get());
      return;
    }
    // An abort stops the conversion too (megabytes of text take a while), as it stops tokenization.
    const std::atomic<bool>* cancel = cancel_.get();
    const auto to_utf8 = [cancel](std::vector<std::u16string>& in) {
      std::vector<std::string> out(in.size());
      for (size_t i = 0; i < in.size(); ++i) {
        if (cancel && cancel->load(std::memory_order_relaxed)) throw Cancelled();
        unicode::utf16_to_utf8(in[i].data(), in[i].size(), out[i]);
        std::u16string().swap(in[i]);
      }
      in.clear();
      return out;
    };
    const std::vector<std::string> utf8 = to_utf8(input_.texts);
    if (input_.with_pairs) {
      const std::vector<std::string> pairs = to_utf8(input_.pairs);
      result_ = embed(*tok_, *session_, utf8, opts_, progress, cancel_.get(), &pairs);
      return;
    }
    result_ = embed(*tok_, *session_, utf8, opts_, progress, cancel_.get());
  }

  Napi::Value result(Napi::Env env) override {
    Napi::Object out = Napi::Object::New(env);
    out.Set("rows", static_cast<double>(result_.rows));
    out.Set("dim", static_cast<double>(result_.dim));
    out.Set("tokens", static_cast<double>(result_.tokens));
    out.Set("paddedTokens", static_cast<double>(result_.padded_tokens));
    out.Set("data", to_typed_array(env, std::move(result_.data)));
    out.Set("truncated", to_typed_array(env, std::move(result_.truncated)));
    if (!result_.offsets.empty()) out.Set("offsets", to_typed_array(env, std::move(result_.offsets)));
    return out;
  }

  std::shared_ptr<const Tokenizer> tok_;
  std::shared_ptr<const InferenceSession> session_;
  EncodeInput input_;
  EmbedOptions opts_;
  CancelFlag cancel_;
  ProgressTsfn progress_;
  bool has_progress_ = false;
  EmbedResult result_;
};

using SessionRef = std::shared_ptr<const InferenceSession>;

// Creates an ONNX Runtime session on a libuv worker (reading the graph, optimizing it, saving the
// optimized form: up to seconds for BERT-base); resolves with an External that NativeModel's
// constructor takes (moves out). An External nobody takes frees its session when it is collected.
class CreateSessionWorker : public PromiseWorker {
 public:
  CreateSessionWorker(Napi::Env env, SessionConfig config) : PromiseWorker(env, "embedrt:createSession"), config_(std::move(config)) {}

 private:
  void work() override { session_ = std::make_shared<const InferenceSession>(config_); }

  Napi::Value result(Napi::Env env) override {
    return Napi::External<SessionRef>::New(env, new SessionRef(std::move(session_)), [](Napi::Env, SessionRef* s) { delete s; });
  }

  SessionConfig config_;
  SessionRef session_;
};

class NativeModel : public Napi::ObjectWrap<NativeModel> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod<&NativeModel::encode>("encode"), InstanceMethod<&NativeModel::encode_pairs>("encodePairs"),
                        InstanceMethod<&NativeModel::encode_ids>("encodeIds"),
                        InstanceMethod<&NativeModel::info>("info"),
                        InstanceMethod<&NativeModel::dispose>("dispose"),
                        StaticMethod<&NativeModel::create_session>("createSession"),
                        StaticMethod<&NativeModel::create_cancel_flag>("createCancelFlag"),
                        StaticMethod<&NativeModel::cancel>("cancel")});
  }

  // new NativeModel(session from createSession, tokenizer)
  explicit NativeModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeModel>(info) {
    Napi::Env env = info.Env();
    try {
      if (!info[0].IsExternal()) throw CodedError("E_INTERNAL", "NativeModel: expected a session from createSession");
      // Taken, not copied: the External lives until the garbage collector finds it, and a copy left in
      // it kept the session (and its memory, a GPU's too) alive after dispose().
      session_ = std::move(*info[0].As<Napi::External<SessionRef>>().Data());
      if (!session_) throw CodedError("E_INTERNAL", "NativeModel: this session was already taken by another NativeModel");
      tok_ = tokenizer_of(info[1]);
    } catch (...) {
      throw error_from_current_exception(env);
    }
  }

 private:
  std::shared_ptr<const InferenceSession> live(Napi::Env env) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!session_) throw make_error(env, "E_DISPOSED", "the model was disposed; load it again to encode");
    return session_;
  }

  // encode(texts, options, onProgress | undefined, cancelFlag | undefined): Promise
  Napi::Value encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      auto session = live(env);
      EncodeInput input;
      input.texts = copy_texts(env, info[0]);
      return start_encode(info, 1, std::move(session), std::move(input));
    });
  }

  // encodePairs(texts, pairs, options, onProgress | undefined, cancelFlag | undefined): Promise — text i
  // with pairs[i] (the same length), as a cross-encoder reads them.
  Napi::Value encode_pairs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      auto session = live(env);
      EncodeInput input;
      input.with_pairs = true;
      input.texts = copy_texts(env, info[0]);
      input.pairs = copy_texts(env, info[1]);
      if (input.pairs.size() != input.texts.size()) throw CodedError("E_INTERNAL", "encodePairs: a pair for every text expected");
      return start_encode(info, 2, std::move(session), std::move(input));
    });
  }

  static std::vector<std::u16string> copy_texts(Napi::Env env, const Napi::Value& value) {
    Napi::Array texts = value.As<Napi::Array>();
    std::vector<std::u16string> out(texts.Length());
    for (uint32_t i = 0; i < texts.Length(); ++i) out[i] = copy_utf16(env, texts.Get(i));
    return out;
  }

  // encodeIds(ids: Int32Array, lengths: Uint32Array, options, onProgress | undefined, cancelFlag | undefined):
  // Promise — input i's ids are the next lengths[i] of ids.
  Napi::Value encode_ids(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      auto session = live(env);
      const Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
      const Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
      EncodeInput input;
      input.from_ids = true;
      size_t at = 0;
      for (size_t i = 0; i < lengths.ElementLength(); ++i) {
        if (lengths[i] > ids.ElementLength() - at) throw CodedError("E_INTERNAL", "encodeIds: the lengths add up to more ids than were given");
        input.ids.emplace_back(ids.Data() + at, ids.Data() + at + lengths[i]);
        at += lengths[i];
      }
      return start_encode(info, 2, std::move(session), std::move(input));
    });
  }

  // The arguments after the input: options, onProgress | undefined, cancelFlag | undefined.
  Napi::Value start_encode(const Napi::CallbackInfo& info, size_t first, std::shared_ptr<const InferenceSession> session, EncodeInput input) {
    Napi::Env env = info.Env();
    CancelFlag flag;
    if (info[first + 2].IsExternal()) flag = *info[first + 2].As<Napi::External<CancelFlag>>().Data();
    auto* worker = new EncodeWorker(env, tok_, std::move(session), std::move(input), read_embed_options(info[first].As<Napi::Object>()), flag);
    if (info[first + 1].IsFunction()) worker->set_progress(env, info[first + 1].As<Napi::Function>());
    return worker->start();
  }

  Napi::Value info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto session = live(env);
    Napi::Object out = Napi::Object::New(env);
    out.Set("provider", session->provider());
    out.Set("fallbackReason", session->fallback_reason());
    out.Set("hiddenSize", static_cast<double>(session->hidden_size()));
    out.Set("clsOnly", session->cls_only());
    return out;
  }

  Napi::Value dispose(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mu_);
    session_.reset();  // running encodes hold their own reference and finish first
    return info.Env().Undefined();
  }

  // createSession({ modelPath, intraOpThreads, optimize, optimizedModelPath, device, deviceId, output }): Promise<External>
  static Napi::Value create_session(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      Napi::Object c = info[0].As<Napi::Object>();
      SessionConfig sc;
      sc.model_path = c.Get("modelPath").As<Napi::String>().Utf8Value();
      sc.intra_op_threads = c.Get("intraOpThreads").As<Napi::Number>().Int32Value();
      sc.optimize = c.Get("optimize").As<Napi::Boolean>().Value();
      sc.optimized_model_path = c.Get("optimizedModelPath").As<Napi::String>().Utf8Value();
      sc.device = c.Get("device").As<Napi::String>().Utf8Value();
      sc.device_id = c.Get("deviceId").As<Napi::Number>().Int32Value();
      sc.output = c.Get("output").As<Napi::String>().Utf8Value();
      if (sc.output != "last_hidden_state" && sc.output != "logits") throw CodedError("E_INTERNAL", "createSession: output must be last_hidden_state or logits");
      return (new CreateSessionWorker(env, std::move(sc)))->start();
    });
  }

  static Napi::Value create_cancel_flag(const Napi::CallbackInfo& info) {
    return Napi::External<CancelFlag>::New(info.Env(), new CancelFlag(std::make_shared<std::atomic<bool>>(false)),
                                           [](Napi::Env, CancelFlag* f) { delete f; });
  }

  static Napi::Value cancel(const Napi::CallbackInfo& info) {
    if (info[0].IsExternal()) (*info[0].As<Napi::External<CancelFlag>>().Data())->store(true);
    return info.Env().Undefined();
  }

  std::mutex mu_;
  std::shared_ptr<const Tokenizer> tok_;
  std::shared_ptr<const InferenceSession> session_;
};

}  // namespace

void register_model(Napi::Env env, Napi::Object exports) { exports.Set("NativeModel", NativeModel::define(env)); }

}  // namespace embedrt
