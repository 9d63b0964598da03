// SQL on every member of a 3-member cluster: a follower answers a
// linearizable query (ReadIndex through the leader) with every write
// acknowledged before it, through gRPC and through the aspen sql CLI.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <thread>

#include "aspen/sql/v1/sql.grpc.pb.h"
#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;
namespace pb = aspen::v1;

// Runs `sql` on `endpoint`; the first column of the first row, or -1.
std::int64_t QueryInt(const std::string& endpoint, const std::string& sql,
                      pb::Consistency consistency = pb::LINEARIZABLE) {
  auto stub = pb::SQL::NewStub(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  pb::QueryRequest r;
  r.set_sql(sql);
  r.set_consistency(consistency);
  auto reader = stub->Query(&ctx, r);
  pb::QueryResponse msg;
  std::int64_t value = -1;
  while (reader->Read(&msg)) {
    if (value == -1 && msg.rows_size() > 0) value = msg.rows(0).values(0).int_();
  }
  const grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << endpoint << ": " << status.error_message();
  return value;
}

TEST(SqlClusterTest, FollowersAnswerLinearizableQueriesWithEveryAcknowledgedWrite) {
  Result<std::string> dir = MakeTempDir("aspen-sql-cluster");
  ASSERT_TRUE(dir.ok());
  Result<AspenCluster> cluster = AspenCluster::Start(*dir, 3);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  std::vector<std::unique_ptr<AspenMember>>& members = cluster->members;
  const std::vector<std::string>& endpoints = cluster->endpoints;
  const std::uint64_t leader = WaitForLeader(endpoints, 20s);
  ASSERT_NE(leader, 0u) << members[0]->Log();
  const int leader_index = IndexOfMember(endpoints, leader);
  ASSERT_GE(leader_index, 0);
  auto writer = ClientFor({endpoints[leader_index]});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(writer->Put("k" + std::to_string(i), std::to_string(i)).ok());
    // Acknowledged by the leader, so visible at once to a linearizable read anywhere.
    for (int f = 0; f < 3; ++f) {
      EXPECT_EQ(QueryInt(endpoints[f], "SELECT count(*) FROM kv"), i + 1) << "member " << f;
    }
  }
  // Serializable reads answer from the member's own state (eventually the same).
  const int follower = (leader_index + 1) % 3;
  EXPECT_LE(QueryInt(endpoints[follower], "SELECT count(*) FROM kv", pb::SERIALIZABLE), 10);

  // The CLI on a follower, with the leader's endpoint unreachable first in the list.
  ProgramRun r = RunProgram({ASPEN_BINARY, "sql", "--dial-timeout", "300ms", "--endpoints",
                             "127.0.0.1:1," + endpoints[follower], "-o", "csv",
                             "SELECT sum(CAST(value AS INTEGER)) AS total FROM kv"},
                            "", 30s);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "total\r\n45\r\n");
}

}  // namespace
}  // namespace aspen::testing
