// Range with etcd's options; both query plans; HashKV.
#include <gtest/gtest.h>

#include "sm/sm_test_util.h"

namespace aspen::sm {
namespace {

using testing::Harness;
using testing::PutCmd;

v1::RangeRequest Req(std::string key, std::string end) {
  v1::RangeRequest r;
  r.set_key(std::move(key));
  r.set_range_end(std::move(end));
  return r;
}

std::vector<std::string> Keys(const v1::RangeResponse& r) {
  std::vector<std::string> out;
  for (const auto& kv : r.kvs()) out.push_back(kv.key());
  return out;
}

class RangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // a@2 b@3 c@4 d@5, then b rewritten @6 (version 2).
    for (const char* k : {"a", "b", "c", "d"}) h.Apply(PutCmd(k, std::string("v") + k));
    h.Apply(PutCmd("b", "v0"));
  }
  Harness h;
};

TEST_F(RangeTest, LimitSetsMoreAndCountCoversTheWholeRange) {
  v1::RangeRequest r = Req("a", "z");
  r.set_limit(2);
  v1::RangeResponse resp = h.Range(r);
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(resp.more());
  EXPECT_EQ(resp.count(), 4);
  EXPECT_EQ(resp.header().revision(), 6);
  r.set_limit(4);
  EXPECT_FALSE(h.Range(r).more());
}

TEST_F(RangeTest, SortsByTargetAndOrder) {
  v1::RangeRequest r = Req("a", "z");
  r.set_sort_target(v1::RangeRequest::MOD);
  r.set_sort_order(v1::RangeRequest::DESCEND);
  EXPECT_EQ(Keys(h.Range(r)), (std::vector<std::string>{"b", "d", "c", "a"}));
  r.set_sort_order(v1::RangeRequest::NONE);  // a non-key target defaults to ascending
  EXPECT_EQ(Keys(h.Range(r)), (std::vector<std::string>{"a", "c", "d", "b"}));
  r.set_sort_target(v1::RangeRequest::KEY);
  r.set_sort_order(v1::RangeRequest::DESCEND);
  r.set_limit(1);
  v1::RangeResponse last = h.Range(r);
  EXPECT_EQ(Keys(last), std::vector<std::string>{"d"});
  EXPECT_TRUE(last.more());
  r.set_sort_target(v1::RangeRequest::VALUE);
  r.set_sort_order(v1::RangeRequest::ASCEND);
  r.set_keys_only(true);
  v1::RangeResponse by_value = h.Range(r);
  EXPECT_EQ(Keys(by_value), std::vector<std::string>{"b"});  // "v0" sorts first
  EXPECT_EQ(by_value.kvs(0).value(), "");
}

TEST_F(RangeTest, RevisionFiltersGiveTheSameAnswerFromIndexAndScan) {
  for (int min_mod : {0, 3, 5, 6, 7}) {
    for (int max_create : {0, 3, 4}) {
      v1::RangeRequest r = Req("a", "z");
      r.set_min_mod_revision(min_mod);
      r.set_max_create_revision(max_create);
      v1::RangeResponse by_index = h.Range(r);
      v1::RangeResponse by_scan = h.Range(r, RangeOptions{.allow_index = false});
      EXPECT_EQ(by_index.SerializeAsString(), by_scan.SerializeAsString()) << min_mod;
    }
  }
  v1::RangeRequest r = Req("a", "z");
  r.set_min_mod_revision(5);
  EXPECT_EQ(Keys(h.Range(r)), (std::vector<std::string>{"b", "d"}));
  EXPECT_EQ(h.Range(r).count(), 4);  // count ignores the filters, as in etcd
}

