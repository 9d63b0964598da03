#include "server/convert.h"

#include <utility>

#include "base/assert.h"

namespace aspen::server {

smpb::RangeRequest ToSm(const epb::RangeRequest& in) {
  smpb::RangeRequest out;
  out.set_key(in.key());
  out.set_range_end(in.range_end());
  out.set_limit(in.limit());
  out.set_revision(in.revision());
  out.set_sort_order(static_cast<smpb::RangeRequest::SortOrder>(in.sort_order()));
  out.set_sort_target(static_cast<smpb::RangeRequest::SortTarget>(in.sort_target()));
  out.set_serializable(in.serializable());
  out.set_keys_only(in.keys_only());
  out.set_count_only(in.count_only());
  out.set_min_mod_revision(in.min_mod_revision());
  out.set_max_mod_revision(in.max_mod_revision());
  out.set_min_create_revision(in.min_create_revision());
  out.set_max_create_revision(in.max_create_revision());
  return out;
}

smpb::PutRequest ToSm(const epb::PutRequest& in) {
  smpb::PutRequest out;
  out.set_key(in.key());
  out.set_value(in.value());
  out.set_lease(in.lease());
  out.set_prev_kv(in.prev_kv());
  out.set_ignore_value(in.ignore_value());
  out.set_ignore_lease(in.ignore_lease());
  return out;
}

smpb::DeleteRangeRequest ToSm(const epb::DeleteRangeRequest& in) {
  smpb::DeleteRangeRequest out;
  out.set_key(in.key());
  out.set_range_end(in.range_end());
  out.set_prev_kv(in.prev_kv());
  return out;
}

smpb::Compare ToSm(const epb::Compare& in) {
  smpb::Compare out;
  out.set_result(static_cast<smpb::Compare::CompareResult>(in.result()));
  out.set_target(static_cast<smpb::Compare::CompareTarget>(in.target()));
  out.set_key(in.key());
  out.set_range_end(in.range_end());
  switch (in.target_union_case()) {
    case epb::Compare::kVersion: out.set_version(in.version()); break;
    case epb::Compare::kCreateRevision: out.set_create_revision(in.create_revision()); break;
    case epb::Compare::kModRevision: out.set_mod_revision(in.mod_revision()); break;
    case epb::Compare::kValue: out.set_value(in.value()); break;
    case epb::Compare::kLease: out.set_lease(in.lease()); break;
    case epb::Compare::TARGET_UNION_NOT_SET: break;
  }
  return out;
}

namespace {

void ToSmOp(const epb::RequestOp& in, smpb::RequestOp* out) {
  switch (in.request_case()) {
    case epb::RequestOp::kRequestRange:
      *out->mutable_request_range() = ToSm(in.request_range());
      break;
    case epb::RequestOp::kRequestPut: *out->mutable_request_put() = ToSm(in.request_put()); break;
    case epb::RequestOp::kRequestDeleteRange:
      *out->mutable_request_delete_range() = ToSm(in.request_delete_range());
      break;
    case epb::RequestOp::kRequestTxn: *out->mutable_request_txn() = ToSm(in.request_txn()); break;
    case epb::RequestOp::REQUEST_NOT_SET: break;  // sm::Validate rejects it
  }
}

}  // namespace

smpb::TxnRequest ToSm(const epb::TxnRequest& in) {
  smpb::TxnRequest out;
  out.mutable_compare()->Reserve(in.compare_size());
  for (const epb::Compare& c : in.compare()) *out.add_compare() = ToSm(c);
  out.mutable_success()->Reserve(in.success_size());
  for (const epb::RequestOp& op : in.success()) ToSmOp(op, out.add_success());
  out.mutable_failure()->Reserve(in.failure_size());
  for (const epb::RequestOp& op : in.failure()) ToSmOp(op, out.add_failure());
  return out;
}

smpb::LeaseGrantRequest ToSm(const epb::LeaseGrantRequest& in) {
  smpb::LeaseGrantRequest out;
  out.set_ttl(in.ttl());
  out.set_id(in.id());
  return out;
}

smpb::LeaseRevokeRequest ToSm(const epb::LeaseRevokeRequest& in) {
  smpb::LeaseRevokeRequest out;
  out.set_id(in.id());
  return out;
}

void FromSm(smpb::ResponseHeader&& in, epb::ResponseHeader* out) {
  out->Clear();
  out->set_cluster_id(in.cluster_id());
  out->set_member_id(in.member_id());
  out->set_revision(in.revision());
  out->set_raft_term(in.raft_term());
}

void FromSm(smpb::KeyValue&& in, mvccpb::KeyValue* out) {
  out->Clear();
  out->set_key(std::move(*in.mutable_key()));
  out->set_create_revision(in.create_revision());
  out->set_mod_revision(in.mod_revision());
  out->set_version(in.version());
  out->set_value(std::move(*in.mutable_value()));
  out->set_lease(in.lease());
}

void FromSm(smpb::RangeResponse&& in, epb::RangeResponse* out) {
  out->Clear();
  FromSm(std::move(*in.mutable_header()), out->mutable_header());
  out->mutable_kvs()->Reserve(in.kvs_size());
  for (smpb::KeyValue& kv : *in.mutable_kvs()) FromSm(std::move(kv), out->add_kvs());
  out->set_more(in.more());
  out->set_count(in.count());
}

void FromSm(smpb::PutResponse&& in, epb::PutResponse* out) {
  out->Clear();
  FromSm(std::move(*in.mutable_header()), out->mutable_header());
  if (in.has_prev_kv()) FromSm(std::move(*in.mutable_prev_kv()), out->mutable_prev_kv());
}

void FromSm(smpb::DeleteRangeResponse&& in, epb::DeleteRangeResponse* out) {
  out->Clear();
  FromSm(std::move(*in.mutable_header()), out->mutable_header());
  out->set_deleted(in.deleted());
  out->mutable_prev_kvs()->Reserve(in.prev_kvs_size());
  for (smpb::KeyValue& kv : *in.mutable_prev_kvs()) FromSm(std::move(kv), out->add_prev_kvs());
}

void FromSm(smpb::TxnResponse&& in, epb::TxnResponse* out) {
  out->Clear();
  // A nested txn's header is empty in etcd; keep it absent when sm left it so.
  if (in.has_header()) FromSm(std::move(*in.mutable_header()), out->mutable_header());
  out->set_succeeded(in.succeeded());
  out->mutable_responses()->Reserve(in.responses_size());
  for (smpb::ResponseOp& op : *in.mutable_responses()) {
    epb::ResponseOp* o = out->add_responses();
    switch (op.response_case()) {
      case smpb::ResponseOp::kResponseRange:
        FromSm(std::move(*op.mutable_response_range()), o->mutable_response_range());
        break;
      case smpb::ResponseOp::kResponsePut:
        FromSm(std::move(*op.mutable_response_put()), o->mutable_response_put());
        break;
      case smpb::ResponseOp::kResponseDeleteRange:
        FromSm(std::move(*op.mutable_response_delete_range()), o->mutable_response_delete_range());
        break;
      case smpb::ResponseOp::kResponseTxn:
        FromSm(std::move(*op.mutable_response_txn()), o->mutable_response_txn());
        break;
      case smpb::ResponseOp::RESPONSE_NOT_SET:
        ASPEN_ASSERT_MSG(false, "the state machine answered a txn op with no response");
        break;
    }
  }
}

void FromSm(smpb::LeaseGrantResponse&& in, epb::LeaseGrantResponse* out) {
  out->Clear();
  FromSm(std::move(*in.mutable_header()), out->mutable_header());
  out->set_id(in.id());
  out->set_ttl(in.ttl());
  out->set_error(std::move(*in.mutable_error()));
}

void FromSm(smpb::LeaseRevokeResponse&& in, epb::LeaseRevokeResponse* out) {
  out->Clear();
  FromSm(std::move(*in.mutable_header()), out->mutable_header());
}

}  // namespace aspen::server
