// What differs between the operating systems embedrt runs on (Linux, macOS, Windows), in one place:
// aligned memory, dynamic libraries and file paths. Paths are UTF-8 everywhere in embedrt; on Windows
// they are widened here, at the system call.
#pragma once

#include <cstddef>
#include <string>

namespace embedrt::platform {

// Memory aligned to `alignment` (a power of two); nullptr when it cannot be had. Free with aligned_free.
void* aligned_alloc(size_t alignment, size_t bytes) noexcept;
void aligned_free(void* p) noexcept;

// Asks for transparent huge pages over [p, p + bytes) (p 2 MiB-aligned for it to take): fewer TLB misses
// streaming a large buffer. Advice only (Linux; nothing elsewhere).
void advise_huge_pages(void* p, size_t bytes) noexcept;

// Drops the whole pages inside [p, p + bytes) from this process where that loses nothing: on Linux, when
// every one of them is a page of a file or of shared memory (read back from it if touched again) or not
// present; a range holding any page of private anonymous memory (the heap, a page copied on write) is
// left as it is, as it is on other systems. Returns whether the pages were dropped.
bool release_pages(const void* p, size_t bytes) noexcept;

// A dynamic library: dlopen / LoadLibraryExW. open_library returns nullptr and sets *error (the
// system's own words) when the file cannot be loaded.
void* open_library(const std::string& path, std::string* error);
void* library_symbol(void* library, const char* name);
void close_library(void* library);

// The file of the loaded binary that holds `address` ("" when unknown): the addon, a test executable, or
// a library loaded with open_library.
std::string module_file(const void* address);

// The folder part of a path ("." when it has none), accepting '/' and, on Windows, '\\'.
std::string dir_of(const std::string& path);
std::string base_name(const std::string& path);
std::string join(const std::string& dir, const std::string& name);

bool file_exists(const std::string& path);

// The file names of ONNX Runtime's main library and of an execution provider's library ("cuda" →
// libonnxruntime_providers_cuda.so / onnxruntime_providers_cuda.dll) on this operating system.
extern const char* const kOrtLibraryName;
std::string provider_library_name(const std::string& short_name);

#ifdef _WIN32
std::wstring widen(const std::string& utf8);
std::string narrow(const std::wstring& utf16);
#endif

}  // namespace embedrt::platform
