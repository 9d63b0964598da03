// The mapping of sm/ and node/ failures onto etcd 3.4's exact gRPC errors.
#include "server/etcd_errors.h"

#include <gtest/gtest.h>

#include <string>

#include "base/limits.h"
#include "sm/validate.h"

namespace aspen::server {
namespace {

using grpc::StatusCode;

grpc::Status ValidateToGrpc(const sm::v1::Command& command) {
  return ToGrpcStatus(sm::Validate(command));
}

sm::v1::Command PutCommand(std::string key, std::string value) {
  sm::v1::Command c;
  c.set_now_ms(1);
  c.mutable_put()->set_key(std::move(key));
  c.mutable_put()->set_value(std::move(value));
  return c;
}

TEST(EtcdErrorsTest, OkStatusIsGrpcOk) {
  EXPECT_TRUE(ToGrpcStatus(Status::Ok()).ok());
}

TEST(EtcdErrorsTest, EmptyPutKeyIsEtcdEmptyKey) {
  grpc::Status s = ValidateToGrpc(PutCommand("", "v"));
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "etcdserver: key is not provided");
}

TEST(EtcdErrorsTest, IgnoreValueWithValueIsValueProvided) {
  sm::v1::Command c = PutCommand("k", "v");
  c.mutable_put()->set_ignore_value(true);
  grpc::Status s = ValidateToGrpc(c);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "etcdserver: value is provided");
}

TEST(EtcdErrorsTest, IgnoreLeaseWithLeaseIsLeaseProvided) {
  sm::v1::Command c = PutCommand("k", "");
  c.mutable_put()->set_ignore_lease(true);
  c.mutable_put()->set_lease(5);
  grpc::Status s = ValidateToGrpc(c);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "etcdserver: lease is provided");
}

TEST(EtcdErrorsTest, TxnOverTheOpLimitIsTooManyOps) {
  sm::v1::Command c;
  c.set_now_ms(1);
  for (std::size_t i = 0; i <= limits::kMaxTxnOps; ++i) {
    auto* put = c.mutable_txn()->add_success()->mutable_request_put();
    put->set_key("k" + std::to_string(i));
  }
  grpc::Status s = ValidateToGrpc(c);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "etcdserver: too many operations in txn request");
}

TEST(EtcdErrorsTest, TxnPuttingOneKeyTwiceIsDuplicateKey) {
  sm::v1::Command c;
  c.set_now_ms(1);
  c.mutable_txn()->add_success()->mutable_request_put()->set_key("k");
  c.mutable_txn()->add_success()->mutable_request_put()->set_key("k");
  grpc::Status s = ValidateToGrpc(c);
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "etcdserver: duplicate key given in txn request");
}

TEST(EtcdErrorsTest, OversizedCommandIsRequestTooLarge) {
  grpc::Status s = ValidateToGrpc(PutCommand("k", std::string(limits::kMaxRequestBytes + 1, 'x')));
  EXPECT_EQ(s.error_code(), StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "etcdserver: request is too large");
}

TEST(EtcdErrorsTest, ValueOverItsLimitKeepsAspenMessageNamingTheLimit) {
  grpc::Status s = ValidateToGrpc(PutCommand("k", std::string(limits::kMaxValueBytes + 1, 'x')));
  EXPECT_EQ(s.error_code(), StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(s.error_message().rfind("etcdserver: put: value is ", 0), 0u) << s.error_message();
  EXPECT_NE(s.error_message().find("kMaxValueBytes"), std::string::npos);
}

TEST(EtcdErrorsTest, StateMachinePhrasesMapToEtcdErrors) {
  struct Case {
    Status status;
    StatusCode code;
    const char* message;
  };
  const Case cases[] = {
      {Status::NotFound("lease not found"), StatusCode::NOT_FOUND,
       "etcdserver: requested lease not found"},
      {Status::FailedPrecondition("lease already exists"), StatusCode::FAILED_PRECONDITION,
       "etcdserver: lease already exists"},
      {Status::OutOfRange("too large lease TTL"), StatusCode::OUT_OF_RANGE,
       "etcdserver: too large lease TTL"},
      {Status::OutOfRange("required revision is a future revision"), StatusCode::OUT_OF_RANGE,
       "etcdserver: mvcc: required revision is a future revision"},
      {Status::InvalidArgument("key not found"), StatusCode::INVALID_ARGUMENT,
       "etcdserver: key not found"},
      {Status::Unavailable("no leader"), StatusCode::UNAVAILABLE, "etcdserver: no leader"},
      {Status::Unavailable("propose: no leader (term 7)"), StatusCode::UNAVAILABLE,
       "etcdserver: no leader"},
      {Status::Unavailable("server stopped"), StatusCode::UNAVAILABLE,
       "etcdserver: server stopped"},
      {Status::Unavailable("request timed out"), StatusCode::UNAVAILABLE,
       "etcdserver: request timed out"},
      {Status::Unavailable("leader changed"), StatusCode::UNAVAILABLE,
       "etcdserver: leader changed"},
      {Status::Unavailable("node stopped"), StatusCode::UNAVAILABLE, "etcdserver: server stopped"},
      {Status(Code::kDeadlineExceeded,
              "proposal not applied within 5000 ms; its outcome is unknown"),
       StatusCode::UNAVAILABLE, "etcdserver: request timed out"},
      {Status(Code::kDeadlineExceeded, "read barrier not served within 5000 ms"),
       StatusCode::UNAVAILABLE, "etcdserver: request timed out"},
      {Status::Unavailable("proposal lost in a leader change (another entry was committed at 7)"),
       StatusCode::UNAVAILABLE, "etcdserver: leader changed"},
      {Status::Unavailable("not leader (leader is 3)"), StatusCode::FAILED_PRECONDITION,
       "etcdserver: not leader"},
  };
  for (const Case& c : cases) {
    grpc::Status s = ToGrpcStatus(c.status);
    EXPECT_EQ(s.error_code(), c.code) << c.status.ToString();
    EXPECT_EQ(s.error_message(), c.message) << c.status.ToString();
  }
}

TEST(EtcdErrorsTest, PhraseInsideAnotherClauseIsNotMatched) {
  // "no leader" appears, but not as a clause of its own.
  EXPECT_EQ(MatchEtcdError(Status::Unavailable("peer 3: no leadership info")), nullptr);
  EXPECT_EQ(MatchEtcdError(Status::Internal("a key not foundational")), nullptr);
}

TEST(EtcdErrorsTest, UnmatchedStatusKeepsMessageUnderMappedCode) {
  grpc::Status s = ToGrpcStatus(Status::Corruption("kv record is empty"));
  EXPECT_EQ(s.error_code(), StatusCode::DATA_LOSS);
  EXPECT_EQ(s.error_message(), "etcdserver: kv record is empty");
  EXPECT_EQ(ToGrpcStatus(Status::Unimplemented("x")).error_code(), StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(ToGrpcStatus(Status::IOError("x")).error_code(), StatusCode::INTERNAL);
}

TEST(EtcdErrorsTest, EveryCodeHasAGrpcCode) {
  for (int c = 0; c <= static_cast<int>(Code::kUnimplemented); ++c) {
    EXPECT_NE(GrpcCode(static_cast<Code>(c)), StatusCode::UNKNOWN) << c;
  }
}

}  // namespace
}  // namespace aspen::server