TEST_F(RangeTest, ExtremeRevisionFiltersGiveEmptyAnswersFromBothPlans) {
  for (std::int64_t max : {INT64_MIN, std::int64_t{-1}, INT64_MAX}) {
    v1::RangeRequest r = Req("a", "z");
    r.set_min_mod_revision(INT64_MAX);
    r.set_max_mod_revision(max);
    r.set_min_create_revision(1);
    r.set_max_create_revision(max);
    EXPECT_EQ(h.Range(r).kvs_size(), 0);
    EXPECT_EQ(h.Range(r, RangeOptions{.allow_index = false}).kvs_size(), 0);
  }
}

TEST_F(RangeTest, CountOnlyAndKeysOnly) {
  v1::RangeRequest r = Req("b", "d");
  r.set_count_only(true);
  v1::RangeResponse c = h.Range(r);
  EXPECT_EQ(c.count(), 2);
  EXPECT_EQ(c.kvs_size(), 0);
  r.set_count_only(false);
  r.set_keys_only(true);
  v1::RangeResponse k = h.Range(r);
  ASSERT_EQ(k.kvs_size(), 2);
  EXPECT_EQ(k.kvs(0).value(), "");
  EXPECT_EQ(k.kvs(0).version(), 2);
}

TEST_F(RangeTest, RangeEndBeforeKeyIsEmptyAndNulEndMeansAllFollowing) {
  EXPECT_EQ(h.Range(Req("c", "b")).count(), 0);
  EXPECT_EQ(Keys(h.Range(Req("c", std::string(1, '\0')))), (std::vector<std::string>{"c", "d"}));
}

TEST_F(RangeTest, FutureRevisionIsRejectedAndPastRevisionIsReadFromHistory) {
  auto snap = h.store().GetSnapshot();
  v1::RangeRequest r = Req("a", "");
  r.set_revision(7);
  EXPECT_EQ(Range(*snap, r, h.now_ms).status().message(),
            "mvcc: required revision is a future revision");
  r.set_revision(1);
  Result<v1::RangeResponse> before = Range(*snap, r, h.now_ms);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(before->count(), 0);
  EXPECT_EQ(before->header().revision(), 6);
  r.set_revision(6);
  EXPECT_TRUE(Range(*snap, r, h.now_ms).ok());
}

TEST_F(RangeTest, NegativeRevisionReadsTheCurrentRevisionAsInEtcd) {
  v1::Command compact;
  compact.mutable_compact()->set_revision(3);
  h.Apply(compact);
  v1::RangeRequest r = Req("a", "z");
  r.set_revision(-1);
  v1::RangeResponse now = h.Range(r);
  EXPECT_EQ(Keys(now), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(now.kvs(1).value(), "v0");
  EXPECT_EQ(now.header().revision(), 6);
}

TEST_F(RangeTest, EmptyKeyAndUnknownSortAreInvalid) {
  auto snap = h.store().GetSnapshot();
  EXPECT_EQ(Range(*snap, Req("", ""), h.now_ms).status().message(), "range: key is not provided");
  v1::RangeRequest r = Req("a", "");
  r.set_sort_order(static_cast<v1::RangeRequest::SortOrder>(9));
  EXPECT_EQ(Range(*snap, r, h.now_ms).status().code(), Code::kInvalidArgument);
}

TEST_F(RangeTest, HashKvChangesWithStateAndMatchesAReplica) {
  Harness replica;
  for (const char* k : {"a", "b", "c", "d"}) replica.Apply(PutCmd(k, std::string("v") + k));
  auto before = HashKV(*replica.store().GetSnapshot());
  replica.Apply(PutCmd("b", "v0"));
  auto mine = HashKV(*h.store().GetSnapshot());
  auto theirs = HashKV(*replica.store().GetSnapshot());
  ASSERT_TRUE(mine.ok() && theirs.ok() && before.ok());
  EXPECT_EQ(mine->sha256, theirs->sha256);
  EXPECT_EQ(mine->hash32, theirs->hash32);
  EXPECT_EQ(mine->revision, 6);
  EXPECT_NE(before->sha256, theirs->sha256);
}

}  // namespace
}  // namespace aspen::sm
