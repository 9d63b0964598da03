// etcd 3.4's server errors (etcdserver/api/v3rpc/rpctypes/error.go) and the
// mapping of Aspen's Status values onto them.
//
// etcd clients recognise errors by their exact gRPC code and message (the Go
// client's rpctypes.Error looks the message up in a table), so every error an
// etcd client can meet is answered with etcd's code and text verbatim.
// Errors etcd has no counterpart for (an Aspen limit such as a key over
// limits::kMaxKeyBytes, a corrupt store) keep Aspen's message, prefixed with
// "etcdserver: " like etcd's, under the gRPC code matching aspen::Code.
//
// Thread safety: everything here is a pure function or a constant.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "base/status.h"

namespace aspen::server {

struct EtcdError {
  grpc::StatusCode code;
  std::string_view message;

  grpc::Status ToGrpc() const { return grpc::Status(code, std::string(message)); }
};

namespace etcd {
using enum grpc::StatusCode;
inline constexpr EtcdError kEmptyKey{INVALID_ARGUMENT, "etcdserver: key is not provided"};
inline constexpr EtcdError kKeyNotFound{INVALID_ARGUMENT, "etcdserver: key not found"};
inline constexpr EtcdError kValueProvided{INVALID_ARGUMENT, "etcdserver: value is provided"};
inline constexpr EtcdError kLeaseProvided{INVALID_ARGUMENT, "etcdserver: lease is provided"};
inline constexpr EtcdError kTooManyOps{INVALID_ARGUMENT,
                                       "etcdserver: too many operations in txn request"};
inline constexpr EtcdError kDuplicateKey{INVALID_ARGUMENT,
                                         "etcdserver: duplicate key given in txn request"};
inline constexpr EtcdError kCompacted{OUT_OF_RANGE,
                                      "etcdserver: mvcc: required revision has been compacted"};
inline constexpr EtcdError kFutureRev{OUT_OF_RANGE,
                                      "etcdserver: mvcc: required revision is a future revision"};
inline constexpr EtcdError kLeaseNotFound{NOT_FOUND, "etcdserver: requested lease not found"};
inline constexpr EtcdError kLeaseExist{FAILED_PRECONDITION, "etcdserver: lease already exists"};
inline constexpr EtcdError kLeaseTTLTooLarge{OUT_OF_RANGE, "etcdserver: too large lease TTL"};
inline constexpr EtcdError kMemberNotFound{NOT_FOUND, "etcdserver: member not found"};
inline constexpr EtcdError kPeerURLExist{FAILED_PRECONDITION,
                                         "etcdserver: Peer URLs already exists"};
inline constexpr EtcdError kMemberBadURLs{INVALID_ARGUMENT,
                                          "etcdserver: given member URLs are invalid"};
inline constexpr EtcdError kMemberNotLearner{FAILED_PRECONDITION,
                                             "etcdserver: can only promote a learner member"};
inline constexpr EtcdError kLearnerNotReady{
    FAILED_PRECONDITION,
    "etcdserver: can only promote a learner member which is in sync with leader"};
inline constexpr EtcdError kTooManyLearners{FAILED_PRECONDITION,
                                            "etcdserver: too many learner members in cluster"};
inline constexpr EtcdError kNotEnoughStarted{
    FAILED_PRECONDITION, "etcdserver: re-configuration failed due to not enough started members"};
inline constexpr EtcdError kUnhealthy{UNAVAILABLE, "etcdserver: unhealthy cluster"};
inline constexpr EtcdError kBadLeaderTransferee{FAILED_PRECONDITION,
                                                "etcdserver: bad leader transferee"};
// Not in etcd's gRPC table: its server answers it as code UNKNOWN.
inline constexpr EtcdError kTimeoutLeaderTransfer{
    UNKNOWN, "etcdserver: request timed out, leader transfer took too long"};
inline constexpr EtcdError kRequestTooLarge{INVALID_ARGUMENT, "etcdserver: request is too large"};
inline constexpr EtcdError kTooManyRequests{RESOURCE_EXHAUSTED, "etcdserver: too many requests"};
inline constexpr EtcdError kNoLeader{UNAVAILABLE, "etcdserver: no leader"};
inline constexpr EtcdError kNotLeader{FAILED_PRECONDITION, "etcdserver: not leader"};
inline constexpr EtcdError kLeaderChanged{UNAVAILABLE, "etcdserver: leader changed"};
inline constexpr EtcdError kStopped{UNAVAILABLE, "etcdserver: server stopped"};
inline constexpr EtcdError kTimeout{UNAVAILABLE, "etcdserver: request timed out"};
inline constexpr EtcdError kCorrupt{DATA_LOSS, "etcdserver: corrupt cluster"};
inline constexpr EtcdError kNoSpace{RESOURCE_EXHAUSTED,
                                    "etcdserver: mvcc: database space exceeded"};
}  // namespace etcd

// The gRPC code for an aspen::Code: kInvalidArgument -> INVALID_ARGUMENT,
// kNotFound -> NOT_FOUND, kAlreadyExists -> ALREADY_EXISTS, kFailedPrecondition
// -> FAILED_PRECONDITION, kOutOfRange -> OUT_OF_RANGE, kResourceExhausted ->
// RESOURCE_EXHAUSTED, kCorruption -> DATA_LOSS, kIOError and kInternal ->
// INTERNAL, kUnavailable -> UNAVAILABLE, kDeadlineExceeded -> DEADLINE_EXCEEDED,
// kAborted -> ABORTED, kUnimplemented -> UNIMPLEMENTED, kOk -> OK.
grpc::StatusCode GrpcCode(Code code);

// The etcd error whose condition `status` reports, recognised by the phrase
// sm/ and node/ use for it ("lease not found", "too many operations in txn
// request", "required revision is a future revision", "no leader", "node
// stopped", "proposal not applied within N ms" (etcd's request timed out), ...),
// standing alone or after a "<what>: " prefix, and followed by nothing, ':' or
// " (" details. nullptr when `status` reports something etcd has no error for.
const EtcdError* MatchEtcdError(const Status& status);

// The gRPC status to answer for `status`: OK for an ok status, etcd's exact
// error when MatchEtcdError finds one, otherwise GrpcCode(status.code()) with
// "etcdserver: " + status.message().
grpc::Status ToGrpcStatus(const Status& status);

}  // namespace aspen::server
