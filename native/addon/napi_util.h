// Helpers at the N-API seam: no native exception crosses into JS uncaught, and every error carries a
// stable code.
#pragma once

#include <napi.h>
#include <onnxruntime_cxx_api.h>

#include <cstring>
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

#include <cstdlib>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace embedrt {

// The allocator of large results a kernel overwrites whole (a 2,000 × 20,000 similarity matrix is
// 160 MB): elements are left uninitialised (no zeroing on the JS thread first), and blocks of 4 MiB or
// more are 2 MiB-aligned and advised onto transparent huge pages, so the first write does not fault
// once per 4 KiB page (numpy does the same for its arrays; it was 15% of a similarity matrix's time).
template <typename T>
struct ResultAllocator : std::allocator<T> {
  static constexpr size_t kHugeBytes = size_t{4} << 20, kHugeAlign = size_t{2} << 20;
  template <typename U>
  struct rebind {
    using other = ResultAllocator<U>;
  };
  ResultAllocator() = default;
  template <typename U>
  ResultAllocator(const ResultAllocator<U>&) noexcept {}
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugeBytes) return std::allocator<T>::allocate(n);
    void* p = nullptr;
    if (posix_memalign(&p, kHugeAlign, bytes) != 0) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    madvise(p, bytes / 4096 * 4096, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHugeBytes) {
      std::allocator<T>::deallocate(p, n);
    } else {
      std::free(p);
    }
  }
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// Hands a vector's storage to JS as an external ArrayBuffer (zero copy) freed by a finalizer; copies
// where external buffers are not allowed (Electron's V8 sandbox). Reports the memory to V8.
template <typename T, typename A>
Napi::ArrayBuffer to_array_buffer(Napi::Env env, std::vector<T, A>&& data) {
  using Vec = std::vector<T, A>;
  const size_t bytes = data.size() * sizeof(T);
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  auto* owned = new Vec(std::move(data));
  napi_value buffer = nullptr;
  napi_status status = napi_create_external_arraybuffer(
      env, owned->data(), bytes,
      [](napi_env finalize_env, void*, void* hint) {
        auto* vec = static_cast<Vec*>(hint);
        const int64_t freed = static_cast<int64_t>(vec->size() * sizeof(T));
        delete vec;
        int64_t ignored = 0;
        napi_adjust_external_memory(finalize_env, -freed, &ignored);
      },
      owned, &buffer);
  if (status == napi_ok) {
    int64_t ignored = 0;
    napi_adjust_external_memory(env, static_cast<int64_t>(bytes), &ignored);
    return Napi::ArrayBuffer(env, buffer);
  }
  // External buffers refused: fall back to one copy.
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, bytes);
  std::memcpy(copy.Data(), owned->data(), bytes);
  delete owned;
  return copy;
}

template <typename T, typename A>
Napi::TypedArrayOf<T> to_typed_array(Napi::Env env, std::vector<T, A>&& data) {
  const size_t n = data.size();
  Napi::ArrayBuffer buffer = to_array_buffer(env, std::move(data));
  return Napi::TypedArrayOf<T>::New(env, n, buffer, 0);
}

// A JS string's UTF-16 code units, copied on the JS thread so a worker can convert them later.
inline std::u16string copy_utf16(Napi::Env env, napi_value value) {
  size_t len = 0;
  NAPI_THROW_IF_FAILED(env, napi_get_value_string_utf16(env, value, nullptr, 0, &len), std::u16string());
  std::u16string out(len, u'\0');
  NAPI_THROW_IF_FAILED(env,
                       napi_get_value_string_utf16(env, value, reinterpret_cast<char16_t*>(out.data()), len + 1, &len),
                       std::u16string());
  return out;
}

}  // namespace embedrt
