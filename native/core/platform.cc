#include "platform.h"

#include <cstdlib>

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <malloc.h>
#include <sys/stat.h>
#include <windows.h>
#else
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <cstdint>

namespace embedrt::platform {

#ifdef _WIN32
const char* const kOrtLibraryName = "onnxruntime.dll";
#elif defined(__APPLE__)
const char* const kOrtLibraryName = "libonnxruntime.1.dylib";
#else
const char* const kOrtLibraryName = "libonnxruntime.so.1";
#endif

std::string provider_library_name(const std::string& short_name) {
#ifdef _WIN32
  return "onnxruntime_providers_" + short_name + ".dll";
#elif defined(__APPLE__)
  return "libonnxruntime_providers_" + short_name + ".dylib";
#else
  return "libonnxruntime_providers_" + short_name + ".so";
#endif
}

namespace {
size_t last_separator(const std::string& path) {
#ifdef _WIN32
  return path.find_last_of("/\\");
#else
  return path.rfind('/');
#endif
}
}  // namespace

std::string dir_of(const std::string& path) {
  const size_t slash = last_separator(path);
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = last_separator(path);
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string join(const std::string& dir, const std::string& name) {
#ifdef _WIN32
  return dir + "\\" + name;
#else
  return dir + "/" + name;
#endif
}

#ifdef _WIN32

std::wstring widen(const std::string& utf8) {
  if (utf8.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  if (n <= 0) return {};
  std::wstring out(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8.data(), static_cast<int>(utf8.size()), out.data(), n);
  return out;
}

std::string narrow(const std::wstring& utf16) {
  if (utf16.empty()) return {};
  const int n = WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), nullptr, 0, nullptr, nullptr);
  if (n <= 0) return {};
  std::string out(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, utf16.data(), static_cast<int>(utf16.size()), out.data(), n, nullptr, nullptr);
  return out;
}

void* aligned_alloc(size_t alignment, size_t bytes) noexcept { return _aligned_malloc(bytes, alignment); }
void aligned_free(void* p) noexcept { _aligned_free(p); }
bool release_pages(const void*, size_t) noexcept { return false; }
void advise_huge_pages(void*, size_t) noexcept {}

void* open_library(const std::string& path, std::string* error) {
  // A full path loads that file, and LOAD_WITH_ALTERED_SEARCH_PATH resolves its own dependencies from
  // its folder first — never System32's onnxruntime.dll, which some Windows versions carry.
  HMODULE h = LoadLibraryExW(widen(path).c_str(), nullptr, LOAD_WITH_ALTERED_SEARCH_PATH);
  if (h == nullptr && error != nullptr) {
    const DWORD code = GetLastError();
    wchar_t* msg = nullptr;
    FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, code, 0,
                   reinterpret_cast<wchar_t*>(&msg), 0, nullptr);
    std::string text = msg != nullptr ? narrow(msg) : std::string();
    if (msg != nullptr) LocalFree(msg);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    *error = "error " + std::to_string(code) + (text.empty() ? "" : ": " + text);
  }
  return reinterpret_cast<void*>(h);
}

void* library_symbol(void* library, const char* name) {
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(library), name));
}

void close_library(void* library) { FreeLibrary(static_cast<HMODULE>(library)); }

std::string module_file(const void* address) {
  HMODULE h = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                          static_cast<LPCWSTR>(address), &h)) {
    return "";
  }
  std::wstring buf(32768, L'\0');
  const DWORD n = GetModuleFileNameW(h, buf.data(), static_cast<DWORD>(buf.size()));
  if (n == 0 || n >= buf.size()) return "";
  buf.resize(n);
  return narrow(buf);
}

bool file_exists(const std::string& path) {
  struct _stat64 st {};
  return _wstat64(widen(path).c_str(), &st) == 0;
}

#else

void* aligned_alloc(size_t alignment, size_t bytes) noexcept {
  void* p = nullptr;
  return posix_memalign(&p, alignment, bytes) == 0 ? p : nullptr;
}
void aligned_free(void* p) noexcept { std::free(p); }

void advise_huge_pages(void* p, size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  madvise(p, bytes / 4096 * 4096, MADV_HUGEPAGE);  // advice only: failure leaves ordinary pages
#else
  (void)p;
  (void)bytes;
#endif
}

bool release_pages(const void* p, size_t bytes) noexcept {
#if defined(__linux__)
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) / page * page;
  if (end <= begin) return false;
  // /proc/self/pagemap: one 64-bit entry per page; bit 63 present, bit 62 swapped, bit 61 a page of a
  // file or of shared memory (Documentation/admin-guide/mm/pagemap.rst; readable without privileges).
  const int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool safe = true;
  uint64_t entries[512];
  for (uintptr_t at = begin; safe && at < end;) {
    const size_t count = std::min<size_t>(512, (end - at) / page);
    const auto want = static_cast<ssize_t>(count * sizeof(uint64_t));
    if (pread(fd, entries, static_cast<size_t>(want), static_cast<off_t>(at / page * sizeof(uint64_t))) != want) {
      safe = false;
      break;
    }
    for (size_t i = 0; i < count && safe; ++i) {
      const uint64_t e = entries[i];
      const bool present = (e >> 63) & 1, swapped = (e >> 62) & 1, file_or_shared = (e >> 61) & 1;
      safe = file_or_shared || (!present && !swapped);
    }
    at += count * page;
  }
  close(fd);
  return safe && madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED) == 0;
#else
  (void)p;
  (void)bytes;
  return false;
#endif
}

void* open_library(const std::string& path, std::string* error) {
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr && error != nullptr) {
    const char* e = dlerror();
    *error = e != nullptr ? e : "cannot be loaded";
  }
  return h;
}

void* library_symbol(void* library, const char* name) { return dlsym(library, name); }

void close_library(void* library) { dlclose(library); }

std::string module_file(const void* address) {
  Dl_info dl{};
  if (dladdr(address, &dl) == 0 || dl.dli_fname == nullptr) return "";
  return dl.dli_fname;
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

#endif

}  // namespace embedrt::platform
