#include "sm/validate.h"

#include <algorithm>
#include <set>
#include <vector>

#include "base/limits.h"
#include "sm/alarm.h"

namespace aspen::sm {
namespace {

Status CheckKey(std::string_view key, const char* what) {
  if (key.empty()) return Status::InvalidArgument(std::string(what) + ": key is not provided");
  if (key.size() > limits::kMaxKeyBytes) {
    return Status::ResourceExhausted(std::string(what) + ": key is " + std::to_string(key.size()) +
                                     " bytes, over limits::kMaxKeyBytes (" +
                                     std::to_string(limits::kMaxKeyBytes) + ")");
  }
  return Status::Ok();
}

Status CheckRangeEnd(std::string_view range_end, const char* what) {
  if (range_end.size() > limits::kMaxKeyBytes) {
    return Status::ResourceExhausted(
        std::string(what) + ": range_end is " + std::to_string(range_end.size()) +
        " bytes, over limits::kMaxKeyBytes (" + std::to_string(limits::kMaxKeyBytes) + ")");
  }
  return Status::Ok();
}

Status ValidatePut(const v1::PutRequest& r, std::int64_t now_ms) {
  ASPEN_RETURN_IF_ERROR(CheckKey(r.key(), "put"));
  if (r.value().size() > limits::kMaxValueBytes) {
    return Status::ResourceExhausted("put: value is " + std::to_string(r.value().size()) +
                                     " bytes, over limits::kMaxValueBytes (" +
                                     std::to_string(limits::kMaxValueBytes) + ")");
  }
  if (r.ignore_value() && !r.value().empty()) return Status::InvalidArgument("value is provided");
  if (r.ignore_lease() && r.lease() != 0) return Status::InvalidArgument("lease is provided");
  if (r.ttl_ms() < 0) return Status::InvalidArgument("put: ttl_ms is negative");
  if (r.ttl_ms() > INT64_MAX - now_ms)
    return Status::InvalidArgument("put: now_ms + ttl_ms overflows");
  return Status::Ok();
}

Status ValidateDeleteRange(const v1::DeleteRangeRequest& r) {
  ASPEN_RETURN_IF_ERROR(CheckKey(r.key(), "delete_range"));
  return CheckRangeEnd(r.range_end(), "delete_range");
}

Status ValidateCompare(const v1::Compare& c) {
  ASPEN_RETURN_IF_ERROR(CheckKey(c.key(), "compare"));
  ASPEN_RETURN_IF_ERROR(CheckRangeEnd(c.range_end(), "compare"));
  if (!v1::Compare::CompareResult_IsValid(c.result())) {
    return Status::InvalidArgument("compare: unknown result " + std::to_string(c.result()));
  }
  if (!v1::Compare::CompareTarget_IsValid(c.target())) {
    return Status::InvalidArgument("compare: unknown target " + std::to_string(c.target()));
  }
  return Status::Ok();
}

// The set of keys put, and the delete intervals, of one list of ops
// (etcd's checkIntervals).
struct Intervals {
  std::set<std::string, std::less<>> puts;
  std::vector<KeyRange> dels;

