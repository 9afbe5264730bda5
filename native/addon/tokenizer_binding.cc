// N-API wrapper of the native tokenizer. lib/tokenizer.ts has validated every argument; this file
// copies them into plain C++ on the JS thread and does the work on native threads.
#include "tokenizer_binding.h"

#include <memory>
#include <string>
#include <vector>

#include "napi_util.h"
#include "promise_worker.h"
#include "thread_pool.h"
#include "tokenizer.h"
#include "tokenizer_config_reader.h"
#include "unicode.h"

namespace embedrt {
namespace {

EncodeOptions read_options(const Napi::Object& o) {
  EncodeOptions opts;
  opts.add_special_tokens = get_bool(o, "addSpecialTokens");
  opts.max_length = static_cast<size_t>(get_int(o, "maxLength"));
  opts.with_tokens = get_bool(o, "withTokens");
  return opts;
}

// A batch's result in flat arrays: row r holds tokens [rowStart[r], rowStart[r+1]).
struct BatchResult {
  std::vector<int32_t> ids;
  std::vector<uint8_t> type_ids;
  std::vector<uint8_t> attention;
  std::vector<uint8_t> special;
  std::vector<uint32_t> offsets;
  std::vector<uint32_t> row_start;
  std::vector<uint32_t> lengths;  // real (unpadded) tokens per row
  std::vector<uint8_t> truncated;
  std::vector<std::string> tokens;
  bool with_tokens = false;
};

Napi::Object to_js(Napi::Env env, BatchResult&& r) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("ids", to_typed_array(env, std::move(r.ids)));
  out.Set("typeIds", to_typed_array(env, std::move(r.type_ids)));
  out.Set("attentionMask", to_typed_array(env, std::move(r.attention)));
  out.Set("specialTokensMask", to_typed_array(env, std::move(r.special)));
  out.Set("offsets", to_typed_array(env, std::move(r.offsets)));
  out.Set("rowStart", to_typed_array(env, std::move(r.row_start)));
  out.Set("lengths", to_typed_array(env, std::move(r.lengths)));
  out.Set("truncated", to_typed_array(env, std::move(r.truncated)));
  if (r.with_tokens) {
    Napi::Array tokens = Napi::Array::New(env, r.tokens.size());
    for (size_t i = 0; i < r.tokens.size(); ++i) tokens.Set(static_cast<uint32_t>(i), r.tokens[i]);
    out.Set("tokens", tokens);
  }
  return out;
}

// Pads (or not) and flattens encodings into one BatchResult. pad_to: -1 none, 0 longest, N fixed.
BatchResult flatten(const TokenizerConfig& config, std::vector<Encoding>& encs, int64_t pad_to, size_t multiple,
                    bool with_tokens) {
  BatchResult r;
  r.with_tokens = with_tokens;
  size_t target = 0;
  if (pad_to == 0) {
    for (const Encoding& e : encs) target = std::max(target, e.ids.size());
  } else if (pad_to > 0) {
    target = static_cast<size_t>(pad_to);
  }
  if (pad_to >= 0 && multiple > 1 && target % multiple) target += multiple - target % multiple;
  size_t total = 0;
  for (const Encoding& e : encs) total += pad_to >= 0 ? std::max(target, e.ids.size()) : e.ids.size();
  r.ids.reserve(total);
  r.type_ids.reserve(total);
  r.attention.reserve(total);
  r.special.reserve(total);
  r.offsets.reserve(total * 2);
  r.row_start.reserve(encs.size() + 1);
  std::vector<uint8_t> mask;
  for (Encoding& e : encs) {
    r.row_start.push_back(static_cast<uint32_t>(r.ids.size()));
    r.lengths.push_back(static_cast<uint32_t>(e.ids.size()));
    r.truncated.push_back(e.truncated ? 1 : 0);
    if (pad_to >= 0) {
      pad_encoding(config, e, target, mask);
    } else {
      mask.assign(e.ids.size(), 1);
    }
    r.ids.insert(r.ids.end(), e.ids.begin(), e.ids.end());
    for (uint32_t t : e.type_ids) r.type_ids.push_back(static_cast<uint8_t>(t));
    r.attention.insert(r.attention.end(), mask.begin(), mask.end());
    r.special.insert(r.special.end(), e.special_tokens_mask.begin(), e.special_tokens_mask.end());
    r.offsets.insert(r.offsets.end(), e.offsets.begin(), e.offsets.end());
    if (with_tokens) {
      for (std::string& t : e.tokens) r.tokens.push_back(std::move(t));
    }
  }
  r.row_start.push_back(static_cast<uint32_t>(r.ids.size()));
  return r;
}

class EncodeBatchWorker : public PromiseWorker {
 public:
  EncodeBatchWorker(Napi::Env env, std::shared_ptr<const Tokenizer> tok, std::vector<std::u16string> texts,
                    std::vector<std::u16string> pairs, EncodeOptions opts, int64_t pad_to, size_t multiple,
                    size_t threads)
      : PromiseWorker(env, "embedrt:encodeBatch"),
        tok_(std::move(tok)),
        texts_(std::move(texts)),
        pairs_(std::move(pairs)),
        opts_(opts),
        pad_to_(pad_to),
        multiple_(multiple),
        threads_(threads) {}

