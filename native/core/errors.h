// Errors the native core raises on purpose, each with one of the stable codes of lib/errors.ts
// (the addon turns them into coded JS errors; see native/addon/napi_util.h for the one table).
#pragma once

#include <stdexcept>
#include <string>

namespace embedrt {

class CodedError : public std::runtime_error {
 public:
  CodedError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// The job's AbortSignal fired (checked between texts while tokenizing and between batches).
class Cancelled : public CodedError {
 public:
  Cancelled() : CodedError("E_ABORTED", "the encode was aborted") {}
};

// An execution provider cannot be used (its library is missing, no device, ...).
class ProviderError : public CodedError {
 public:
  explicit ProviderError(const std::string& message) : CodedError("E_PROVIDER", message) {}
};

}  // namespace embedrt
