#include "server/etcd_errors.h"

#include <array>
#include <string>
#include <utility>

namespace aspen::server {

grpc::StatusCode GrpcCode(Code code) {
  switch (code) {
    case Code::kOk: return grpc::StatusCode::OK;
    case Code::kInvalidArgument: return grpc::StatusCode::INVALID_ARGUMENT;
    case Code::kNotFound: return grpc::StatusCode::NOT_FOUND;
    case Code::kAlreadyExists: return grpc::StatusCode::ALREADY_EXISTS;
    case Code::kFailedPrecondition: return grpc::StatusCode::FAILED_PRECONDITION;
    case Code::kOutOfRange: return grpc::StatusCode::OUT_OF_RANGE;
    case Code::kResourceExhausted: return grpc::StatusCode::RESOURCE_EXHAUSTED;
    case Code::kCorruption: return grpc::StatusCode::DATA_LOSS;
    case Code::kIOError: return grpc::StatusCode::INTERNAL;
    case Code::kUnavailable: return grpc::StatusCode::UNAVAILABLE;
    case Code::kDeadlineExceeded: return grpc::StatusCode::DEADLINE_EXCEEDED;
    case Code::kAborted: return grpc::StatusCode::ABORTED;
    case Code::kInternal: return grpc::StatusCode::INTERNAL;
    case Code::kUnimplemented: return grpc::StatusCode::UNIMPLEMENTED;
  }
  return grpc::StatusCode::UNKNOWN;
}

namespace {

// Phrases are checked in order; a longer phrase that contains a shorter one
// comes first ("requested lease not found" before "lease not found").
constexpr std::array<std::pair<std::string_view, const EtcdError*>, 25> kPhrases{{
    {"key is not provided", &etcd::kEmptyKey},
    {"key not found", &etcd::kKeyNotFound},
    {"value is provided", &etcd::kValueProvided},
    {"lease is provided", &etcd::kLeaseProvided},
    {"too many operations in txn request", &etcd::kTooManyOps},
    {"duplicate key given in txn request", &etcd::kDuplicateKey},
    {"required revision has been compacted", &etcd::kCompacted},
    {"required revision is a future revision", &etcd::kFutureRev},
    {"requested lease not found", &etcd::kLeaseNotFound},
    {"lease not found", &etcd::kLeaseNotFound},
    {"lease already exists", &etcd::kLeaseExist},
    {"too large lease TTL", &etcd::kLeaseTTLTooLarge},
    {"member not found", &etcd::kMemberNotFound},
    {"request is too large", &etcd::kRequestTooLarge},
    {"too many requests", &etcd::kTooManyRequests},
    {"database space exceeded", &etcd::kNoSpace},
    {"no leader", &etcd::kNoLeader},
    {"not leader", &etcd::kNotLeader},
    {"leader changed", &etcd::kLeaderChanged},
    {"server stopped", &etcd::kStopped},
    {"node stopped", &etcd::kStopped},
    {"request timed out", &etcd::kTimeout},
    // node/'s deadlines and lost proposals (a phrase ending in a space matches
    // whatever follows it).
    {"proposal not applied within ", &etcd::kTimeout},
    {"read barrier not served within ", &etcd::kTimeout},
    {"proposal lost in a leader change", &etcd::kLeaderChanged},
}};

// True when `phrase` occurs in `message` as a whole clause: at the start or
// after ": ", and at the end or before ':' or " (" (anywhere when the phrase
// ends with a space).
bool HasClause(std::string_view message, std::string_view phrase) {
  for (std::size_t pos = message.find(phrase); pos != std::string_view::npos;
       pos = message.find(phrase, pos + 1)) {
    const bool starts = pos == 0 || (pos >= 2 && message.substr(pos - 2, 2) == ": ");
    const std::string_view rest = message.substr(pos + phrase.size());
    const bool ends =
        phrase.back() == ' ' || rest.empty() || rest.front() == ':' || rest.starts_with(" (");
    if (starts && ends) return true;
  }
  return false;
}

}  // namespace

const EtcdError* MatchEtcdError(const Status& status) {
  if (status.ok()) return nullptr;
  for (const auto& [phrase, error] : kPhrases) {
    if (HasClause(status.message(), phrase)) return error;
  }
  return nullptr;
}

grpc::Status ToGrpcStatus(const Status& status) {
  if (status.ok()) return grpc::Status::OK;
  if (const EtcdError* e = MatchEtcdError(status)) return e->ToGrpc();
  return grpc::Status(GrpcCode(status.code()), "etcdserver: " + status.message());
}

}  // namespace aspen::server
