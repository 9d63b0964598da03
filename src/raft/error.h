// raft/'s own error type (raft/ includes nothing else of Aspen).
//
// Error is a cheap, [[nodiscard]] value: kOk or a code plus a message that
// names the fault or the limit. Result<T> holds a T or a non-ok Error. The node
// layer maps these codes to its own Status.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "raft/raft_assert.h"

namespace aspen::raft {

// Do not reorder: values are logged and mapped by node/.
enum class ErrorCode : int {
  kOk = 0,
  // Storage: the requested index is below the first available index.
  kCompacted = 1,
  // Storage: the requested index is above the last index.
  kUnavailable = 2,
  // Storage: a snapshot is being produced; ask again later.
  kSnapshotTemporarilyUnavailable = 3,
  // Storage: the snapshot to apply is older than the one held.
  kSnapOutOfDate = 4,
  // A proposal was not appended: no leader, a leadership transfer in progress,
  // a conf change already pending, or this node is not a member.
  kProposalDropped = 5,
  // Back-pressure: a bound would be crossed (the message names it), e.g. the
  // leader's uncommitted entries above Config::max_uncommitted_entries_size, or
  // too many pending read-index requests.
  kLimitExceeded = 6,
  // A local-only message type arrived through Step().
  kStepLocalMsg = 7,
  // A response came from a peer that is not in the configuration.
  kStepPeerNotFound = 8,
  // A malformed message, config or argument (the message names the field).
  kInvalidArgument = 9,
  // A request that needs a leader was made while none is known.
  kNoLeader = 10,
};

std::string_view ErrorCodeName(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error() = default;
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {
    RAFT_ASSERT(code != ErrorCode::kOk);
  }

  static Error Ok() { return Error(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ProposalDropped: no leader"
  std::string ToString() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}     // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {  // NOLINT
    RAFT_ASSERT(!std::get<Error>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  ErrorCode code() const { return ok() ? ErrorCode::kOk : std::get<Error>(v_).code(); }
  const Error& error() const {
    RAFT_ASSERT(!ok());
    return std::get<Error>(v_);
  }
  T& value() & {
    RAFT_ASSERT(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    RAFT_ASSERT(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    RAFT_ASSERT(ok());
    return std::get<T>(std::move(v_));
  }
  const T* operator->() const { return &value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace aspen::raft