 private:
  void work() override {
    std::vector<Encoding> encs(texts_.size());
    ThreadPool::shared().parallel_for(texts_.size(), [&](size_t i) {
      const std::string a = to_utf8(texts_[i]);
      if (pairs_.empty()) {
        encs[i] = tok_->encode(a, opts_);
      } else {
        encs[i] = tok_->encode_pair(a, to_utf8(pairs_[i]), opts_);
      }
    }, threads_);
    texts_.clear();
    pairs_.clear();
    result_ = flatten(tok_->config(), encs, pad_to_, multiple_, opts_.with_tokens);
  }

  Napi::Value result(Napi::Env env) override { return to_js(env, std::move(result_)); }

  std::shared_ptr<const Tokenizer> tok_;
  std::vector<std::u16string> texts_, pairs_;
  EncodeOptions opts_;
  int64_t pad_to_;
  size_t multiple_;
  size_t threads_;
  BatchResult result_;
};

using TokenizerRef = std::shared_ptr<const Tokenizer>;

// Builds a Tokenizer on a libuv worker (its vocabulary tables: ~10 ms for 30,000 tokens); resolves with
// an External that NativeTokenizer's constructor takes.
class CreateTokenizerWorker : public PromiseWorker {
 public:
  CreateTokenizerWorker(Napi::Env env, TokenizerConfig config) : PromiseWorker(env, "embedrt:createTokenizer"), config_(std::move(config)) {}

 private:
  void work() override { tok_ = std::make_shared<const Tokenizer>(std::move(config_)); }

  Napi::Value result(Napi::Env env) override {
    return Napi::External<TokenizerRef>::New(env, new TokenizerRef(std::move(tok_)), [](Napi::Env, TokenizerRef* t) { delete t; });
  }

