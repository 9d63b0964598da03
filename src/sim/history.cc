#include "sim/history.h"

namespace aspen::sim {
namespace {

std::string DescribeState(const KeyState& s) {
  if (!s.present) return "absent";
  std::string out = "'" + s.value + "'@v" + std::to_string(s.version);
  if (s.lease != 0) out += " lease " + std::to_string(s.lease);
  return out;
}

std::string DescribeRange(const Operation& op) {
  std::string out = "{";
  for (const auto& [key, state] : op.range) {
    if (out.size() > 1) out += ", ";
    out += key + "=" + DescribeState(state);
  }
  return out + "}";
}

std::string DescribeCall(const Operation& op) {
  switch (op.kind) {
    case OpKind::kPut:
      return "put(" + op.key + ", '" + op.value + "'" +
             (op.lease != 0 ? ", lease " + std::to_string(op.lease) : "") + ")";
    case OpKind::kGet: return "get(" + op.key + ")";
    case OpKind::kDelete: return "delete(" + op.key + ")";
    case OpKind::kCas: return "cas(" + op.key + ", '" + op.expected + "' -> '" + op.value + "')";
    case OpKind::kRange: return "range(" + op.key + ")";
    case OpKind::kLeaseGrant:
      return "grant(lease " + std::to_string(op.lease) + ", ttl " + std::to_string(op.ttl_s) + "s)";
    case OpKind::kLeaseRevoke: return "revoke(lease " + std::to_string(op.lease) + ")";
    case OpKind::kKeepAlive: return "keepalive(lease " + std::to_string(op.lease) + ")";
    case OpKind::kLeaseExpire: return "expire(lease " + std::to_string(op.lease) + ")";
  }
  return "?";
}

std::string DescribeAnswer(const Operation& op) {
  switch (op.kind) {
    case OpKind::kPut: return op.flag ? "lease not found" : "prev " + DescribeState(op.read);
    case OpKind::kGet: return DescribeState(op.read);
    case OpKind::kDelete: return op.flag ? "deleted 1" : "deleted 0";
    case OpKind::kCas: return op.flag ? "succeeded" : "failed";
    case OpKind::kRange: return DescribeRange(op);
    case OpKind::kLeaseGrant: return op.flag ? "lease already exists" : "granted";
    case OpKind::kLeaseRevoke:
    case OpKind::kKeepAlive:
    case OpKind::kLeaseExpire: return op.flag ? "found" : "lease not found";
  }
  return "?";
}

}  // namespace

std::string DescribeOperation(const Operation& op) {
  std::string s =
      "client " + std::to_string(op.client) + " [" + std::to_string(op.invoke_ms) + "ms, ";
  if (op.outcome == Outcome::kOk) {
    s += std::to_string(op.return_ms) + "ms] " + DescribeCall(op) + " -> " + DescribeAnswer(op);
  } else {
    s += "?] " + DescribeCall(op) + " -> unknown outcome";
    if (op.applied_by_ms >= 0) s += " (applied by " + std::to_string(op.applied_by_ms) + "ms)";
  }
  return s;
}

std::string LeaseSlotPrefix(int slot) {
  return "l" + std::to_string(slot) + "/";
}

std::string PartitionOf(const std::string& key) {
  const std::size_t slash = key.find('/');
  return slash == std::string::npos ? key : key.substr(0, slash + 1);
}

std::int64_t MakeLeaseId(int slot, int client, std::uint64_t n) {
  return static_cast<std::int64_t>((static_cast<std::uint64_t>(slot + 1) << 40) |
                                   (static_cast<std::uint64_t>(client) << 24) | (n & 0xffffff));
}

int LeaseSlotOf(std::int64_t lease) {
  return static_cast<int>((static_cast<std::uint64_t>(lease) >> 40) - 1);
}

}  // namespace aspen::sim
