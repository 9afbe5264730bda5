#include "ort_runtime.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace embedrt {

void ensure_ort_api() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    const OrtApiBase* base = OrtGetApiBase();
    const OrtApi* api = base ? base->GetApi(kOrtApiVersion) : nullptr;
    if (api == nullptr) {
      failure = std::string("the loaded ONNX Runtime library (") +
                (base ? base->GetVersionString() : "unknown version") +
                ") does not provide ORT API version " + std::to_string(kOrtApiVersion) +
                "; embedrt needs ONNX Runtime 1.21 or newer";
      return;
    }
    Ort::InitApi(api);
  });
  if (!failure.empty()) throw std::runtime_error(failure);
}

OrtLoggingLevel ort_log_level() {
  OrtLoggingLevel level = ORT_LOGGING_LEVEL_FATAL;
  if (const char* v = std::getenv("EMBEDRT_ORT_LOG_LEVEL"); v != nullptr && v[0] >= '0' && v[0] <= '4' && v[1] == '\0') {
    level = static_cast<OrtLoggingLevel>(v[0] - '0');
  }
  return level;
}

Ort::Env& ort_env() {
  ensure_ort_api();
  // Never destroyed: sessions may outlive static destruction order at process exit. ONNX Runtime's own
  // log goes to stderr; its errors reach the caller as exceptions anyway, so it only speaks on fatal
  // errors unless EMBEDRT_ORT_LOG_LEVEL (0 verbose .. 4 fatal) asks for more.
  static Ort::Env* env = new Ort::Env(ort_log_level(), "embedrt");
  return *env;
}

namespace {

std::string loaded_library_dir() {
  Dl_info dl{};
  if (dladdr(reinterpret_cast<void*>(&OrtGetApiBase), &dl) == 0 || dl.dli_fname == nullptr) return "";
  std::string path = dl.dli_fname;
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string provider_library(const std::string& provider) {
  if (provider == "CUDAExecutionProvider") return "libonnxruntime_providers_cuda.so";
  if (provider == "TensorrtExecutionProvider") return "libonnxruntime_providers_tensorrt.so";
  if (provider == "OpenVINOExecutionProvider") return "libonnxruntime_providers_openvino.so";
  if (provider == "ROCMExecutionProvider") return "libonnxruntime_providers_rocm.so";
  return "";
}

RuntimeInfo runtime_info() {
  ensure_ort_api();
  RuntimeInfo info;
  info.ort_version = OrtGetApiBase()->GetVersionString();
  info.ort_api_version = kOrtApiVersion;
  info.compiled_providers = Ort::GetAvailableProviders();
  info.library_dir = loaded_library_dir();
  for (const std::string& p : info.compiled_providers) {
    const std::string lib = provider_library(p);
    if (lib.empty() || file_exists(info.library_dir + "/" + lib)) info.providers.push_back(p);
  }
  return info;
}

}  // namespace embedrt
