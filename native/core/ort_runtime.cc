#include "ort_runtime.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "errors.h"

namespace embedrt {

namespace {

std::string dir_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The folder of the binary this code is in (the addon, or a test executable).
std::string own_dir() {
  Dl_info dl{};
  if (dladdr(reinterpret_cast<void*>(&dir_of), &dl) == 0 || dl.dli_fname == nullptr) return ".";
  return dir_of(dl.dli_fname);
}

// ONNX Runtime, loaded at run time (dlopen + OrtGetApiBase) rather than linked: the library beside
// the addon by default, or the one EMBEDRT_ORT_LIBRARY names (another build of a compatible version, a
// GPU one say). Loaded once per process; a failure names every place tried.
struct LoadedOrt {
  const OrtApiBase* base = nullptr;
  std::string path;   // the file the library was loaded from
  std::string error;  // why none was loaded
};

const LoadedOrt& loaded_ort() {
  static const LoadedOrt* loaded = [] {
    auto* l = new LoadedOrt();
    std::vector<std::string> tries;
    if (const char* env = std::getenv("EMBEDRT_ORT_LIBRARY"); env != nullptr && *env != '\0') {
      tries.push_back(env);
    } else {
      tries.push_back(own_dir() + "/libonnxruntime.so.1");
      tries.push_back("libonnxruntime.so.1");  // the loader's search (this binary's RUNPATH included)
    }
    std::string why;
    for (const std::string& path : tries) {
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        const char* e = dlerror();
        why += "\n  " + path + ": " + (e ? e : "cannot be loaded");
        continue;
      }
      using GetApiBase = const OrtApiBase* (*)();
      auto get = reinterpret_cast<GetApiBase>(dlsym(handle, "OrtGetApiBase"));
      if (get == nullptr || get() == nullptr) {
        why += "\n  " + path + ": not an ONNX Runtime library (no OrtGetApiBase)";
        dlclose(handle);
        continue;
      }
      l->base = get();
      Dl_info dl{};
      l->path = dladdr(reinterpret_cast<void*>(get), &dl) != 0 && dl.dli_fname != nullptr ? dl.dli_fname : path;
      return l;
    }
    l->error = "embedrt could not load ONNX Runtime; tried:" + why +
               "\nReinstall embedrt (libonnxruntime.so.1 ships beside its addon), or set EMBEDRT_ORT_LIBRARY to an "
               "ONNX Runtime library of version 1.21 or newer.";
    return l;
  }();
  return *loaded;
}

const OrtApiBase& ort_api_base() {
  const LoadedOrt& l = loaded_ort();
  if (l.base == nullptr) throw CodedError("E_NATIVE_LOAD", l.error);
  return *l.base;
}

}  // namespace

void ensure_ort_api() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    const OrtApiBase& base = ort_api_base();
    const OrtApi* api = base.GetApi(kOrtApiVersion);
    if (api == nullptr) {
      failure = std::string("the ONNX Runtime library ") + loaded_ort().path + " (version " + base.GetVersionString() +
                ") does not provide ORT API version " + std::to_string(kOrtApiVersion) +
                "; embedrt needs ONNX Runtime 1.21 or newer";
      return;
    }
    Ort::InitApi(api);
  });
  if (!failure.empty()) throw CodedError("E_NATIVE_LOAD", failure);
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
  info.ort_version = ort_api_base().GetVersionString();
  info.ort_api_version = kOrtApiVersion;
  info.compiled_providers = Ort::GetAvailableProviders();
  info.library_path = loaded_ort().path;
  info.library_dir = dir_of(info.library_path);
  for (const std::string& p : info.compiled_providers) {
    const std::string lib = provider_library(p);
    if (lib.empty() || file_exists(info.library_dir + "/" + lib)) info.providers.push_back(p);
  }
  return info;
}

}  // namespace embedrt
