// Helpers at the N-API seam: no native exception crosses into JS uncaught, and every error carries a
// stable code.
#pragma once

#include <napi.h>
#include "ort_api.h"

#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>

#include "errors.h"
#include "platform.h"

namespace embedrt {

inline Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", code);
  return err;
}

// The one table from a C++ exception to a stable code (lib/errors.ts's ErrorCode) and a message. It
// runs on worker threads too, so it touches no JS value: Napi::Error is rethrown for the caller.
struct CodedMessage {
  std::string code;
  std::string message;
};

inline CodedMessage classify(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Napi::Error&) {
    throw;
  } catch (const CodedError& e) {
    return {e.code(), e.what()};
  } catch (const Ort::Exception& e) {
    return {"E_RUNTIME", std::string("ONNX Runtime: ") + e.what()};
  } catch (const std::bad_alloc&) {
    return {"E_NO_MEMORY", "out of memory"};
  } catch (const std::length_error&) {
    return {"E_NO_MEMORY", "out of memory (a size past what this process can allocate)"};
  } catch (const std::exception& e) {
    return {"E_INTERNAL", e.what()};
  } catch (...) {
    return {"E_INTERNAL", "unknown native error"};
  }
}

// The current exception as a coded JS error (on the JS thread).
inline Napi::Error error_from_current_exception(Napi::Env env) {
  try {
    const CodedMessage m = classify(std::current_exception());
    return make_error(env, m.code, m.message);
  } catch (const Napi::Error& e) {
    return e;
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

#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

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
    void* p = platform::aligned_alloc(kHugeAlign, bytes);
    if (p == nullptr) throw std::bad_alloc();
    platform::advise_huge_pages(p, bytes);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < kHugeBytes) {
      std::allocator<T>::deallocate(p, n);
    } else {
      platform::aligned_free(p);
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

// Memory embedrt handed to JS as external ArrayBuffers, by address. A job that is given a view of such
// a buffer shares its ownership (pin() below), so the memory outlives the job even if JS transfers the
// buffer away (structuredClone, postMessage) and the collector frees the transferred copy meanwhile.
class ExternalRegistry {
 public:
  static ExternalRegistry& get() {
    static ExternalRegistry* r = new ExternalRegistry();  // never destroyed: finalizers may run at exit
    return *r;
  }
  void add(const void* data, size_t bytes, const std::shared_ptr<const void>& owner) {
    std::lock_guard<std::mutex> lock(mu_);
    blocks_[reinterpret_cast<uintptr_t>(data)] = Block{bytes, owner};
  }
  void remove(const void* data) {
    std::lock_guard<std::mutex> lock(mu_);
    blocks_.erase(reinterpret_cast<uintptr_t>(data));
  }
  // The owner of the block holding [data, data + bytes), or null.
  std::shared_ptr<const void> owner_of(const void* data, size_t bytes) {
    const auto p = reinterpret_cast<uintptr_t>(data);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blocks_.upper_bound(p);
    if (it == blocks_.begin()) return nullptr;
    --it;
    if (p + bytes > it->first + it->second.bytes) return nullptr;
    return it->second.owner.lock();
  }

 private:
  struct Block {
    size_t bytes;
    std::weak_ptr<const void> owner;
  };
  std::mutex mu_;
  std::map<uintptr_t, Block> blocks_;
};

// Hands a vector's storage to JS as an external ArrayBuffer (zero copy) freed by a finalizer; copies
// where external buffers are not allowed (Electron's V8 sandbox). Reports the memory to V8.
template <typename T, typename A>
Napi::ArrayBuffer to_array_buffer(Napi::Env env, std::vector<T, A>&& data) {
  using Vec = std::vector<T, A>;
  const size_t bytes = data.size() * sizeof(T);
  if (bytes == 0) return Napi::ArrayBuffer::New(env, 0);
  auto vec = std::make_shared<Vec>(std::move(data));
  auto* owned = new std::shared_ptr<const void>(vec);
  napi_value buffer = nullptr;
  napi_status status = napi_create_external_arraybuffer(
      env, vec->data(), bytes,
      [](napi_env finalize_env, void* external, void* hint) {
        auto* owner = static_cast<std::shared_ptr<const void>*>(hint);
        const int64_t freed = static_cast<int64_t>(static_cast<const Vec*>(owner->get())->size() * sizeof(T));
        ExternalRegistry::get().remove(external);
        delete owner;  // a job that pinned the memory keeps its own share
        int64_t ignored = 0;
        napi_adjust_external_memory(finalize_env, -freed, &ignored);
      },
      owned, &buffer);
  if (status == napi_ok) {
    ExternalRegistry::get().add(vec->data(), bytes, vec);
    int64_t ignored = 0;
    napi_adjust_external_memory(env, static_cast<int64_t>(bytes), &ignored);
    return Napi::ArrayBuffer(env, buffer);
  }
  // External buffers refused: fall back to one copy.
  delete owned;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value ignored;
    napi_get_and_clear_last_exception(env, &ignored);
  }
  Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, bytes);
  std::memcpy(copy.Data(), vec->data(), bytes);
  return copy;
}

// The bytes of a typed array, valid for a job's whole life whatever JS does meanwhile. A view of
// memory embedrt returned is shared (no copy); any other buffer is copied, on the JS thread, because
// JS may detach it (transfer) and the collector free it while a worker reads it.
class Pinned {
 public:
  Pinned() = default;
  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data_);
  }

 private:
  friend Pinned pin(Napi::Env env, const Napi::Value& value, size_t needed, const std::string& label);
  std::shared_ptr<const void> owner_;
  const void* data_ = nullptr;
};

// Pins the first `needed` elements of a typed array; fewer than that is an E_BAD_INPUT error naming
// `label`, whatever the caller claimed about its shape (lib/ checks shapes too; this makes a forged
// shape harmless).
inline Pinned pin(Napi::Env env, const Napi::Value& value, size_t needed, const std::string& label) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (!value.IsTypedArray() || napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok) {
    throw CodedError("E_BAD_INPUT", label + ": expected a typed array");
  }
  if (length < needed) {
    throw CodedError("E_BAD_INPUT", label + ": holds " + std::to_string(length) + " values, its shape needs " + std::to_string(needed));
  }
  const size_t bytes = needed * value.As<Napi::TypedArray>().ElementSize();
  Pinned p;
  p.owner_ = ExternalRegistry::get().owner_of(data, bytes);
  if (p.owner_) {
    p.data_ = data;
    return p;
  }
  auto copy = std::make_shared<std::vector<double>>((bytes + sizeof(double) - 1) / sizeof(double));
  if (bytes > 0) std::memcpy(copy->data(), data, bytes);
  p.data_ = copy->data();
  p.owner_ = std::move(copy);
  return p;
}

// rows × cols as a size, refusing what cannot be a shape (lib/ passes non-negative integers).
inline size_t shape_size(const Napi::Value& rows, const Napi::Value& cols, const std::string& label) {
  const double r = rows.As<Napi::Number>().DoubleValue(), c = cols.As<Napi::Number>().DoubleValue();
  if (!(r >= 0 && c >= 0 && r <= 9007199254740991.0 && c <= 9007199254740991.0) || (c > 0 && r > 9007199254740991.0 / c)) {
    throw CodedError("E_BAD_INPUT", label + ": not a valid shape");
  }
  return static_cast<size_t>(r) * static_cast<size_t>(c);
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
