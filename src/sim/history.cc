#include "sim/history.h"

namespace aspen::sim {
namespace {

std::string DescribeState(const KeyState& s) {
  if (!s.present) return "absent";
  return "'" + s.value + "'@v" + std::to_string(s.version);
}

std::string DescribeCall(const Operation& op) {
  switch (op.kind) {
    case OpKind::kPut: return "put(" + op.key + ", '" + op.value + "')";
    case OpKind::kGet: return "get(" + op.key + ")";
    case OpKind::kDelete: return "delete(" + op.key + ")";
    case OpKind::kCas: return "cas(" + op.key + ", '" + op.expected + "' -> '" + op.value + "')";
  }
  return "?";
}

std::string DescribeAnswer(const Operation& op) {
  switch (op.kind) {
    case OpKind::kPut: return "prev " + DescribeState(op.read);
    case OpKind::kGet: return DescribeState(op.read);
    case OpKind::kDelete: return op.flag ? "deleted 1" : "deleted 0";
    case OpKind::kCas: return op.flag ? "succeeded" : "failed";
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

}  // namespace aspen::sim
