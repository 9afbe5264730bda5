// The process-wide ONNX Runtime: API table, environment and what the loaded library offers.
#pragma once

#include "ort_api.h"

#include <string>
#include <vector>

namespace embedrt {

// The ORT API version we request: what the 1.21 headers define. Newer runtimes (1.30) serve it.
constexpr int kOrtApiVersion = ORT_API_VERSION;

// Loads ONNX Runtime at run time (EMBEDRT_ORT_LIBRARY, else platform::kOrtLibraryName beside this
// binary, else — on Linux and macOS — the loader's search) and initialises the C++ API table, once.
// Throws CodedError E_NATIVE_LOAD naming what it tried, or both versions when the library is not of
// the minor version embedrt ships (EMBEDRT_ORT_VERSION).
void ensure_ort_api();

// ONNX Runtime's own log level for embedrt's environment and sessions: fatal only (errors reach the
// caller as exceptions), unless EMBEDRT_ORT_LOG_LEVEL is 0 (verbose) .. 4 (fatal).
OrtLoggingLevel ort_log_level();

// The shared Ort::Env (one per process, as ONNX Runtime recommends), created on first use.
Ort::Env& ort_env();

struct RuntimeInfo {
  std::string ort_version;             // the loaded library's version, e.g. "1.30.0"
  int ort_api_version;                 // the API version requested
  std::vector<std::string> compiled_providers;  // execution providers the loaded library was built with
  std::vector<std::string> providers;  // of those, the ones whose provider libraries are present
  std::string library_path;            // the ONNX Runtime library file loaded
  std::string library_dir;             // its folder
};

// The provider library an execution provider needs beside libonnxruntime ("" when built in).
std::string provider_library(const std::string& provider);

RuntimeInfo runtime_info();

// A UTF-8 path as ONNX Runtime's API takes it (ORTCHAR_T: UTF-16 on Windows).
std::basic_string<ORTCHAR_T> ort_path(const std::string& utf8);

}  // namespace embedrt
