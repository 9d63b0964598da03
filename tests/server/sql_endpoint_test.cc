// SQL on a real `aspen serve`: gRPC aspen.v1.SQL/Query, HTTP POST /v1/sql
// and the `aspen sql` CLI (one statement and the shell fed from stdin).
// Bounds (row limit, time limit, writes, bad SQL, bad input) are clear
// errors and the member keeps serving.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "aspen/sql/v1/sql.grpc.pb.h"
#include "client/client.h"
#include "server/serve_process.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;
namespace pb = aspen::v1;
using Json = nlohmann::json;

// SELECT x FROM 1..n, computed by SQLite (no data needed).
std::string Counting(int n) {
  return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < " +
         std::to_string(n) + ") SELECT x FROM c";
}
// Runs until its time limit.
constexpr const char* kEndless =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";

struct Streamed {
  grpc::Status status;
  std::vector<pb::QueryResponse> messages;
  std::vector<pb::Row> rows;
};

struct HttpReply {
  int status = 0;
  std::string body;
  Json json;
};

class SqlEndpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::string> dir = MakeTempDir("aspen-sql-endpoint");
    ASSERT_TRUE(dir.ok());
    auto m = AspenMember::Start("default", *dir + "/d", PickMemberPorts(), {});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    member_ = std::move(m).value().release();
    client::ClientOptions o;
    o.endpoints = {member_->endpoint()};
    auto c = client::Client::Create(o);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Put("a", "1").ok());
    ASSERT_TRUE((*c)->Put("b", R"({"n": 2})").ok());
    auto last = (*c)->Put(std::string("c\xff", 2), std::string("\xff\x01", 2));
    ASSERT_TRUE(last.ok());
    revision_ = last->header().revision();
    channel_ = new std::shared_ptr<grpc::Channel>(
        grpc::CreateChannel(member_->endpoint(), grpc::InsecureChannelCredentials()));
  }
  static void TearDownTestSuite() {
    delete channel_;
    delete member_;
  }

  static Streamed Query(const pb::QueryRequest& request) {
    auto stub = pb::SQL::NewStub(*channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    auto reader = stub->Query(&ctx, request);
    Streamed out;
    pb::QueryResponse msg;
    while (reader->Read(&msg)) {
      for (const pb::Row& r : msg.rows()) out.rows.push_back(r);
      out.messages.push_back(msg);
    }
    out.status = reader->Finish();
    return out;
  }
  static Streamed Query(const std::string& sql) {
    pb::QueryRequest r;
    r.set_sql(sql);
    return Query(r);
  }

  static std::string RawHttp(const std::string& request) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(member_->ports().metrics));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string reply;
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      timeval tv{30, 0};
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string_view left = request;
      while (!left.empty()) {
        const ssize_t n = send(fd, left.data(), left.size(), MSG_NOSIGNAL);
        if (n <= 0) break;
        left.remove_prefix(static_cast<std::size_t>(n));
      }
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) reply.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return reply;
  }
  static HttpReply Post(const std::string& body, const std::string& path = "/v1/sql") {
    const std::string raw =
        RawHttp("POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    HttpReply r;
    if (raw.size() > 12) r.status = std::atoi(raw.substr(9, 3).c_str());
    const std::size_t b = raw.find("\r\n\r\n");
    if (b != std::string::npos) r.body = raw.substr(b + 4);
    r.json = Json::parse(r.body, nullptr, false);
    return r;
  }
  static HttpReply PostJson(const Json& j) { return Post(j.dump()); }

  static ProgramRun Cli(const std::vector<std::string>& args, const std::string& input = "") {
    std::vector<std::string> argv = {ASPEN_BINARY, "sql", "--endpoints", member_->endpoint()};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, input, 30s);
  }

  // The member still answers SQL and KV after whatever a test did.
  static void ExpectStillServing() {
    Streamed s = Query("SELECT count(*) FROM kv");
    ASSERT_TRUE(s.status.ok()) << s.status.error_message();
    ASSERT_EQ(s.rows.size(), 1u);
    EXPECT_EQ(s.rows[0].values(0).int_(), 3);
    client::ClientOptions o;
    o.endpoints = {member_->endpoint()};
    auto got = client::Client::Create(o).value()->Get("a");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->kvs_size(), 1);
  }

  static AspenMember* member_;
  static std::int64_t revision_;
  static std::shared_ptr<grpc::Channel>* channel_;
};

