// The linearizability checker on hand-made histories: non-linearizable ones
// must fail, linearizable ones must pass, and the search bound must fail
// loudly rather than pass.
#include "sim/linearizability.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace aspen::sim {
namespace {

KeyState Absent() {
  return KeyState{};
}
KeyState Val(std::string v, std::int64_t version) {
  return KeyState{true, std::move(v), version};
}

Operation Put(int client, std::int64_t t0, std::int64_t t1, std::string v, KeyState prev,
              std::string key = "k") {
  Operation op;
  op.client = client;
  op.kind = OpKind::kPut;
  op.key = std::move(key);
  op.value = std::move(v);
  op.invoke_ms = t0;
  op.return_ms = t1;
  op.outcome = Outcome::kOk;
  op.read = std::move(prev);
  return op;
}

Operation Get(int client, std::int64_t t0, std::int64_t t1, KeyState seen, std::string key = "k") {
  Operation op;
  op.client = client;
  op.kind = OpKind::kGet;
  op.key = std::move(key);
  op.invoke_ms = t0;
  op.return_ms = t1;
  op.outcome = Outcome::kOk;
  op.read = std::move(seen);
  return op;
}

Operation Del(int client, std::int64_t t0, std::int64_t t1, bool deleted) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kDelete;
  op.key = "k";
  op.invoke_ms = t0;
  op.return_ms = t1;
  op.outcome = Outcome::kOk;
  op.flag = deleted;
  return op;
}

Operation Cas(int client, std::int64_t t0, std::int64_t t1, std::string expected, std::string v,
              bool succeeded) {
  Operation op;
  op.client = client;
  op.kind = OpKind::kCas;
  op.key = "k";
  op.expected = std::move(expected);
  op.value = std::move(v);
  op.invoke_ms = t0;
  op.return_ms = t1;
  op.outcome = Outcome::kOk;
  op.flag = succeeded;
  return op;
}

Operation Unknown(Operation op) {
  op.outcome = Outcome::kUnknown;
  op.return_ms = 0;
  return op;
}

TEST(Linearizability, EmptyHistoryPasses) {
  EXPECT_TRUE(CheckLinearizable({}).ok());
}

TEST(Linearizability, SequentialPutGetDeletePasses) {
  History h = {
      Put(0, 0, 1, "a", Absent()), Get(0, 2, 3, Val("a", 1)), Put(0, 4, 5, "b", Val("a", 1)),
      Get(0, 6, 7, Val("b", 2)),   Del(0, 8, 9, true),        Get(0, 10, 11, Absent()),
      Del(0, 12, 13, false)};
  EXPECT_TRUE(CheckLinearizable(h).ok());
}

TEST(Linearizability, StaleReadAfterCompletedWriteFails) {
  // put(a) completes before the get starts, yet the get sees the key absent.
  History h = {Put(0, 0, 1, "a", Absent()), Get(1, 5, 6, Absent())};
  const LinearizabilityResult r = CheckLinearizable(h);
  EXPECT_EQ(r.verdict, LinVerdict::kNotLinearizable);
  EXPECT_EQ(r.key, "k");
  EXPECT_NE(r.message.find("not linearizable"), std::string::npos);
}

TEST(Linearizability, ConcurrentReadMaySeeEitherState) {
  History before = {Put(0, 0, 10, "a", Absent()), Get(1, 2, 3, Absent())};
  History after = {Put(0, 0, 10, "a", Absent()), Get(1, 2, 3, Val("a", 1))};
  EXPECT_TRUE(CheckLinearizable(before).ok());
  EXPECT_TRUE(CheckLinearizable(after).ok());
}

