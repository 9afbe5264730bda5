#include "ort_runtime.h"

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "errors.h"
#include "platform.h"

namespace embedrt {

namespace {

// The folder of the binary this code is in (the addon, or a test executable).
std::string own_dir() {
  static const char anchor = 0;
  const std::string file = platform::module_file(&anchor);
  return file.empty() ? "." : platform::dir_of(file);
}

// ONNX Runtime, loaded at run time (dlopen / LoadLibraryExW + OrtGetApiBase) rather than linked: the
// library beside the addon by default, or the one EMBEDRT_ORT_LIBRARY names (another build of a
// compatible version, a GPU one say). Loaded once per process; a failure names every place tried.
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
      tries.push_back(platform::join(own_dir(), platform::kOrtLibraryName));
#if !defined(_WIN32)
      tries.push_back(platform::kOrtLibraryName);  // the loader's search (this binary's RUNPATH included)
#endif
    }
    std::string why;
    for (const std::string& path : tries) {
      std::string error;
      void* handle = platform::open_library(path, &error);
      if (handle == nullptr) {
        why += "\n  " + path + ": " + error;
        continue;
      }
      using GetApiBase = const OrtApiBase* (*)();
      auto get = reinterpret_cast<GetApiBase>(platform::library_symbol(handle, "OrtGetApiBase"));
      if (get == nullptr || get() == nullptr) {
        why += "\n  " + path + ": not an ONNX Runtime library (no OrtGetApiBase)";
        platform::close_library(handle);
        continue;
      }
      l->base = get();
      const std::string file = platform::module_file(reinterpret_cast<const void*>(get));
      l->path = file.empty() ? path : file;
      return l;
    }
    l->error = "embedrt could not load ONNX Runtime; tried:" + why + "\nReinstall embedrt (" + platform::kOrtLibraryName +
               " ships beside its addon), or set EMBEDRT_ORT_LIBRARY to an ONNX Runtime " + EMBEDRT_ORT_VERSION + " library.";
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

// "1.30" of "1.30.0": ONNX Runtime keeps its API and behaviour within a minor version.
static std::string major_minor(const std::string& v) {
  const size_t dot = v.find('.');
  return v.substr(0, v.find('.', dot == std::string::npos ? v.size() : dot + 1));
}

void ensure_ort_api() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    const OrtApiBase& base = ort_api_base();
    const std::string version = base.GetVersionString();
    if (major_minor(version) != major_minor(EMBEDRT_ORT_VERSION)) {
      failure = "the ONNX Runtime library " + loaded_ort().path + " is version " + version + "; this embedrt ships and is tested with " +
                EMBEDRT_ORT_VERSION + " (another build of " + major_minor(EMBEDRT_ORT_VERSION) +
                ".x, a GPU one say, may be named by EMBEDRT_ORT_LIBRARY; unset it to use the library beside the addon)";
      return;
    }
    const OrtApi* api = base.GetApi(kOrtApiVersion);
    if (api == nullptr) {
      failure = "the ONNX Runtime library " + loaded_ort().path + " (version " + version + ") does not provide ORT API version " +
                std::to_string(kOrtApiVersion);
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

std::string provider_library(const std::string& provider) {
  if (provider == "CUDAExecutionProvider") return platform::provider_library_name("cuda");
  if (provider == "TensorrtExecutionProvider") return platform::provider_library_name("tensorrt");
  if (provider == "OpenVINOExecutionProvider") return platform::provider_library_name("openvino");
  if (provider == "ROCMExecutionProvider") return platform::provider_library_name("rocm");
  return "";
}

RuntimeInfo runtime_info() {
  ensure_ort_api();
  RuntimeInfo info;
  info.ort_version = ort_api_base().GetVersionString();
  info.ort_api_version = kOrtApiVersion;
  info.compiled_providers = Ort::GetAvailableProviders();
  info.library_path = loaded_ort().path;
  info.library_dir = platform::dir_of(info.library_path);
  for (const std::string& p : info.compiled_providers) {
    const std::string lib = provider_library(p);
    if (lib.empty() || platform::file_exists(platform::join(info.library_dir, lib))) info.providers.push_back(p);
  }
  return info;
}

std::basic_string<ORTCHAR_T> ort_path(const std::string& utf8) {
#ifdef _WIN32
  return platform::widen(utf8);
#else
  return utf8;
#endif
}

}  // namespace embedrt
