// Alarms in the state machine: replicated NOSPACE refuses writes that need
// space (etcd's capped applier) until it is deactivated.
#include <gtest/gtest.h>

#include "sm/alarm.h"
#include "sm/validate.h"
#include "sm_test_util.h"

namespace aspen::sm::testing {
namespace {

v1::Command AlarmCmd(v1::AlarmRequest::AlarmAction action, std::uint64_t member,
                     v1::AlarmType type = v1::ALARM_NOSPACE) {
  v1::Command c;
  c.mutable_alarm()->set_action(action);
  c.mutable_alarm()->set_member_id(member);
  c.mutable_alarm()->set_alarm(type);
  return c;
}

bool IsNoSpace(const v1::Response& r) {
  return r.has_error() && r.error().code() == static_cast<int>(Code::kResourceExhausted) &&
         r.error().message() == kNoSpaceMessage;
}

v1::Command TxnCmd(std::vector<v1::RequestOp> success, std::vector<v1::RequestOp> failure = {}) {
  v1::Command c;
  for (auto& op : success) *c.mutable_txn()->add_success() = std::move(op);
  for (auto& op : failure) *c.mutable_txn()->add_failure() = std::move(op);
  return c;
}

TEST(Alarm, NoSpaceRefusesPutsGrantsAndTxnPutsButNotReadsOrDeletes) {
  Harness h;
  ASSERT_FALSE(h.Apply(PutCmd("a", "1")).has_error());
  ASSERT_FALSE(h.Apply(GrantCmd(7, 60)).has_error());
  const v1::Response on = h.Apply(AlarmCmd(v1::AlarmRequest::ACTIVATE, 42));
  ASSERT_FALSE(on.has_error());
  ASSERT_EQ(on.alarm().alarms_size(), 1);
  EXPECT_EQ(on.alarm().alarms(0).member_id(), 42u);
  EXPECT_TRUE(h.sm().nospace());

  EXPECT_TRUE(IsNoSpace(h.Apply(PutCmd("b", "2"))));
  EXPECT_TRUE(IsNoSpace(h.Apply(GrantCmd(8, 60))));
  EXPECT_TRUE(IsNoSpace(h.Apply(TxnCmd({RangeOp("a")}, {PutOp("c", "3")}))));
  EXPECT_FALSE(h.Apply(TxnCmd({RangeOp("a")}, {DelOp("zz")})).has_error());
  EXPECT_FALSE(h.Apply(DelCmd("a")).has_error());
  EXPECT_FALSE(h.Apply(RevokeCmd(7)).has_error());

  const v1::Response off = h.Apply(AlarmCmd(v1::AlarmRequest::DEACTIVATE, 42));
  ASSERT_EQ(off.alarm().alarms_size(), 1);
  EXPECT_FALSE(h.sm().nospace());
  EXPECT_FALSE(h.Apply(PutCmd("b", "2")).has_error());
}

TEST(Alarm, StateSurvivesReopenAndRepeatsChangeNothing) {
  Harness h;
  h.Apply(AlarmCmd(v1::AlarmRequest::ACTIVATE, 1));
  EXPECT_EQ(h.Apply(AlarmCmd(v1::AlarmRequest::ACTIVATE, 1)).alarm().alarms_size(), 0);
  h.Apply(AlarmCmd(v1::AlarmRequest::ACTIVATE, 2, v1::ALARM_CORRUPT));
  h.Reopen();
  EXPECT_TRUE(h.sm().nospace());
  EXPECT_TRUE(IsNoSpace(h.Apply(PutCmd("b", "2"))));
  auto all = Alarms(*h.store().GetSnapshot());
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].member_id(), 1u);
  EXPECT_EQ((*all)[1].alarm(), v1::ALARM_CORRUPT);
  auto corrupt = Alarms(*h.store().GetSnapshot(), v1::ALARM_CORRUPT);
  ASSERT_EQ(corrupt->size(), 1u);
  // A CORRUPT alarm alone does not cap writes.
  h.Apply(AlarmCmd(v1::AlarmRequest::DEACTIVATE, 1));
  EXPECT_EQ(h.Apply(AlarmCmd(v1::AlarmRequest::DEACTIVATE, 1)).alarm().alarms_size(), 0);
  EXPECT_FALSE(h.Apply(PutCmd("b", "2")).has_error());
}

TEST(Alarm, ActivatedAndUsedInOneApplyBatch) {
  Harness h;
  const std::string on = Serialize(AlarmCmd(v1::AlarmRequest::ACTIVATE, 3));
  const std::string put = Serialize(PutCmd("k", "v"));
  const std::uint64_t i = h.sm().applied_index();
  const Entry entries[] = {{i + 1, put}, {i + 2, on}, {i + 3, put}};
  auto r = h.sm().ApplyAndWrite(entries);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)[0].has_error());
  EXPECT_TRUE(IsNoSpace((*r)[2]));
}

TEST(Alarm, ValidationRefusesGetUnknownTypesAndMemberZero) {
  EXPECT_FALSE(Validate(AlarmCmd(v1::AlarmRequest::GET, 1)).ok());
  EXPECT_FALSE(Validate(AlarmCmd(v1::AlarmRequest::ACTIVATE, 0)).ok());
  EXPECT_FALSE(Validate(AlarmCmd(v1::AlarmRequest::ACTIVATE, 1, v1::ALARM_NONE)).ok());
  EXPECT_TRUE(Validate(AlarmCmd(v1::AlarmRequest::DEACTIVATE, 1)).ok());
  Harness h;
  EXPECT_TRUE(h.Apply(AlarmCmd(v1::AlarmRequest::ACTIVATE, 0)).has_error());
}

TEST(Alarm, NeedsSpaceFindsPutsInNestedTxns) {
  v1::Command inner = TxnCmd({}, {PutOp("x", "y")});
  v1::RequestOp nested;
  *nested.mutable_request_txn() = inner.txn();
  EXPECT_TRUE(NeedsSpace(TxnCmd({RangeOp("a"), nested})));
  EXPECT_FALSE(NeedsSpace(TxnCmd({RangeOp("a"), DelOp("b")})));
  EXPECT_FALSE(NeedsSpace(DelCmd("a")));
  EXPECT_FALSE(NeedsSpace(RevokeCmd(1)));
}

}  // namespace
}  // namespace aspen::sm::testing