TEST(Linearizability, ReadsGoingBackInTimeFail) {
  // Two sequential reads during a long put: once the new value was seen, the
  // old one may not be seen again.
  History h = {Put(0, 0, 100, "a", Absent()), Get(1, 10, 20, Val("a", 1)),
               Get(1, 30, 40, Absent())};
  EXPECT_EQ(CheckLinearizable(h).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, WrongVersionFails) {
  History h = {Put(0, 0, 1, "a", Absent()), Put(0, 2, 3, "b", Val("a", 1)),
               Get(0, 4, 5, Val("b", 1))};
  EXPECT_EQ(CheckLinearizable(h).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, PrevKvMustMatchTheStateBeforeThePut) {
  History h = {Put(0, 0, 1, "a", Absent()), Put(1, 2, 3, "b", Absent())};
  EXPECT_EQ(CheckLinearizable(h).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, TwoSuccessfulCasOnTheSameValueFail) {
  // Both CAS expected "a" and both claim success: only one can have seen "a".
  History h = {Put(0, 0, 1, "a", Absent()), Cas(1, 2, 10, "a", "b", true),
               Cas(2, 3, 11, "a", "c", true)};
  EXPECT_EQ(CheckLinearizable(h).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, ConcurrentCasOneWinsPasses) {
  History h = {Put(0, 0, 1, "a", Absent()), Cas(1, 2, 10, "a", "b", true),
               Cas(2, 3, 11, "a", "c", false), Get(0, 12, 13, Val("b", 2))};
  EXPECT_TRUE(CheckLinearizable(h).ok());
}

TEST(Linearizability, CasOnMissingKeyFailsAsEtcd) {
  History fails_ok = {Cas(0, 0, 1, "", "x", false), Get(0, 2, 3, Absent())};
  History succeeds_bad = {Cas(0, 0, 1, "", "x", true)};
  EXPECT_TRUE(CheckLinearizable(fails_ok).ok());
  EXPECT_EQ(CheckLinearizable(succeeds_bad).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, UnknownWriteMayTakeEffectLater) {
  // The put timed out (unknown); a read long after sees its value.
  History h = {Unknown(Put(0, 0, 0, "a", Absent())), Get(1, 50, 51, Absent()),
               Get(1, 100, 101, Val("a", 1))};
  EXPECT_TRUE(CheckLinearizable(h).ok());
}

TEST(Linearizability, UnknownWriteMayNeverHappen) {
  History h = {Unknown(Put(0, 0, 0, "a", Absent())), Get(1, 100, 101, Absent())};
  EXPECT_TRUE(CheckLinearizable(h).ok());
}

TEST(Linearizability, UnknownWriteCannotTakeEffectBeforeItsInvocation) {
  History h = {Get(1, 0, 1, Val("a", 1)), Unknown(Put(0, 5, 0, "a", Absent()))};
  EXPECT_EQ(CheckLinearizable(h).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, LostCompletedWriteFails) {
  History h = {Put(0, 0, 1, "a", Absent()), Put(0, 2, 3, "b", Val("a", 1)),
               Get(1, 10, 11, Val("a", 1))};
  EXPECT_EQ(CheckLinearizable(h).verdict, LinVerdict::kNotLinearizable);
}

TEST(Linearizability, KeysAreCheckedIndependently) {
  History h = {Put(0, 0, 1, "a", Absent(), "x"), Put(0, 2, 3, "b", Absent(), "y"),
               Get(1, 4, 5, Val("a", 1), "x"), Get(1, 6, 7, Absent(), "y")};
  const LinearizabilityResult r = CheckLinearizable(h);
  EXPECT_EQ(r.verdict, LinVerdict::kNotLinearizable);
  EXPECT_EQ(r.key, "y");
}

TEST(Linearizability, SearchBoundFailsLoudly) {
  // Many concurrent unknown writes blow up the search; with a tiny bound the
  // checker must report kBoundExceeded, not success.
  History h;
  for (int i = 0; i < 12; ++i) h.push_back(Unknown(Put(i, 0, 0, "v" + std::to_string(i), {})));
  h.push_back(Get(99, 1, 2, Val("zzz", 1)));
  LinearizabilityOptions o;
  o.max_states_per_key = 50;
  const LinearizabilityResult r = CheckLinearizable(h, o);
  EXPECT_EQ(r.verdict, LinVerdict::kBoundExceeded);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.message.find("NOT verified"), std::string::npos);
}

TEST(Linearizability, ManyConcurrentOperationsStillDecided) {
  // 8 concurrent puts, then a get of the last-linearized value: linearizable.
  History h;
  KeyState prev;
  for (int i = 0; i < 8; ++i) {
    h.push_back(Put(i, 0, 100, "v" + std::to_string(i), prev));
    prev = Val("v" + std::to_string(i), i + 1);
  }
  h.push_back(Get(99, 200, 201, prev));
  EXPECT_TRUE(CheckLinearizable(h).ok());
}

// ----- Leases: a slot "l0/" with its keys and leases, one partition -----

Operation LeaseOp(OpKind kind, int client, std::int64_t t0, std::int64_t t1, std::int64_t lease,
                  bool flag = false) {
  Operation op;
  op.client = client;
  op.kind = kind;
  op.key = "l0/";
  op.lease = lease;
  op.ttl_s = 1;
  op.invoke_ms = t0;
  op.return_ms = t1;
  op.outcome = Outcome::kOk;
  op.flag = flag;
  return op;
}

Operation LeasePut(int client, std::int64_t t0, std::int64_t t1, std::string key, std::string v,
                   std::int64_t lease, KeyState prev, bool lease_missing = false) {
  Operation op = Put(client, t0, t1, std::move(v), std::move(prev), std::move(key));
  op.lease = lease;
  op.flag = lease_missing;
  return op;
}

Operation Range(int client, std::int64_t t0, std::int64_t t1,
                std::vector<std::pair<std::string, KeyState>> seen) {
  Operation op = LeaseOp(OpKind::kRange, client, t0, t1, 0);
  op.range = std::move(seen);
  return op;
}

KeyState Leased(std::string v, std::int64_t version, std::int64_t lease) {
  return KeyState{true, std::move(v), version, lease};
}

// A lease with two keys, revoked by client 1 at [30, 40].
History TwoKeysOfARevokedLease() {
  return {LeaseOp(OpKind::kLeaseGrant, 0, 0, 5, 7), LeasePut(0, 10, 12, "l0/a", "x", 7, Absent()),
          LeasePut(0, 14, 16, "l0/b", "y", 7, Absent()),
          LeaseOp(OpKind::kLeaseRevoke, 1, 30, 40, 7, /*flag=*/true)};
}

TEST(Linearizability, KeysOfARevokedLeaseVanishTogether) {
  History h = TwoKeysOfARevokedLease();
  h.push_back(Range(2, 50, 55, {}));
  EXPECT_TRUE(CheckLinearizable(h).ok());
  // A read seeing one key of the revoked lease but not the other.
  h.back() = Range(2, 50, 55, {{"l0/b", Leased("y", 1, 7)}});
  const LinearizabilityResult r = CheckLinearizable(h);
  EXPECT_EQ(r.verdict, LinVerdict::kNotLinearizable);
  EXPECT_EQ(r.key, "l0/");
  // Concurrent with the revocation, all or nothing is fine.
  h.back() = Range(2, 35, 45, {{"l0/a", Leased("x", 1, 7)}, {"l0/b", Leased("y", 1, 7)}});
  EXPECT_TRUE(CheckLinearizable(h).ok());
  h.back() = Range(2, 35, 45, {{"l0/a", Leased("x", 1, 7)}});
  EXPECT_FALSE(CheckLinearizable(h).ok());
}

TEST(Linearizability, PutWithARevokedLeaseMustBeRefused) {
  History h = TwoKeysOfARevokedLease();
  h.push_back(LeasePut(2, 50, 55, "l0/c", "z", 7, Absent(), /*lease_missing=*/true));
  EXPECT_TRUE(CheckLinearizable(h).ok());
  h.back() = LeasePut(2, 50, 55, "l0/c", "z", 7, Absent());
  EXPECT_FALSE(CheckLinearizable(h).ok());
  // Refusing a put with a live lease is wrong too.
  h = {LeaseOp(OpKind::kLeaseGrant, 0, 0, 5, 7),
       LeasePut(1, 10, 12, "l0/a", "x", 7, Absent(), /*lease_missing=*/true)};
  EXPECT_FALSE(CheckLinearizable(h).ok());
}

TEST(Linearizability, ExpiryIsAWriteByTheCluster) {
  // An expiry the cluster applied by 60ms explains the keys' disappearance;
  // without it the empty read is not linearizable.
  History h = {LeaseOp(OpKind::kLeaseGrant, 0, 0, 5, 7),
               LeasePut(0, 10, 12, "l0/a", "x", 7, Absent()), Range(1, 70, 75, {})};
  EXPECT_FALSE(CheckLinearizable(h).ok());
  Operation expire = Unknown(LeaseOp(OpKind::kLeaseExpire, -1, 40, 0, 7));
  expire.applied_by_ms = 60;
  h.push_back(expire);
  EXPECT_TRUE(CheckLinearizable(h).ok());
  // It must take effect by applied_by_ms: a read after that sees no key.
  h.push_back(Range(1, 65, 68, {{"l0/a", Leased("x", 1, 7)}}));
  EXPECT_FALSE(CheckLinearizable(h).ok());
}

TEST(Linearizability, KeepAliveDeniesOnlyDeadLeasesAndRenewsOnlyGrantedOnes) {
  History h = {LeaseOp(OpKind::kLeaseGrant, 0, 0, 5, 7),
               LeaseOp(OpKind::kKeepAlive, 1, 10, 12, 7, /*flag=*/false)};
  EXPECT_FALSE(CheckLinearizable(h).ok());  // denied a granted, live lease
  h.back() = LeaseOp(OpKind::kKeepAlive, 1, 10, 12, 8, /*flag=*/true);
  EXPECT_FALSE(CheckLinearizable(h).ok());  // renewed a lease never granted
  // A deposed leader may renew a lease its successor revoked (etcd): the
  // one-sided model accepts it.
  h = {LeaseOp(OpKind::kLeaseGrant, 0, 0, 5, 7), LeaseOp(OpKind::kLeaseRevoke, 0, 10, 12, 7, true),
       LeaseOp(OpKind::kKeepAlive, 1, 20, 22, 7, /*flag=*/true)};
  EXPECT_TRUE(CheckLinearizable(h).ok());
}

}  // namespace
}  // namespace aspen::sim
