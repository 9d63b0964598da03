// Status and Result<T>: cheap, [[nodiscard]] values for expected failures.
//
// Components return Status (or Result<T>) for failures a caller must handle:
// bad input, a limit crossed, I/O errors, "not leader". Nothing is thrown across
// component boundaries. server/ maps Code to gRPC status codes.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace aspen {

// Do not reorder: values are logged and mapped to gRPC codes in server/.
enum class Code : int {
  kOk = 0,
  kInvalidArgument = 1,  // malformed input, e.g. a bad key range
  kNotFound = 2,
  kAlreadyExists = 3,
  kFailedPrecondition = 4,
  kOutOfRange = 5,         // e.g. a revision that is compacted or in the future
  kResourceExhausted = 6,  // a limit crossed: request, key, value, txn size
  kCorruption = 7,         // on-disk data failed a check
  kIOError = 8,
  kUnavailable = 9,  // no leader, shutting down
  kDeadlineExceeded = 10,
  kAborted = 11,
  kInternal = 12,
  kUnimplemented = 13,
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {Code::kFailedPrecondition, std::move(m)};
  }
  static Status OutOfRange(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m) {
    return {Code::kResourceExhausted, std::move(m)};
  }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {Code::kUnimplemented, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: key is empty"
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Result<T> holds either a T or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    ASPEN_ASSERT(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    ASPEN_ASSERT(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    ASPEN_ASSERT(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    ASPEN_ASSERT(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace aspen

#define ASPEN_RETURN_IF_ERROR(expr) \
  do {                              \
    ::aspen::Status _st = (expr);   \
    if (!_st.ok()) return _st;      \
  } while (0)
