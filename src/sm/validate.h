// Validation of commands: the checks that need no state. Validate runs at
// proposal time (so clients get errors before anything enters the log) and
// again at apply time (a log may hold bytes from a buggy or older proposer).
//
// Errors follow etcd's wording (without the "etcdserver: " prefix) and name
// the limit from base/limits.h when one is crossed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"

namespace aspen::sm {

// Nesting bound of Txn inside Txn. Protobuf's own parser stops at depth 100;
// this keeps recursion in apply far below that.
inline constexpr int kMaxTxnDepth = 16;
// etcd's MaxLeaseTTL (seconds).
inline constexpr std::int64_t kMaxLeaseTtlS = 9'000'000'000;

// OK, or InvalidArgument / ResourceExhausted / OutOfRange naming the fault.
Status Validate(const v1::Command& command);
Status ValidateRange(const v1::RangeRequest& request);

// A key range in etcd's conventions, resolved to [begin, end):
//   range_end empty  -> the single key `key`
//   range_end "\0"   -> every key >= key (end = nullopt: no bound)
//   otherwise        -> [key, range_end); empty when range_end <= key
struct KeyRange {
  std::string begin;
  std::optional<std::string> end;
  bool single_key = false;

  bool Contains(std::string_view k) const { return k >= begin && (!end.has_value() || k < *end); }
  bool Empty() const { return end.has_value() && *end <= begin; }
};
KeyRange MakeKeyRange(std::string_view key, std::string_view range_end);

}  // namespace aspen::sm
