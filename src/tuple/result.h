// tuple::Error and tuple::Result<T>: the tuple layer's own error values.
//
// Every fallible call in tuple/ returns a Result<T>: either a T or an Error
// whose message names the fault and, for decoding, the byte offset. Nothing is
// thrown. Both types are plain values: copyable, movable, not thread-safe to
// mutate concurrently (like std::string).
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "tuple/tuple_assert.h"

namespace aspen::tuple {

// Do not reorder: callers (e.g. storage/) may map these to their own codes.
enum class ErrorCode : int {
  kTruncated = 1,               // input ends inside an element
  kUnknownTypeCode = 2,         // a type code this layer does not decode
  kNonCanonical = 3,            // a form that Pack never produces (e.g. a leading zero byte)
  kInvalidUtf8 = 4,             // a string (type 0x02) that is not valid UTF-8
  kTooDeep = 5,                 // nested tuples deeper than kMaxNestingDepth
  kIncompleteVersionstamp = 6,  // a versionstamp whose first 10 bytes are all 0xff
  kOutOfRange = 7,              // an integer with |n| >= 2^2040 (more than 255 bytes)
  kInvalidArgument = 8,         // a malformed decimal string, a key with no successor
  kNotInSubspace = 9,           // a key that lacks the subspace prefix
};

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_;
  std::string message_;
};

// Holds either a value or an Error. Accessing the value of an error (or the
// error of a value) is a caller bug and aborts.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  const Error& error() const {
    ASPEN_TUPLE_ASSERT(!ok());
    return std::get<1>(v_);
  }
  T& value() & {
    ASPEN_TUPLE_ASSERT(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    ASPEN_TUPLE_ASSERT(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    ASPEN_TUPLE_ASSERT(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace aspen::tuple
