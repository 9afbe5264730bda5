// Helpers at the N-API seam: no native exception crosses into JS uncaught, and every error carries a
// stable code.
#pragma once

#include <napi.h>

#include <exception>
#include <new>
#include <stdexcept>
#include <string>

namespace embedrt {

// An error the native side raises on purpose, with one of the stable codes of lib/errors.ts.
class CodedError : public std::runtime_error {
 public:
  CodedError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

inline Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", code);
  return err;
}

// Maps a C++ exception (the current one) to a coded JS error.
inline Napi::Error error_from_current_exception(Napi::Env env) {
  try {
    throw;
  } catch (const Napi::Error& e) {
    return e;
  } catch (const CodedError& e) {
    return make_error(env, e.code(), e.what());
  } catch (const Ort::Exception& e) {
    return make_error(env, "E_RUNTIME", std::string("ONNX Runtime: ") + e.what());
  } catch (const std::bad_alloc&) {
    return make_error(env, "E_NO_MEMORY", "out of memory");
  } catch (const std::exception& e) {
    return make_error(env, "E_INTERNAL", e.what());
  } catch (...) {
    return make_error(env, "E_INTERNAL", "unknown native error");
  }
}

// Runs fn; any C++ exception becomes a thrown JS error.
template <typename Fn>
Napi::Value guard(Napi::Env env, Fn&& fn) {
  try {
    return fn();
  } catch (...) {
    throw error_from_current_exception(env);
  }
}

}  // namespace embedrt