  bool DeletesKey(std::string_view k) const {
    for (const KeyRange& r : dels) {
      if (r.Contains(k)) return true;
    }
    return false;
  }
};

Status DuplicateKey() {
  return Status::InvalidArgument("duplicate key given in txn request");
}

Status CheckIntervals(const google::protobuf::RepeatedPtrField<v1::RequestOp>& ops,
                      Intervals* out) {
  Intervals level;
  for (const v1::RequestOp& op : ops) {
    if (op.has_request_delete_range()) {
      const auto& d = op.request_delete_range();
      level.dels.push_back(MakeKeyRange(d.key(), d.range_end()));
    }
  }
  for (const v1::RequestOp& op : ops) {
    if (!op.has_request_txn()) continue;
    Intervals then_iv, else_iv;
    ASPEN_RETURN_IF_ERROR(CheckIntervals(op.request_txn().success(), &then_iv));
    ASPEN_RETURN_IF_ERROR(CheckIntervals(op.request_txn().failure(), &else_iv));
    for (const std::string& k : then_iv.puts) {
      if (level.puts.contains(k) || level.DeletesKey(k)) return DuplicateKey();
      level.puts.insert(k);
    }
    for (const std::string& k : else_iv.puts) {
      // then and else are exclusive: the same key in both is fine.
      if ((level.puts.contains(k) && !then_iv.puts.contains(k)) || level.DeletesKey(k)) {
        return DuplicateKey();
      }
      level.puts.insert(k);
    }
    level.dels.insert(level.dels.end(), then_iv.dels.begin(), then_iv.dels.end());
    level.dels.insert(level.dels.end(), else_iv.dels.begin(), else_iv.dels.end());
  }
  for (const v1::RequestOp& op : ops) {
    if (!op.has_request_put()) continue;
    const std::string& k = op.request_put().key();
    if (level.puts.contains(k) || level.DeletesKey(k)) return DuplicateKey();
    level.puts.insert(k);
  }
  *out = std::move(level);
  return Status::Ok();
}

// `budget` is the number of operations this txn may use (etcd's
// checkTxnRequest): the largest of its compare, success and failure lists
// counts against it, and nested txns get what is left.
Status ValidateTxn(const v1::TxnRequest& txn, int depth, std::size_t budget, std::int64_t now_ms) {
  if (depth > kMaxTxnDepth) {
    return Status::ResourceExhausted("txn nesting is deeper than kMaxTxnDepth (" +
                                     std::to_string(kMaxTxnDepth) + ")");
  }
  const std::size_t ops = static_cast<std::size_t>(
      std::max({txn.compare_size(), txn.success_size(), txn.failure_size()}));
  if (ops > budget) {
    return Status::InvalidArgument("too many operations in txn request (limits::kMaxTxnOps = " +
                                   std::to_string(limits::kMaxTxnOps) + ", nested txns included)");
  }
  for (const v1::Compare& c : txn.compare()) ASPEN_RETURN_IF_ERROR(ValidateCompare(c));
  for (const auto* branch : {&txn.success(), &txn.failure()}) {
    for (const v1::RequestOp& op : *branch) {
      switch (op.request_case()) {
        case v1::RequestOp::kRequestRange:
          ASPEN_RETURN_IF_ERROR(ValidateRange(op.request_range()));
          break;
        case v1::RequestOp::kRequestPut:
          ASPEN_RETURN_IF_ERROR(ValidatePut(op.request_put(), now_ms));
          break;
        case v1::RequestOp::kRequestDeleteRange:
          ASPEN_RETURN_IF_ERROR(ValidateDeleteRange(op.request_delete_range()));
          break;
        case v1::RequestOp::kRequestTxn:
          ASPEN_RETURN_IF_ERROR(ValidateTxn(op.request_txn(), depth + 1, budget - ops, now_ms));
          break;
        case v1::RequestOp::REQUEST_NOT_SET:
          return Status::InvalidArgument("txn: a request op has no request");
      }
    }
  }
  if (depth == 0) {
    Intervals iv;
    ASPEN_RETURN_IF_ERROR(CheckIntervals(txn.success(), &iv));
    ASPEN_RETURN_IF_ERROR(CheckIntervals(txn.failure(), &iv));
  }
  return Status::Ok();
}

Status ValidateLeaseGrant(const v1::LeaseGrantRequest& r) {
  if (r.id() == 0) {
    return Status::InvalidArgument(
        "lease grant: ID 0; the leader must choose an id before proposing");
  }
  if (r.ttl() <= 0) return Status::InvalidArgument("lease grant: TTL must be positive");
  if (r.ttl() > kMaxLeaseTtlS) return Status::OutOfRange("too large lease TTL");
  return Status::Ok();
}

Status ValidateExpireKeys(const v1::ExpireKeysRequest& r) {
  if (r.keys_size() == 0) return Status::InvalidArgument("expire_keys: no keys given");
  if (static_cast<std::size_t>(r.keys_size()) > limits::kMaxExpiryBatchKeys) {
    return Status::ResourceExhausted("expire_keys: " + std::to_string(r.keys_size()) +
                                     " keys, over limits::kMaxExpiryBatchKeys (" +
                                     std::to_string(limits::kMaxExpiryBatchKeys) + ")");
  }
  for (const v1::ExpiringKey& k : r.keys()) ASPEN_RETURN_IF_ERROR(CheckKey(k.key(), "expire_keys"));
  return Status::Ok();
}

}  // namespace

KeyRange MakeKeyRange(std::string_view key, std::string_view range_end) {
  KeyRange r;
  r.begin = std::string(key);
  if (range_end.empty()) {
    r.single_key = true;
    r.end = std::string(key) + '\0';
  } else if (range_end == std::string_view("\0", 1)) {
    r.end = std::nullopt;
  } else {
    r.end = std::string(range_end);
  }
  return r;
}

Status ValidateRange(const v1::RangeRequest& r) {
  ASPEN_RETURN_IF_ERROR(CheckKey(r.key(), "range"));
  ASPEN_RETURN_IF_ERROR(CheckRangeEnd(r.range_end(), "range"));
  if (!v1::RangeRequest::SortOrder_IsValid(r.sort_order())) {
    return Status::InvalidArgument("range: invalid sort option (sort_order)");
  }
  if (!v1::RangeRequest::SortTarget_IsValid(r.sort_target())) {
    return Status::InvalidArgument("range: invalid sort option (sort_target)");
  }
  // A revision <= 0 reads the current revision, as in etcd (mvcc rangeKeys):
  // clientv3 passes negative revisions through unchanged.
  return Status::Ok();
}

Status Validate(const v1::Command& command) {
  const std::size_t size = command.ByteSizeLong();
  if (size > limits::kMaxRequestBytes) {
    return Status::ResourceExhausted("request is too large: " + std::to_string(size) +
                                     " bytes, over limits::kMaxRequestBytes (" +
                                     std::to_string(limits::kMaxRequestBytes) + ")");
  }
  if (command.now_ms() < 0) return Status::InvalidArgument("command: now_ms is negative");
  switch (command.op_case()) {
    case v1::Command::kPut: return ValidatePut(command.put(), command.now_ms());
    case v1::Command::kDeleteRange: return ValidateDeleteRange(command.delete_range());
    case v1::Command::kTxn:
      return ValidateTxn(command.txn(), 0, limits::kMaxTxnOps, command.now_ms());
    case v1::Command::kLeaseGrant: return ValidateLeaseGrant(command.lease_grant());
    case v1::Command::kLeaseRevoke: return Status::Ok();
    case v1::Command::kExpireKeys: return ValidateExpireKeys(command.expire_keys());
    case v1::Command::kCompact:
      // Apply compares it with the current and the compacted revision.
      return Status::Ok();
    case v1::Command::kAlarm: return ValidateAlarm(command.alarm());
    case v1::Command::OP_NOT_SET: return Status::InvalidArgument("command has no operation");
  }
  return Status::InvalidArgument("command has an unknown operation");
}

}  // namespace aspen::sm
