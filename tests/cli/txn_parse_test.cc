// The etcdctl txn grammar (cli/txn_parse.h) and the shared CLI helpers
// (cli/common.h): parsing, bounds, and clear errors.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <sstream>

#include "base/limits.h"
#include "cli/common.h"
#include "cli/txn_parse.h"

namespace aspen::cli {
namespace {

namespace pb = etcdserverpb;

TEST(TxnParseTest, CompareTargetsOperatorsAndValues) {
  Result<pb::Compare> v = ParseCompare(R"(value("k1") = "v1")");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->target(), pb::Compare::VALUE);
  EXPECT_EQ(v->result(), pb::Compare::EQUAL);
  EXPECT_EQ(v->key(), "k1");
  EXPECT_EQ(v->value(), "v1");

  Result<pb::Compare> m = ParseCompare(R"(mod("k") > "7")");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->target(), pb::Compare::MOD);
  EXPECT_EQ(m->result(), pb::Compare::GREATER);
  EXPECT_EQ(m->mod_revision(), 7);

  Result<pb::Compare> c = ParseCompare(R"(c("k")="0")");  // no spaces, short target
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->target(), pb::Compare::CREATE);
  EXPECT_EQ(c->create_revision(), 0);

  Result<pb::Compare> ver = ParseCompare(R"(version("k") != "2")");
  ASSERT_TRUE(ver.ok());
  EXPECT_EQ(ver->target(), pb::Compare::VERSION);
  EXPECT_EQ(ver->result(), pb::Compare::NOT_EQUAL);
  EXPECT_EQ(ver->version(), 2);

  Result<pb::Compare> lease = ParseCompare(R"(lease("k") < "694d7c6a2b8e1a04")");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->target(), pb::Compare::LEASE);
  EXPECT_EQ(lease->result(), pb::Compare::LESS);
  EXPECT_EQ(lease->lease(), 0x694d7c6a2b8e1a04);
  EXPECT_EQ(lease->key(), "k");
}

TEST(TxnParseTest, GoEscapesInKeysAndValues) {
  Result<pb::Compare> v = ParseCompare(R"(val("a\x00b\n") == "\u00e9\"q\101")");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->key(), std::string("a\0b\n", 4));
  EXPECT_EQ(v->value(), "\xc3\xa9\"qA");
  Result<pb::Compare> raw = ParseCompare("value(`a\\b`) = `x y`");
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->key(), "a\\b");
  EXPECT_EQ(raw->value(), "x y");
}

TEST(TxnParseTest, MalformedComparesNameTheFault) {
  const std::pair<const char*, const char*> cases[] = {
      {R"(value "k" = "v")", "malformed comparison"},
      {R"(size("k") = "1")", "unknown comparison target 'size'"},
      {R"(value("k") ~ "v")", "unknown comparison operator '~'"},
      {R"(mod("k") > "x")", "mod revision must be an integer"},
      {R"(value(k) = "v")", "key must be a quoted string"},
      {R"(value("k" = "v")", "missing )"},
      {R"(value("k") = "v" extra)", "trailing text"},
      {R"(value("k\q") = "v")", "unknown escape \\q"},
      {R"(lease("k") = "zz")", "lease ID must be non-zero hexadecimal"},
  };
  for (const auto& [line, want] : cases) {
    Result<pb::Compare> r = ParseCompare(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_NE(r.status().message().find(want), std::string::npos)
        << line << " -> " << r.status().message();
  }
}

TEST(TxnParseTest, RequestsWithFlagsInBothSpellings) {
  Result<pb::RequestOp> put = ParseRequestOp(R"(put "k 1" 'v "2"' --lease=1f --prev-kv)");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_TRUE(put->has_request_put());
  EXPECT_EQ(put->request_put().key(), "k 1");
  EXPECT_EQ(put->request_put().value(), "v \"2\"");
  EXPECT_EQ(put->request_put().lease(), 0x1f);
  EXPECT_TRUE(put->request_put().prev_kv());

  Result<pb::RequestOp> get = ParseRequestOp("get p/ --prefix --limit 3 --rev=9 --keys-only");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  const pb::RangeRequest& r = get->request_range();
  EXPECT_EQ(r.key(), "p/");
  EXPECT_EQ(r.range_end(), "p0");
  EXPECT_EQ(r.limit(), 3);
  EXPECT_EQ(r.revision(), 9);
  EXPECT_TRUE(r.keys_only());

  Result<pb::RequestOp> range = ParseRequestOp("get a c");
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->request_range().range_end(), "c");

  Result<pb::RequestOp> del = ParseRequestOp("del k --from-key --prev-kv");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->request_delete_range().range_end(), std::string(1, '\0'));
  EXPECT_TRUE(del->request_delete_range().prev_kv());
}

TEST(TxnParseTest, BadRequestsNameTheFault) {
  const std::pair<const char*, const char*> cases[] = {
      {"put k", "put expects KEY VALUE"},
      {"put k v extra", "put expects KEY VALUE"},
      {"watch k", "unknown request 'watch'"},
      {"get k --bogus", "unknown flag --bogus"},
      {"get k --limit", "--limit needs a value"},
      {"get k --limit=x", "--limit must be an integer"},
      {"get k z --prefix", "cannot be combined"},
      {"del k --prefix --from-key", "exclude each other"},
      {"put k v --lease=0", "--lease"},
      {"put \"k v", "unterminated quoted string"},
      {"get", "a request is put|get|del KEY"},
  };
  for (const auto& [line, want] : cases) {
    Result<pb::RequestOp> r = ParseRequestOp(line);
    ASSERT_FALSE(r.ok()) << line;
    EXPECT_NE(r.status().message().find(want), std::string::npos)
        << line << " -> " << r.status().message();
  }
}