AspenMember* SqlEndpointTest::member_ = nullptr;
std::int64_t SqlEndpointTest::revision_ = 0;
std::shared_ptr<grpc::Channel>* SqlEndpointTest::channel_ = nullptr;

// ----- gRPC -----

TEST_F(SqlEndpointTest, GrpcSendsColumnsFirstRowsThenRevisionLast) {
  Streamed s = Query("SELECT key, value, version, length(value) AS n FROM kv ORDER BY key");
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_FALSE(s.messages.empty());
  const pb::QueryResponse& first = s.messages.front();
  ASSERT_EQ(first.columns_size(), 4);
  EXPECT_EQ(first.columns(0).name(), "key");
  EXPECT_EQ(first.columns(2).name(), "version");
  EXPECT_EQ(first.columns(2).decl_type(), "INTEGER");
  EXPECT_EQ(first.columns(3).decl_type(), "");
  const pb::QueryResponse& last = s.messages.back();
  EXPECT_TRUE(last.done());
  EXPECT_EQ(last.revision(), revision_);
  EXPECT_FALSE(last.truncated());
  ASSERT_EQ(s.rows.size(), 3u);
  EXPECT_EQ(s.rows[0].values(0).text(), "a");
  EXPECT_EQ(s.rows[0].values(1).text(), "1");
  EXPECT_EQ(s.rows[0].values(2).int_(), 1);
  EXPECT_EQ(s.rows[1].values(1).text(), R"({"n": 2})");
  EXPECT_EQ(s.rows[2].values(0).blob(), std::string("c\xff", 2));  // not UTF-8: a BLOB
  EXPECT_EQ(s.rows[2].values(1).blob(), std::string("\xff\x01", 2));
}

TEST_F(SqlEndpointTest, GrpcEmptyResultStillHasColumnsAndLastMessage) {
  Streamed s = Query("SELECT key FROM kv WHERE key = 'missing'");
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.messages[0].columns_size(), 1);
  EXPECT_TRUE(s.messages[0].done());
  EXPECT_TRUE(s.rows.empty());
}

TEST_F(SqlEndpointTest, GrpcStreamsRowsInBatchesOfAtMost8192) {
  Streamed s = Query(Counting(9000));
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_EQ(s.rows.size(), 9000u);
  int with_rows = 0;
  for (const pb::QueryResponse& m : s.messages) {
    EXPECT_LE(m.rows_size(), 8192);
    with_rows += m.rows_size() > 0 ? 1 : 0;
  }
  EXPECT_GE(with_rows, 2);
  for (int i = 0; i < 9000; ++i)
    ASSERT_EQ(s.rows[static_cast<std::size_t>(i)].values(0).int_(), i + 1);
  EXPECT_FALSE(s.messages.back().truncated());
}

