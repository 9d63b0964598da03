// Leases and per-key TTL.
#include <gtest/gtest.h>

#include "base/limits.h"
#include "sm/sm_test_util.h"
#include "sm/validate.h"

namespace aspen::sm {
namespace {

using testing::DelCmd;
using testing::ErrorCode;
using testing::GrantCmd;
using testing::Harness;
using testing::PutCmd;
using testing::RevokeCmd;

v1::Command ExpireCmd(std::vector<std::pair<std::string, std::int64_t>> keys) {
  v1::Command c;
  for (auto& [k, rev] : keys) {
    v1::ExpiringKey* e = c.mutable_expire_keys()->add_keys();
    e->set_key(k);
    e->set_mod_revision(rev);
  }
  return c;
}

TEST(StateMachineLease, LeaseGrantDoesNotBumpRevision) {
  Harness h;
  v1::Response r = h.Apply(GrantCmd(5, 30));
  EXPECT_EQ(r.lease_grant().id(), 5);
  EXPECT_EQ(r.lease_grant().ttl(), 30);
  EXPECT_EQ(r.lease_grant().header().revision(), 1);
  EXPECT_EQ(h.sm().revision(), 1);
}

TEST(StateMachineLease, GrantOfAnExistingIdIsLeaseAlreadyExists) {
  Harness h;
  h.Apply(GrantCmd(5, 30));
  v1::Response r = h.Apply(GrantCmd(5, 60));
  EXPECT_EQ(ErrorCode(r), Code::kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "lease already exists");
}

TEST(StateMachineLease, GrantWithIdZeroOrBadTtlIsRejected) {
  Harness h;
  EXPECT_EQ(ErrorCode(h.Apply(GrantCmd(0, 30))), Code::kInvalidArgument);
  EXPECT_EQ(ErrorCode(h.Apply(GrantCmd(1, 0))), Code::kInvalidArgument);
  EXPECT_EQ(h.Apply(GrantCmd(1, kMaxLeaseTtlS + 1)).error().message(), "too large lease TTL");
}

TEST(StateMachineLease, LeaseRevokeDeletesAttachedKeysInOneRevision) {
  Harness h;
  h.Apply(GrantCmd(5, 30));
  h.Apply(PutCmd("a", "1", 5));
  h.Apply(PutCmd("b", "2", 5));
  h.Apply(PutCmd("c", "3"));
  v1::Response r = h.Apply(RevokeCmd(5));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(r.lease_revoke().header().revision(), 5);
  EXPECT_EQ(h.sm().revision(), 5);
  EXPECT_EQ(h.Get("a", "z").count(), 1);
  auto snap = h.store().GetSnapshot();
  EXPECT_EQ(LeaseTimeToLive(*snap, 5, h.now_ms).status().code(), Code::kNotFound);
}

TEST(StateMachineLease, RevokeOfUnknownLeaseIsLeaseNotFound) {
  Harness h;
  v1::Response r = h.Apply(RevokeCmd(5));
  EXPECT_EQ(ErrorCode(r), Code::kNotFound);
  EXPECT_EQ(r.error().message(), "lease not found");
}

TEST(StateMachineLease, RevokeWithoutKeysDoesNotBumpRevision) {
  Harness h;
  h.Apply(GrantCmd(5, 30));
  h.Apply(RevokeCmd(5));
  EXPECT_EQ(h.sm().revision(), 1);
}

TEST(StateMachineLease, ReattachedKeyLeavesTheOldLease) {
  Harness h;
  h.Apply(GrantCmd(1, 30));
  h.Apply(GrantCmd(2, 30));
  h.Apply(PutCmd("a", "1", 1));
  h.Apply(PutCmd("a", "2", 2));
  h.Apply(RevokeCmd(1));
  EXPECT_EQ(h.GetOne("a").value(), "2");
  auto snap = h.store().GetSnapshot();
  auto ttl = LeaseTimeToLive(*snap, 2, h.now_ms);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->keys, std::vector<std::string>{"a"});
}

TEST(StateMachineLease, LeasesAndTimeToLiveReportWhatWasGranted) {
  Harness h;
  h.Apply(GrantCmd(3, 10));
  h.Apply(GrantCmd(1, 20));
  h.Apply(PutCmd("x", "1", 3));
  h.Apply(PutCmd("y", "1", 3));
  auto snap = h.store().GetSnapshot();
  auto all = Leases(*snap);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, 1);
  EXPECT_EQ((*all)[1].granted_ttl_s, 10);
  auto ttl = LeaseTimeToLive(*snap, 3, h.now_ms);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->keys, (std::vector<std::string>{"x", "y"}));
}

