// The linearizability checker on hand-made histories: non-linearizable ones
// must fail, linearizable ones must pass, and the search bound must fail
// loudly rather than pass.
#include "sim/linearizability.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace aspen::sim
