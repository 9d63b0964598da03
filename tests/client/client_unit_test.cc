// Client pieces that need no server: endpoint parsing, status mapping,
// prefix ranges and option validation.
#include <gtest/gtest.h>

#include "client/client.h"
#include "client/endpoints.h"
#include "client/grpc_status.h"

namespace aspen::client {
namespace {

TEST(EndpointsTest, AcceptsHostPortAndHttpUrls) {
  EXPECT_EQ(ParseEndpoint("127.0.0.1:2379").value(), "127.0.0.1:2379");
  EXPECT_EQ(ParseEndpoint("http://localhost:2379/").value(), "localhost:2379");
  EXPECT_EQ(ParseEndpoint("[::1]:2379").value(), "[::1]:2379");
}

TEST(EndpointsTest, RejectsMalformedEndpointsNamingThem) {
  for (const char* bad : {"", "localhost", "https://h:1", "unix:///tmp/s", "h:0", "h:65536",
                          "h:12x", ":2379", "[::1:2379"}) {
    Result<std::string> r = ParseEndpoint(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find(std::string("'") + bad + "'"), std::string::npos)
        << r.status().message();
  }
}

TEST(EndpointsTest, ListSplitsOnCommasAndBoundsItsLength) {
  Result<std::vector<std::string>> two = ParseEndpointList("a:1,http://b:2");
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two.value(), (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_FALSE(ParseEndpointList("").ok());
  EXPECT_FALSE(ParseEndpointList("a:1,,b:2").ok());
  EXPECT_FALSE(ParseEndpointList("a:1,").ok());
  std::string many;
  for (std::size_t i = 0; i <= kMaxEndpoints; ++i)
    many += (i ? ",h:" : "h:") + std::to_string(i + 1);
  Result<std::vector<std::string>> too_many = ParseEndpointList(many);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("more than 64"), std::string::npos);
}

TEST(GrpcStatusTest, KeepsTheExactGrpcCodeInTheMessage) {
  const Status s = FromGrpc(grpc::Status(grpc::StatusCode::NOT_FOUND, "lease gone"));
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "NOT_FOUND: lease gone");
  EXPECT_TRUE(FromGrpc(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, MapsEveryGrpcCodeToANonOkCode) {
  for (int c = 1; c <= 16; ++c) {
    const auto code = static_cast<grpc::StatusCode>(c);
    const Status s = FromGrpc(grpc::Status(code, "m"));
    EXPECT_FALSE(s.ok()) << c;
    EXPECT_EQ(s.message(), std::string(GrpcCodeName(code)) + ": m");
    EXPECT_NE(GrpcCodeName(code), "UNKNOWN_CODE") << c;
  }
  EXPECT_EQ(FromGrpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")).code(), Code::kUnavailable);
  EXPECT_EQ(FromGrpc(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "")).code(),
            Code::kResourceExhausted);
  EXPECT_EQ(FromGrpc(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "")).code(),
            Code::kDeadlineExceeded);
}

TEST(PrefixEndTest, IncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(PrefixEnd("abc"), "abd");
  EXPECT_EQ(PrefixEnd("a\xff"), "b");
  EXPECT_EQ(PrefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(PrefixEnd(""), std::string(1, '\0'));
}

TEST(ClientCreateTest, RejectsBadOptions) {
  ClientOptions none;
  EXPECT_EQ(Client::Create(none).status().code(), Code::kInvalidArgument);
  ClientOptions bad_endpoint;
  bad_endpoint.endpoints = {"https://secure:2379"};
  EXPECT_EQ(Client::Create(bad_endpoint).status().code(), Code::kInvalidArgument);
  ClientOptions zero_timeout;
  zero_timeout.endpoints = {"127.0.0.1:2379"};
  zero_timeout.call_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(Client::Create(zero_timeout).status().code(), Code::kInvalidArgument);
}

TEST(ClientCreateTest, DoesNotConnectEagerly) {
  ClientOptions options;
  options.endpoints = {"127.0.0.1:1"};
  Result<std::unique_ptr<Client>> client = Client::Create(options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->current_endpoint(), "127.0.0.1:1");
}

}  // namespace
}  // namespace aspen::client
