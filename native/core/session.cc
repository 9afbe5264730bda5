#include "session.h"


#include <algorithm>
#include <cstdlib>

#include "ops.h"
#include "ort_runtime.h"
#include "platform.h"

namespace embedrt {

namespace {

Ort::SessionOptions base_options(const SessionConfig& c) {
  Ort::SessionOptions o;
  // Per session too: the process has one ONNX Runtime environment, and another library (onnxruntime-node)
  // may have created it with a chattier level.
  o.SetLogSeverityLevel(ort_log_level());
  if (c.intra_op_threads > 0) o.SetIntraOpNumThreads(c.intra_op_threads);
  o.SetInterOpNumThreads(1);
  o.SetGraphOptimizationLevel(c.optimize ? GraphOptimizationLevel::ORT_ENABLE_ALL : GraphOptimizationLevel::ORT_DISABLE_ALL);
  o.Add(embedrt_op_domain());  // com.embedrt.Linear, in the graphs embedrt builds for the CPU
  // EMBEDRT_ORT_PROFILE=<prefix>: ONNX Runtime's per-node profile, written to <prefix>_<date>.json when
  // the session closes (for bench/README.md's "where the time goes").
  if (const char* profile = std::getenv("EMBEDRT_ORT_PROFILE"); profile != nullptr && *profile != '\0') {
    o.EnableProfiling(ort_path(profile).c_str());
  }
  if (!c.optimized_model_path.empty()) {
    o.SetOptimizedModelFilePath(ort_path(c.optimized_model_path).c_str());
    // Weights go beside the saved graph, so models past protobuf's 2 GB limit can be saved too.
    const std::string base = platform::base_name(c.optimized_model_path);
    o.AddConfigEntry("session.optimized_model_external_initializers_file_name", (base + ".data").c_str());
    // (ORT warns that a graph optimized at this level is hardware specific; the cache key holds the ORT
    // version, the SIMD level and the device.)
  }
  // The CPU arena stays on: ONNX Runtime reuses its blocks within a run instead of a malloc, mmap and
  // page faults per activation (measured: 4% of samples in the kernel without it, and a higher peak RSS,
  // 1.2–1.4 GB vs 0.8 GB on BERT-base). run() shrinks it after every run so RSS does not ratchet up to
  // the largest batch.
  return o;
}

// What a GPU provider needs on the library path, for its error messages.
std::string gpu_requirements(const std::string& device) {
  return std::string("; the ") + (device == "tensorrt" ? "TensorRT provider needs TensorRT 10 (libnvinfer) and, as the CUDA provider does, " : "CUDA provider needs ") +
         "CUDA 13 (the runtime, cuBLAS, cuBLASLt, cuRAND), cuDNN 9 and the NVIDIA driver (libcuda) on the library path";
}

// A GPU provider failing while the session starts (its first CUDA call, a library it loads then):
// ONNX Runtime reports it as a failed graph load (ORT_FAIL), so it is told apart by what it names.
bool is_provider_failure(const std::string& device, const Ort::Exception& e) {
  if (device == "cpu") return false;
  if (e.GetOrtErrorCode() == ORT_EP_FAIL) return true;
  const std::string m = e.what();
  for (const char* mark : {"CUDA failure", "CUDA error", "CUBLAS", "cuBLAS", "CUDNN", "cuDNN", "cudnn", "cublas", "TensorRT", "nvinfer"}) {
    if (m.find(mark) != std::string::npos) return true;
  }
  return false;
}

// The line of a CUDA failure that says what failed ("CUDA failure 100: no CUDA-capable device is
// detected … expr=cudaSetDevice(…)"), without ONNX Runtime's source paths and template signatures;
// another message as it is, less trailing white space.
std::string failure_summary(const std::string& m) {
  const size_t at = m.find("CUDA failure");
  if (at == std::string::npos) return m.substr(0, m.find_last_not_of(" \n\r\t") + 1);
  std::string out = m.substr(at, m.find(" ; ", at) == std::string::npos ? std::string::npos : m.find(" ; ", at) - at);
  const size_t expr = m.find("expr=", at);
  if (expr != std::string::npos) out += " (" + m.substr(expr, m.find(';', expr) == std::string::npos ? std::string::npos : m.find(';', expr) - expr) + ")";
  return out;
}

// The CUDA provider, set as sentence-transformers' torch runs float32 on a GPU: TF32 off (float32
// products keep float32's 24-bit mantissa, not TF32's 11; speed on a GPU comes from the fp16 graph).
// Its options are strings the provider library itself parses (UpdateCUDAProviderOptions loads it).
void append_cuda(Ort::SessionOptions& o, int device_id) {
  const OrtApi& api = Ort::GetApi();
  OrtCUDAProviderOptionsV2* raw = nullptr;
  Ort::ThrowOnError(api.CreateCUDAProviderOptions(&raw));
  const std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> cuda(raw, api.ReleaseCUDAProviderOptions);
  const std::string id = std::to_string(device_id);
  const char* keys[] = {"device_id", "use_tf32"};
  const char* values[] = {id.c_str(), "0"};
  Ort::ThrowOnError(api.UpdateCUDAProviderOptions(cuda.get(), keys, values, 2));
  o.AppendExecutionProvider_CUDA_V2(*cuda);
}

void append_provider(Ort::SessionOptions& o, const std::string& device, int device_id) {
  const RuntimeInfo rt = runtime_info();
  const std::string name = device == "cuda" ? "CUDAExecutionProvider" : "TensorrtExecutionProvider";
  if (std::find(rt.compiled_providers.begin(), rt.compiled_providers.end(), name) == rt.compiled_providers.end()) {
    throw ProviderError("the loaded ONNX Runtime (" + rt.ort_version + ", " + rt.library_dir + ") was not built with " + name +
                        "; set ORT_ROOT to a GPU build of the ONNX Runtime SDK and rebuild");
  }
  if (std::find(rt.providers.begin(), rt.providers.end(), name) == rt.providers.end()) {
    throw ProviderError(name + " needs " + provider_library(name) + " (and " + platform::provider_library_name("shared") +
                        ") beside " + rt.library_path + "; they are missing (the CUDA variant has them: npm run assemble-cuda, or the @embedrt/linux-x64-cuda package; README: GPU)");
  }
  try {
    if (device == "tensorrt") {
      OrtTensorRTProviderOptions trt{};
      trt.device_id = device_id;
      o.AppendExecutionProvider_TensorRT(trt);
    }
    append_cuda(o, device_id);  // after TensorRT: what TensorRT cannot run
  } catch (const Ort::Exception& e) {
    // The provider library loads as its options are read, and their device_id is checked against the
    // devices CUDA sees: a CUDA failure is summarized. Where ONNX Runtime says only "Failed to load
    // shared library", the system's loader says which library is missing (libcublas.so.13, say):
    // asked again, only now that loading has failed.
    std::string why = failure_summary(e.what());
    std::string load_error;
    if (void* lib = platform::open_library(platform::join(rt.library_dir, provider_library(name)), &load_error)) {
      platform::close_library(lib);
    } else if (!load_error.empty() && why.find(load_error) == std::string::npos) {
      why += " (" + load_error + ")";
    }
    throw ProviderError(name + " could not be enabled: " + why + gpu_requirements(device));
  }
}

}  // namespace

InferenceSession::InferenceSession(const SessionConfig& c) {
  Ort::Env& env = ort_env();
  std::vector<std::string> attempts;
  if (c.device == "auto") {
    attempts = {"cuda", "cpu"};
  } else {
    attempts = {c.device};
  }
  for (const std::string& device : attempts) {
    Ort::SessionOptions o = base_options(c);
    try {
      if (device != "cpu") append_provider(o, device, c.device_id);
      session_ = std::make_unique<Ort::Session>(env, ort_path(c.model_path).c_str(), o);
      provider_ = device;
      break;
    } catch (const ProviderError& e) {
      if (c.device != "auto") throw;
      fallback_ = e.what();
    } catch (const Ort::Exception& e) {
      if (is_provider_failure(device, e)) {
        const std::string why = (device == "cuda" ? "CUDAExecutionProvider" : "TensorrtExecutionProvider") +
                                std::string(" failed as the session started: ") + failure_summary(e.what()) + gpu_requirements(device);
        if (c.device != "auto") throw ProviderError(why);
        fallback_ = why;
        continue;
      }
      if (is_model_error(e)) throw CodedError("E_MODEL_FILES", c.model_path + ": ONNX Runtime cannot load this graph: " + e.what());
      if (c.device != "auto" || device == "cpu") throw;
      fallback_ = e.what();
    }
  }
  check_signature(c.model_path, c.output);
}

// The graph must be an encoder as run() feeds it: int64 input_ids and attention_mask (token_type_ids
// optional), a float last_hidden_state [batch, sequence, hidden] — or a classifier's logits [batch,
// labels] (a cross-encoder's: embedrt's graphs and transformers' exports), read as a CLS-only output
// of one row per text. Anything else is the model's fault.
void InferenceSession::check_signature(const std::string& path, const std::string& wanted) {
  const auto bad = [&](const std::string& what) { return CodedError("E_MODEL_FILES", path + ": " + what); };
  Ort::AllocatorWithDefaultOptions alloc;
  bool ids = false, mask = false;
  for (size_t i = 0; i < session_->GetInputCount(); ++i) {
    const std::string name = session_->GetInputNameAllocated(i, alloc).get();
    const auto info = session_->GetInputTypeInfo(i);
    const bool int64_tensor = info.GetONNXType() == ONNX_TYPE_TENSOR &&
                              info.GetTensorTypeAndShapeInfo().GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    if (name == "input_ids" || name == "attention_mask" || name == "token_type_ids") {
      if (!int64_tensor) throw bad("the graph's input " + name + " is not an int64 tensor");
      ids = ids || name == "input_ids";
      mask = mask || name == "attention_mask";
      has_token_type_ids_ = has_token_type_ids_ || name == "token_type_ids";
    } else {
      throw bad("the graph has an input embedrt does not feed: " + name + " (expected input_ids, attention_mask, token_type_ids)");
    }
  }
  if (!ids || !mask) throw bad("the graph lacks the input_ids or attention_mask input");
  {
    for (size_t i = 0; i < session_->GetOutputCount(); ++i) {
      if (std::string(session_->GetOutputNameAllocated(i, alloc).get()) != wanted) continue;
      const auto info = session_->GetOutputTypeInfo(i);
      const std::string name = wanted;
      if (info.GetONNXType() != ONNX_TYPE_TENSOR) throw bad("the graph's " + name + " is not a tensor");
      const auto t = info.GetTensorTypeAndShapeInfo();
      const auto shape = t.GetShape();
      const bool logits = name == "logits";
      if (logits) {
        if (t.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || shape.size() != 2 || shape[1] <= 0) {
          throw bad("the graph's logits are not a float [batch, labels] tensor with a fixed number of labels");
        }
        hidden_ = static_cast<size_t>(shape[1]);
        cls_only_ = true;
      } else {
        if (t.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || shape.size() != 3 || shape[2] <= 0) {
          throw bad("the graph's last_hidden_state is not a float [batch, sequence, hidden] tensor with a fixed hidden size");
        }
        hidden_ = static_cast<size_t>(shape[2]);
        cls_only_ = shape[1] == 1;
      }
      output_ = name;
      return;
    }
  }
  throw bad("the graph has no " + wanted + " output" + (wanted == "logits" ? " (a cross-encoder's graph returns its classifier's logits)" : " (a sentence embedding model's graph returns the encoder's last_hidden_state)"));
}

bool InferenceSession::is_model_error(const Ort::Exception& e) {
  switch (e.GetOrtErrorCode()) {
    case ORT_NO_SUCHFILE:
    case ORT_NO_MODEL:
    case ORT_INVALID_PROTOBUF:
    case ORT_INVALID_GRAPH:
    case ORT_INVALID_ARGUMENT:
    case ORT_NOT_IMPLEMENTED:
    case ORT_FAIL:  // e.g. "Load model ... failed": an empty or truncated file
      return true;
    default:
      return false;
  }
}

void InferenceSession::run(const std::vector<int64_t>& ids, const std::vector<int64_t>& mask,
                           const std::vector<int64_t>& types, size_t batch, size_t seq, std::vector<float>& out) const {
  Ort::MemoryInfo mem = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const int64_t shape[2] = {static_cast<int64_t>(batch), static_cast<int64_t>(seq)};
  auto tensor = [&](const std::vector<int64_t>& v) {
    return Ort::Value::CreateTensor<int64_t>(mem, const_cast<int64_t*>(v.data()), v.size(), shape, 2);
  };
  std::vector<Ort::Value> inputs;
  std::vector<const char*> names = {"input_ids", "attention_mask"};
  inputs.push_back(tensor(ids));
  inputs.push_back(tensor(mask));
  if (has_token_type_ids_) {
    names.push_back("token_type_ids");
    inputs.push_back(tensor(types));
  }
  const size_t out_seq = cls_only_ ? 1 : seq;
  out.resize(batch * out_seq * hidden_);
  // Logits are [batch, labels]: the same floats as [batch, 1, labels].
  const bool logits = output_ == "logits";
  const int64_t out_shape[3] = {static_cast<int64_t>(batch), logits ? static_cast<int64_t>(hidden_) : static_cast<int64_t>(out_seq), static_cast<int64_t>(hidden_)};
  Ort::Value output = Ort::Value::CreateTensor<float>(mem, out.data(), out.size(), out_shape, logits ? 2 : 3);
  const char* out_names[] = {output_.c_str()};
  Ort::RunOptions run_options;
  // Free arena regions go back after the run (CPU provider; a GPU provider's CPU arena holds only
  // inputs and outputs).
  if (provider_ == "cpu") run_options.AddConfigEntry("memory.enable_memory_arena_shrinkage", "cpu:0");
  session_->Run(run_options, names.data(), inputs.data(), inputs.size(), out_names, &output, 1);
}

}  // namespace embedrt