TEST_F(SqlEndpointTest, GrpcRowLimitTruncatesAtTheDefaultAndAtMaxRows) {
  Streamed s = Query(Counting(10'050));
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(s.rows.size(), 10'000u);
  EXPECT_TRUE(s.messages.back().truncated());

  pb::QueryRequest r;
  r.set_sql(Counting(100));
  r.set_max_rows(5);
  s = Query(r);
  ASSERT_TRUE(s.status.ok());
  EXPECT_EQ(s.rows.size(), 5u);
  EXPECT_TRUE(s.messages.back().truncated());

  r.set_max_rows(100);
  s = Query(r);
  EXPECT_EQ(s.rows.size(), 100u);
  EXPECT_FALSE(s.messages.back().truncated());

  r.set_max_rows(2'000'000);
  s = Query(r);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.status.error_message().find("max_rows 2000000 is above the limit"),
            std::string::npos);
}

TEST_F(SqlEndpointTest, GrpcBindsPositionalAndNamedParameters) {
  pb::QueryRequest r;
  r.set_sql("SELECT ?1 + 1, ?2, typeof(?3), :name || '!', key FROM kv WHERE key = :k");
  r.add_params()->set_int_(41);
  r.add_params()->set_real(2.5);
  r.add_params()->set_blob(std::string("\x00", 1));
  (*r.mutable_named_params())["name"].set_text("hi");
  (*r.mutable_named_params())[":k"].set_text("b");
  Streamed s = Query(r);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  ASSERT_EQ(s.rows.size(), 1u);
  EXPECT_EQ(s.rows[0].values(0).int_(), 42);
  EXPECT_EQ(s.rows[0].values(1).real(), 2.5);
  EXPECT_EQ(s.rows[0].values(2).text(), "blob");
  EXPECT_EQ(s.rows[0].values(3).text(), "hi!");
  EXPECT_EQ(s.rows[0].values(4).text(), "b");

  pb::QueryRequest missing;
  missing.set_sql("SELECT ?1, ?2");
  missing.add_params()->set_int_(1);
  s = Query(missing);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.status.error_message(), "parameter ?2 has no value");
}

TEST_F(SqlEndpointTest, GrpcSlowQueryTimesOutAndTheServerKeepsServing) {
  pb::QueryRequest r;
  r.set_sql(kEndless);
  r.set_timeout_ms(300);
  const auto start = std::chrono::steady_clock::now();
  Streamed s = Query(r);
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(s.status.error_message(), "query timed out after 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  ExpectStillServing();
}

TEST_F(SqlEndpointTest, GrpcClientThatStopsReadingDoesNotStallTheServer) {
  auto stub = pb::SQL::NewStub(*channel_);
  grpc::ClientContext ctx;
  pb::QueryRequest r;
  r.set_sql(
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) "
      "SELECT x, randomblob(1000) FROM c");
  r.set_max_rows(200'000);
  r.set_timeout_ms(1000);
  auto reader = stub->Query(&ctx, r);
  pb::QueryResponse msg;
  ASSERT_TRUE(reader->Read(&msg));
  EXPECT_EQ(msg.columns_size(), 2);
  // Stop reading: the server's writes back up, and the query ends at its
  // time limit instead of holding a worker.
  std::this_thread::sleep_for(2500ms);
  const auto start = std::chrono::steady_clock::now();
  ExpectStillServing();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ctx.TryCancel();
  const grpc::Status status = reader->Finish();
  EXPECT_FALSE(status.ok());
}

TEST_F(SqlEndpointTest, GrpcWriteStatementsAndBadSqlAreInvalidArgument) {
  for (const char* sql : {"DELETE FROM kv", "INSERT INTO kv(key) VALUES ('x')", "CREATE TABLE t(x)",
                          "PRAGMA case_sensitive_like=OFF"}) {
    Streamed s = Query(sql);
    EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << sql;
    EXPECT_NE(s.status.error_message().find("read-only"), std::string::npos)
        << sql << ": " << s.status.error_message();
  }
  Streamed s = Query("SELEKT 1");
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.status.error_message(), R"(SQL error: near "SELEKT": syntax error)");
  s = Query("SELECT 1; SELECT 2");
  EXPECT_EQ(s.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ExpectStillServing();
}

TEST_F(SqlEndpointTest, GrpcSerializableReadsTheLocalState) {
  pb::QueryRequest r;
  r.set_sql("SELECT count(*) FROM kv");
  r.set_consistency(pb::SERIALIZABLE);
  Streamed s = Query(r);
  ASSERT_TRUE(s.status.ok()) << s.status.error_message();
  EXPECT_EQ(s.rows[0].values(0).int_(), 3);
  EXPECT_EQ(s.messages.back().revision(), revision_);
}

// ----- HTTP -----

TEST_F(SqlEndpointTest, HttpAnswersColumnsRowsRevisionAndBlobsAsBase64) {
  HttpReply r = PostJson({{"sql", "SELECT key, value, version FROM kv ORDER BY key"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["columns"], Json({"key", "value", "version"}));
  EXPECT_EQ(r.json["revision"], revision_);
  EXPECT_EQ(r.json["truncated"], false);
  ASSERT_EQ(r.json["rows"].size(), 3u);
  EXPECT_EQ(r.json["rows"][0], Json({"a", "1", 1}));
  EXPECT_EQ(r.json["rows"][1][1], R"({"n": 2})");
  EXPECT_EQ(r.json["rows"][2][0], Json({{"base64", "Y/8="}}));
  EXPECT_EQ(r.json["rows"][2][1], Json({{"base64", "/wE="}}));
  r = PostJson({{"sql", "SELECT NULL, 1.5, 'x'"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"], Json::parse(R"([[null, 1.5, "x"]])"));
}

TEST_F(SqlEndpointTest, HttpBindsParametersAndHonoursOptions) {
  HttpReply r = PostJson({{"sql", "SELECT ?1 + 1, ?2, hex(?3), ?4"},
                          {"params", Json::parse(R"([41, "t", {"base64": "AP8="}, null])")},
                          {"consistency", "serializable"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"], Json::parse(R"([[42, "t", "00FF", null]])"));
  r = PostJson({{"sql", "SELECT value FROM kv WHERE key = :k"}, {"params", {{"k", "a"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json["rows"], Json::parse(R"([["1"]])"));
  r = PostJson({{"sql", Counting(9000)}, {"max_rows", 8500}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.json["rows"].size(), 8500u);
  EXPECT_EQ(r.json["truncated"], true);
}

TEST_F(SqlEndpointTest, HttpErrorsAreJsonWithStatusCodes) {
  struct Case {
    std::string body;
    int status;
    std::string code;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {R"({"sql": "SELEKT 1"})", 400, "INVALID_ARGUMENT", "syntax error"},
      {R"({"sql": "DELETE FROM kv"})", 400, "INVALID_ARGUMENT", "read-only"},
      {R"({"sql": ")" + std::string(kEndless) + R"(", "timeout_ms": 200})", 504,
       "DEADLINE_EXCEEDED", "query timed out after 200 ms"},
      {"not json", 400, "INVALID_ARGUMENT", "not valid JSON"},
      {R"({"params": []})", 400, "INVALID_ARGUMENT", "missing \"sql\""},
      {R"({"sql": "SELECT 1", "colour": 1})", 400, "INVALID_ARGUMENT", "unknown field"},
      {R"({"sql": "SELECT ?1", "params": [[1]]})", 400, "INVALID_ARGUMENT", "params[0]"},
      {R"({"sql": "SELECT ?1", "params": [{"base64": "!!"}]})", 400, "INVALID_ARGUMENT",
       "not valid base64"},
      {R"({"sql": "SELECT 1", "consistency": "eventual"})", 400, "INVALID_ARGUMENT", "consistency"},
      {R"({"sql": "SELECT 1", "max_rows": -1})", 400, "INVALID_ARGUMENT", "max_rows"},
  };
  for (const Case& c : cases) {
    HttpReply r = Post(c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_EQ(r.json["error"]["code"], c.code) << r.body;
    EXPECT_NE(r.json["error"]["message"].get<std::string>().find(c.message_part), std::string::npos)
        << r.body;
  }
  HttpReply r = Post("{}", "/v1/nope");
  EXPECT_EQ(r.status, 404);
  ExpectStillServing();
}

TEST_F(SqlEndpointTest, HttpBodiesAreBounded) {
  // Over the body limit: 413 before reading it.
  std::string raw = RawHttp(
      "POST /v1/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n{\"sql\": \"SELECT "
      "1\"}");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 413")) << raw;
  raw = RawHttp("POST /v1/sql HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 411")) << raw;
  raw = RawHttp("POST /v1/sql HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 501")) << raw;
  // A body shorter than its Content-Length: the server answers, it does not hang forever.
  raw = RawHttp("POST /v1/sql HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 400")) << raw;
  // GET endpoints are as before.
  raw = RawHttp("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(raw.starts_with("HTTP/1.1 200")) << raw;
  ExpectStillServing();
}

// ----- CLI -----

TEST_F(SqlEndpointTest, CliPrintsJsonExactlyAsDocumented) {
  ProgramRun r =
      Cli({"-o", "json",
           "SELECT key, value, version, NULL AS n FROM kv WHERE key <= 'b' ORDER BY key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, R"({"columns": ["key", "value", "version", "n"], "rows": [["a", "1", 1, null], )"
                   R"(["b", "{\"n\": 2}", 1, null]], "revision": )" +
                       std::to_string(revision_) + ", \"truncated\": false}\n");
}

TEST_F(SqlEndpointTest, CliPrintsCsvAndAlignedTables) {
  ProgramRun r =
      Cli({"-o", "csv", "--param", "a", "SELECT key, value, 'x,y' AS z FROM kv WHERE key = ?1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "key,value,z\r\na,1,\"x,y\"\r\n");
  r = Cli({"SELECT key, version FROM kv WHERE key < 'c' ORDER BY key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "+-----+---------+\n"
            "| key | version |\n"
            "+-----+---------+\n"
            "| a   |       1 |\n"
            "| b   |       1 |\n"
            "+-----+---------+\n"
            "(2 rows, revision " +
                std::to_string(revision_) + ")\n");
}

TEST_F(SqlEndpointTest, CliFailuresExitOneWithTheServersMessage) {
  ProgramRun r = Cli({"DELETE FROM kv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("INVALID_ARGUMENT: the SQL interface is read-only"), std::string::npos)
      << r.err;
  r = Cli({"-o", "yaml", "SELECT 1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("{table,json,csv}"), std::string::npos) << r.err;
  // No endpoint answers: the shared exit code 3 (cli/common.h).
  r = RunProgram(
      {ASPEN_BINARY, "sql", "--endpoints", "127.0.0.1:1", "--dial-timeout", "200ms", "SELECT 1"},
      "", 30s);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("aspen sql: "), std::string::npos) << r.err;
}

TEST_F(SqlEndpointTest, CliShellReadsStatementsAndCommandsFromStdin) {
  const std::string input =
      ".mode csv\n"
      "SELECT key\n"
      "  FROM kv\n"
      "  WHERE key = 'a';\n"
      ".tables\n"
      ".mode json\n"
      "SELECT 1 AS one;\n"
      ".mode table\n"
      "EXPLAIN QUERY PLAN SELECT key FROM kv WHERE key = 'a';\n"
      ".bogus\n"
      ".quit\n"
      "SELECT 'not reached';\n";
  ProgramRun r = Cli({}, input);
  EXPECT_EQ(r.exit_code, 1) << r.err;  // .bogus failed
  EXPECT_EQ(r.out,
            "key\r\na\r\n"
            "kv      leases\n"
            "{\"columns\": [\"one\"], \"rows\": [[1]], \"revision\": " +
                std::to_string(revision_) +
                ", \"truncated\": false}\n"
                "QUERY PLAN\n"
                "`--SCAN kv VIRTUAL TABLE INDEX 0:K-0=\n");
  EXPECT_EQ(r.err, "Error: unknown command .bogus; try .help\n");
}

}  // namespace
}  // namespace aspen::testing
