#include "sim/commands.h"

#include <google/protobuf/unknown_field_set.h>

namespace aspen::sim {
namespace {

KeyState FromKv(const sm::v1::KeyValue& kv) {
  return KeyState{true, kv.value(), kv.version(), kv.lease()};
}

// The error code of a response that failed deterministically (0: none).
int ErrorCode(const sm::v1::Response& response) {
  return response.has_error() ? response.error().code() : 0;
}

constexpr int kNotFound = static_cast<int>(Code::kNotFound);
constexpr int kFailedPrecondition = static_cast<int>(Code::kFailedPrecondition);

}  // namespace

std::string EncodeWrite(const Operation& op, std::int64_t now_ms) {
  sm::v1::Command cmd;
  cmd.set_now_ms(now_ms);
  switch (op.kind) {
    case OpKind::kPut: {
      sm::v1::PutRequest* put = cmd.mutable_put();
      put->set_key(op.key);
      put->set_value(op.value);
      put->set_lease(op.lease);
      put->set_prev_kv(true);
      break;
    }
    case OpKind::kLeaseGrant:
      cmd.mutable_lease_grant()->set_id(op.lease);
      cmd.mutable_lease_grant()->set_ttl(op.ttl_s);
      break;
    case OpKind::kLeaseRevoke: cmd.mutable_lease_revoke()->set_id(op.lease); break;
    case OpKind::kDelete: cmd.mutable_delete_range()->set_key(op.key); break;
    case OpKind::kCas: {
      sm::v1::TxnRequest* txn = cmd.mutable_txn();
      sm::v1::Compare* cmp = txn->add_compare();
      cmp->set_result(sm::v1::Compare::EQUAL);
      cmp->set_target(sm::v1::Compare::VALUE);
      cmp->set_key(op.key);
      cmp->set_value(op.expected);
      sm::v1::PutRequest* put = txn->add_success()->mutable_request_put();
      put->set_key(op.key);
      put->set_value(op.value);
      break;
    }
    case OpKind::kGet:
    case OpKind::kRange:
    case OpKind::kKeepAlive:
    case OpKind::kLeaseExpire: ASPEN_ASSERT_MSG(false, "not a client write command");
  }
  cmd.GetReflection()->MutableUnknownFields(&cmd)->AddVarint(kClientMarkField, 1);
  std::string out;
  const bool serialized = cmd.SerializeToString(&out);
  ASPEN_ASSERT(serialized);
  return out;
}

bool IsClientCommand(const sm::v1::Command& cmd) {
  const google::protobuf::UnknownFieldSet& fields = cmd.GetReflection()->GetUnknownFields(cmd);
  for (int i = 0; i < fields.field_count(); ++i) {
    if (fields.field(i).number() == kClientMarkField) return true;
  }
  return false;
}

sm::v1::RangeRequest GetRequest(const Operation& op) {
  sm::v1::RangeRequest req;
  req.set_key(op.key);
  if (op.kind == OpKind::kRange) {
    // The prefix's end: its last byte ('/') plus one.
    std::string end = op.key;
    ASPEN_ASSERT(!end.empty() && end.back() == '/');
    end.back() = static_cast<char>('/' + 1);
    req.set_range_end(end);
  }
  return req;
}

Status DecodeWriteResponse(const Operation& op, const sm::v1::Response& response,
                           ClientReply* reply) {
  const int code = ErrorCode(response);
  // The deterministic refusals a correct run may produce.
  const bool lease_missing = code == kNotFound && op.kind == OpKind::kPut && op.lease != 0;
  if (lease_missing || (code == kNotFound && op.kind == OpKind::kLeaseRevoke) ||
      (code == kFailedPrecondition && op.kind == OpKind::kLeaseGrant)) {
    reply->flag = op.kind == OpKind::kPut || op.kind == OpKind::kLeaseGrant;
    return Status::Ok();
  }
  if (code != 0) {
    return Status::Internal("state machine refused " + DescribeOperation(op) + ": " +
                            response.error().message());
  }
  switch (op.kind) {
    case OpKind::kPut:
      if (!response.has_put()) break;
      reply->read = response.put().has_prev_kv() ? FromKv(response.put().prev_kv()) : KeyState{};
      return Status::Ok();
    case OpKind::kDelete:
      if (!response.has_delete_range()) break;
      reply->flag = response.delete_range().deleted() > 0;
      return Status::Ok();
    case OpKind::kCas:
      if (!response.has_txn()) break;
      reply->flag = response.txn().succeeded();
      return Status::Ok();
    case OpKind::kLeaseGrant:
      if (!response.has_lease_grant()) break;
      reply->flag = false;
      return Status::Ok();
    case OpKind::kLeaseRevoke:
      if (!response.has_lease_revoke()) break;
      reply->flag = true;
      return Status::Ok();
    case OpKind::kGet:
    case OpKind::kRange:
    case OpKind::kKeepAlive:
    case OpKind::kLeaseExpire: break;
  }
  return Status::Internal("state machine answered " + DescribeOperation(op) +
                          " with a result of the wrong type");
}

std::optional<std::string> WrittenValue(std::string_view entry_data,
                                        const sm::v1::Response& response) {
  sm::v1::Command cmd;
  if (entry_data.empty() ||
      !cmd.ParseFromArray(entry_data.data(), static_cast<int>(entry_data.size())) ||
      ErrorCode(response) != 0) {
    return std::nullopt;
  }
  if (cmd.has_put()) return cmd.put().value();
  if (cmd.has_txn() && response.has_txn() && response.txn().succeeded() &&
      cmd.txn().success_size() == 1 && cmd.txn().success(0).has_request_put()) {
    return cmd.txn().success(0).request_put().value();
  }
  return std::nullopt;
}

Status DecodeGetResponse(const Operation& op, const sm::v1::RangeResponse& response,
                         ClientReply* reply) {
  if (op.kind == OpKind::kRange) {
    reply->range.clear();
    for (const sm::v1::KeyValue& kv : response.kvs())
      reply->range.emplace_back(kv.key(), FromKv(kv));
    return Status::Ok();
  }
  if (response.kvs_size() > 1) {
    return Status::Internal("a single-key range answered " + std::to_string(response.kvs_size()) +
                            " keys");
  }
  reply->read = response.kvs_size() == 1 ? FromKv(response.kvs(0)) : KeyState{};
  return Status::Ok();
}

}  // namespace aspen::sim