TEST(StateMachineTtl, PutWithTtlSetsExpiresAtFromTheCommandTime) {
  Harness h;
  v1::Command c = PutCmd("a", "1", 0, 500);
  c.set_now_ms(2000);
  h.Apply(c);
  h.now_ms = 2000;
  EXPECT_EQ(h.GetOne("a").expires_at_ms(), 2500);
}

TEST(StateMachineTtl, ExpiredKeyIsHiddenFromRange) {
  Harness h;
  h.Apply(PutCmd("a", "1", 0, 100));
  h.Apply(PutCmd("b", "2"));
  h.now_ms += 99;
  EXPECT_EQ(h.Get("a", "z").count(), 2);
  h.now_ms += 1;
  v1::RangeResponse r = h.Get("a", "z");
  EXPECT_EQ(r.count(), 1);
  EXPECT_EQ(r.kvs(0).key(), "b");
}

TEST(StateMachineTtl, ExpiredKeyCountsAsMissingForWrites) {
  Harness h;
  h.Apply(PutCmd("a", "1", 0, 100));
  h.now_ms += 200;
  // A Put starts a new life; DeleteRange does not see it.
  EXPECT_EQ(h.Apply(DelCmd("a")).delete_range().deleted(), 0);
  h.Apply(PutCmd("a", "2"));
  v1::KeyValue kv = h.GetOne("a");
  EXPECT_EQ(kv.version(), 1);
  EXPECT_EQ(kv.create_revision(), 3);
  EXPECT_EQ(kv.expires_at_ms(), 0);
}

TEST(StateMachineTtl, ExpiredKeysListsEarliestFirstAndIsBounded) {
  Harness h;
  h.Apply(PutCmd("late", "1", 0, 300));
  h.Apply(PutCmd("early", "1", 0, 100));
  h.Apply(PutCmd("never", "1"));
  h.Apply(PutCmd("future", "1", 0, 10'000));
  auto snap = h.store().GetSnapshot();
  auto keys = ExpiredKeys(*snap, h.now_ms + 1000, 10);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key(), "early");
  EXPECT_EQ((*keys)[0].mod_revision(), 3);
  EXPECT_EQ((*keys)[1].key(), "late");
  EXPECT_EQ(ExpiredKeys(*snap, h.now_ms + 1000, 1)->size(), 1u);
  EXPECT_TRUE(ExpiredKeys(*snap, h.now_ms, 10)->empty());
}

TEST(StateMachineTtl, ExpireKeysDeletesOnlyKeysStillExpiredAndUnchanged) {
  Harness h;
  h.Apply(PutCmd("a", "1", 0, 100));  // rev 2
  h.Apply(PutCmd("b", "1", 0, 100));  // rev 3
  h.Apply(PutCmd("c", "1", 0, 100));  // rev 4
  h.Apply(PutCmd("b", "2", 0, 100));  // rev 5: rewritten after the leader looked
  v1::Command c = ExpireCmd({{"a", 2}, {"b", 3}, {"c", 4}, {"missing", 1}});
  c.set_now_ms(h.now_ms + 50);  // c not yet expired at this time
  EXPECT_EQ(h.Apply(c).expire_keys().deleted(), 0);
  c.set_now_ms(h.now_ms + 100);
  v1::Response r = h.Apply(c);
  EXPECT_EQ(r.expire_keys().deleted(), 2);
  EXPECT_EQ(r.expire_keys().header().revision(), 6);
  h.now_ms += 50;
  EXPECT_EQ(h.Get("a", "z").count(), 1);
  EXPECT_EQ(h.GetOne("b").value(), "2");
}

TEST(StateMachineTtl, ExpireKeysBatchIsBounded) {
  Harness h;
  std::vector<std::pair<std::string, std::int64_t>> keys;
  for (std::size_t i = 0; i <= limits::kMaxExpiryBatchKeys; ++i)
    keys.emplace_back("k" + std::to_string(i), 1);
  v1::Response r = h.Apply(ExpireCmd(keys));
  EXPECT_EQ(ErrorCode(r), Code::kResourceExhausted);
  EXPECT_NE(r.error().message().find("kMaxExpiryBatchKeys"), std::string::npos);
}

}  // namespace
}  // namespace aspen::sm
