// Conversions between the etcd v3 API messages (etcdserverpb, mvccpb) and the
// state machine's commands and responses (aspen.sm.v1).
//
// The two sets mirror each other field for field (proto/aspen/sm/v1/command.proto),
// so each conversion copies every etcd field and nothing else: Aspen's
// extensions (PutRequest.ttl_ms, KeyValue.expires_at_ms) are never set from an
// etcd request and never leak into an etcd response. Enum values are copied as
// numbers, unknown ones included, so sm::Validate/ValidateRange see exactly
// what the client sent and reject what is invalid.
//
// Responses are taken by rvalue reference: large values and key lists are
// moved, not copied. Thread safety: pure functions.
#pragma once

#include "aspen/sm/v1/command.pb.h"
#include "etcdserverpb/kv.pb.h"
#include "etcdserverpb/lease.pb.h"
#include "mvccpb/kv.pb.h"

namespace aspen::server {

namespace epb = ::etcdserverpb;
namespace smpb = ::aspen::sm::v1;

// ----- etcd request -> state machine request -----
smpb::RangeRequest ToSm(const epb::RangeRequest& in);
smpb::PutRequest ToSm(const epb::PutRequest& in);
smpb::DeleteRangeRequest ToSm(const epb::DeleteRangeRequest& in);
smpb::Compare ToSm(const epb::Compare& in);
smpb::TxnRequest ToSm(const epb::TxnRequest& in);
smpb::LeaseGrantRequest ToSm(const epb::LeaseGrantRequest& in);
smpb::LeaseRevokeRequest ToSm(const epb::LeaseRevokeRequest& in);

// ----- state machine response -> etcd response -----
// Each overwrites *out completely.
void FromSm(smpb::ResponseHeader&& in, epb::ResponseHeader* out);
void FromSm(smpb::KeyValue&& in, mvccpb::KeyValue* out);
void FromSm(smpb::RangeResponse&& in, epb::RangeResponse* out);
void FromSm(smpb::PutResponse&& in, epb::PutResponse* out);
void FromSm(smpb::DeleteRangeResponse&& in, epb::DeleteRangeResponse* out);
void FromSm(smpb::TxnResponse&& in, epb::TxnResponse* out);
void FromSm(smpb::LeaseGrantResponse&& in, epb::LeaseGrantResponse* out);
void FromSm(smpb::LeaseRevokeResponse&& in, epb::LeaseRevokeResponse* out);

}  // namespace aspen::server