TEST(TxnParseTest, ThreeSectionsEndedByBlankLinesOrEof) {
  std::istringstream in(
      "value(\"k\") = \"v\"\n  mod(\"k\") > \"1\"  \n\nput k w\nget k\n\ndel k\n");
  std::ostringstream prompts;
  Result<pb::TxnRequest> txn = ReadTxn(in, &prompts);
  ASSERT_TRUE(txn.ok()) << txn.status().ToString();
  EXPECT_EQ(txn->compare_size(), 2);
  EXPECT_EQ(txn->success_size(), 2);
  ASSERT_EQ(txn->failure_size(), 1);
  EXPECT_TRUE(txn->failure(0).has_request_delete_range());
  EXPECT_EQ(prompts.str(),
            "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n");

  std::istringstream empty("");
  Result<pb::TxnRequest> none = ReadTxn(empty, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->compare_size() + none->success_size() + none->failure_size(), 0);
}

TEST(TxnParseTest, ErrorsNameTheLineAndSection) {
  std::istringstream in("value(\"k\") = \"v\"\n\nput k\n\n");
  Result<pb::TxnRequest> txn = ReadTxn(in, nullptr);
  ASSERT_FALSE(txn.ok());
  EXPECT_NE(txn.status().message().find("line 3 (success request)"), std::string::npos)
      << txn.status().message();
}

TEST(TxnParseTest, MoreThanMaxOpsPerSectionIsRefused) {
  std::string text = "\n";
  for (std::size_t i = 0; i <= limits::kMaxTxnOps; ++i) text += "put k v\n";
  std::istringstream in(text);
  Result<pb::TxnRequest> txn = ReadTxn(in, nullptr);
  ASSERT_FALSE(txn.ok());
  EXPECT_NE(txn.status().message().find("more than " + std::to_string(limits::kMaxTxnOps)),
            std::string::npos)
      << txn.status().message();
}

TEST(TxnParseTest, OverlongLineIsRefused) {
  std::istringstream in("put k " + std::string(kMaxTxnLineBytes + 1, 'x') + "\n");
  Result<pb::TxnRequest> txn = ReadTxn(in, nullptr);
  ASSERT_FALSE(txn.ok());
  EXPECT_NE(txn.status().message().find("longer than"), std::string::npos);
}

// Every byte string survives Go quoting with \xHH escapes, as a compare value
// and as a request argument.
RC_GTEST_PROP(TxnParseProperty, HexEscapedBytesRoundTrip, (const std::string& bytes)) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string quoted = "\"";
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    quoted += "\\x";
    quoted += kHex[u >> 4];
    quoted += kHex[u & 15];
  }
  quoted += "\"";
  Result<pb::Compare> cmp = ParseCompare("value(\"k\") = " + quoted);
  RC_ASSERT(cmp.ok());
  RC_ASSERT(cmp->value() == bytes);
  Result<pb::RequestOp> put = ParseRequestOp("put " + quoted + " v");
  RC_ASSERT(put.ok());
  RC_ASSERT(put->request_put().key() == bytes);
}

TEST(TxnParseTest, AQuotedArgumentIsAKeyEvenWhenItLooksLikeAFlag) {
  Result<pb::RequestOp> put = ParseRequestOp(R"(put "--a" '--b')");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->request_put().key(), "--a");
  EXPECT_EQ(put->request_put().value(), "--b");
  EXPECT_FALSE(ParseRequestOp("put --a v").ok());  // bare: a flag, and an unknown one
}

RC_GTEST_PROP(CliCommonProperty, Base64RoundTrips, (const std::string& bytes)) {
  const std::string encoded = Base64(bytes);
  RC_ASSERT(encoded.size() % 4 == 0);
  Result<std::string> decoded = Base64Decode(encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == bytes);
}

TEST(CliCommonTest, LeaseHexIsZeroPaddedAndParsesBack) {
  EXPECT_EQ(LeaseHex(0x1f), "000000000000001f");
  EXPECT_EQ(LeaseHex(0x694d7c6a2b8e1a04), "694d7c6a2b8e1a04");
  EXPECT_EQ(*ParseLeaseHex("000000000000001f"), 0x1f);
  EXPECT_FALSE(ParseLeaseHex("0").ok());
  EXPECT_FALSE(ParseLeaseHex("8000000000000000").ok());  // above INT64_MAX
  EXPECT_FALSE(ParseLeaseHex("").ok());
}

TEST(CliCommonTest, DurationsNeedAUnitAndStayInRange) {
  EXPECT_EQ(ParseDuration("250ms")->count(), 250);
  EXPECT_EQ(ParseDuration("2s")->count(), 2000);
  EXPECT_EQ(ParseDuration("1.5s")->count(), 1500);
  EXPECT_EQ(ParseDuration("1m")->count(), 60000);
  for (const char* bad : {"5", "0s", "11m", "-1s", "s", "2h", "nan s"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(CliCommonTest, ExitCodesFollowTheDocumentedScheme) {
  EXPECT_EQ(ExitCodeFor(Status::Ok()), 0);
  EXPECT_EQ(ExitCodeFor(Status::InvalidArgument("x")), 1);
  EXPECT_EQ(ExitCodeFor(Status::Internal("x")), 1);
  EXPECT_EQ(ExitCodeFor(Status::NotFound("x")), 2);
  EXPECT_EQ(ExitCodeFor(Status::Unavailable("x")), 3);
  EXPECT_EQ(ExitCodeFor(Status(Code::kDeadlineExceeded, "x")), 3);
}

}  // namespace
}  // namespace aspen::cli