  TokenizerConfig config_;
  TokenizerRef tok_;
};

class NativeTokenizer : public Napi::ObjectWrap<NativeTokenizer> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "NativeTokenizer",
                       {InstanceMethod<&NativeTokenizer::encode>("encode"),
                        InstanceMethod<&NativeTokenizer::encode_batch>("encodeBatch"),
                        InstanceMethod<&NativeTokenizer::decode>("decode"),
                        InstanceMethod<&NativeTokenizer::id_to_token>("idToToken"),
                        InstanceMethod<&NativeTokenizer::token_to_id>("tokenToId"),
                        InstanceMethod<&NativeTokenizer::vocab_size>("vocabSize"),
                        InstanceMethod<&NativeTokenizer::num_special_tokens>("numSpecialTokens"),
                        StaticMethod<&NativeTokenizer::create>("create")});
  }

  // new NativeTokenizer(config) builds it here; new NativeTokenizer(External from create) takes it.
  explicit NativeTokenizer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeTokenizer>(info) {
    Napi::Env env = info.Env();
    try {
      if (info[0].IsExternal()) {
        tok_ = *info[0].As<Napi::External<TokenizerRef>>().Data();
      } else {
        tok_ = std::make_shared<const Tokenizer>(read_tokenizer_config(env, info[0].As<Napi::Object>()));
      }
    } catch (...) {
      throw error_from_current_exception(env);
    }
  }

 private:
  // encode(text, pair | null, options): one text, synchronously.
  Napi::Value encode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      const std::string a = to_utf8(copy_utf16(env, info[0]));
      const EncodeOptions opts = read_options(info[2].As<Napi::Object>());
      std::vector<Encoding> encs(1);
      if (info[1].IsString()) {
        encs[0] = tok_->encode_pair(a, to_utf8(copy_utf16(env, info[1])), opts);
      } else {
        encs[0] = tok_->encode(a, opts);
      }
      return to_js(env, flatten(tok_->config(), encs, -1, 0, opts.with_tokens));
    });
  }

  // encodeBatch(texts, pairs | null, options, padTo, padMultiple, threads): Promise of the flat batch.
  Napi::Value encode_batch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      Napi::Array texts = info[0].As<Napi::Array>();
      std::vector<std::u16string> a(texts.Length()), b;
      for (uint32_t i = 0; i < texts.Length(); ++i) a[i] = copy_utf16(env, texts.Get(i));
      if (info[1].IsArray()) {
        Napi::Array pairs = info[1].As<Napi::Array>();
        b.resize(pairs.Length());
        for (uint32_t i = 0; i < pairs.Length(); ++i) b[i] = copy_utf16(env, pairs.Get(i));
      }
      const EncodeOptions opts = read_options(info[2].As<Napi::Object>());
      const int64_t pad_to = info[3].As<Napi::Number>().Int64Value();
      const size_t multiple = static_cast<size_t>(info[4].As<Napi::Number>().Int64Value());
      const size_t threads = static_cast<size_t>(info[5].As<Napi::Number>().Int64Value());
      auto* worker = new EncodeBatchWorker(env, tok_, std::move(a), std::move(b), opts, pad_to, multiple, threads);
      return worker->start();
    });
  }

  Napi::Value decode(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value {
      Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
      const bool skip = info[1].As<Napi::Boolean>().Value();
      return Napi::String::New(env, tok_->decode(ids.Data(), ids.ElementLength(), skip));
    });
  }

  Napi::Value id_to_token(const Napi::CallbackInfo& info) {
    const std::string t = tok_->id_to_token(info[0].As<Napi::Number>().Int32Value());
    return t.empty() ? info.Env().Undefined() : Napi::String::New(info.Env(), t);
  }

  Napi::Value token_to_id(const Napi::CallbackInfo& info) {
    const int32_t id = tok_->token_to_id(info[0].As<Napi::String>().Utf8Value());
    return id < 0 ? info.Env().Undefined() : Napi::Number::New(info.Env(), id);
  }

  // create(config): Promise<External>, the tables built off the JS thread.
  static Napi::Value create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guard(env, [&]() -> Napi::Value { return (new CreateTokenizerWorker(env, read_tokenizer_config(env, info[0].As<Napi::Object>())))->start(); });
  }

  Napi::Value vocab_size(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(tok_->vocab_size()));
  }

  Napi::Value num_special_tokens(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(tok_->num_special_tokens(info[0].ToBoolean().Value())));
  }

  std::shared_ptr<const Tokenizer> tok_;

  friend std::shared_ptr<const Tokenizer> embedrt::tokenizer_of(const Napi::Value& value);
};

Napi::FunctionReference* tokenizer_constructor(Napi::Env env) { return env.GetInstanceData<Napi::FunctionReference>(); }

}  // namespace

std::shared_ptr<const Tokenizer> tokenizer_of(const Napi::Value& value) {
  Napi::Env env = value.Env();
  Napi::FunctionReference* ctor = tokenizer_constructor(env);
  if (!value.IsObject() || !ctor || !value.As<Napi::Object>().InstanceOf(ctor->Value())) {
    throw Napi::TypeError::New(env, "expected a NativeTokenizer");
  }
  return NativeTokenizer::Unwrap(value.As<Napi::Object>())->tok_;
}

void register_tokenizer(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = NativeTokenizer::define(env);
  // Per-environment state (worker_threads load the addon once each), freed with the environment.
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("NativeTokenizer", ctor);
}

}  // namespace embedrt
