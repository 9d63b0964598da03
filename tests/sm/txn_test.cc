// Txn: compares, branches, nesting, shared revision, etcd's duplicate-key and
// size rules.
#include <gtest/gtest.h>

#include "base/limits.h"
#include "sm/sm_test_util.h"
#include "sm/validate.h"

namespace aspen::sm {
namespace {

using testing::Cmp;
using testing::DelOp;
using testing::ErrorCode;
using testing::Harness;
using testing::PutCmd;
using testing::PutOp;
using testing::RangeOp;

v1::Command TxnCmd(std::vector<v1::Compare> cmps, std::vector<v1::RequestOp> success,
                   std::vector<v1::RequestOp> failure = {}) {
  v1::Command c;
  for (auto& x : cmps) *c.mutable_txn()->add_compare() = std::move(x);
  for (auto& x : success) *c.mutable_txn()->add_success() = std::move(x);
  for (auto& x : failure) *c.mutable_txn()->add_failure() = std::move(x);
  return c;
}

v1::RequestOp TxnOp(const v1::Command& c) {
  v1::RequestOp op;
  *op.mutable_request_txn() = c.txn();
  return op;
}

TEST(StateMachineTxn, TxnPutsShareOneRevision) {
  Harness h;
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), PutOp("b", "2"), DelOp("zz")}));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.txn().succeeded());
  EXPECT_EQ(r.txn().header().revision(), 2);
  EXPECT_EQ(h.GetOne("a").mod_revision(), 2);
  EXPECT_EQ(h.GetOne("b").mod_revision(), 2);
  EXPECT_EQ(r.txn().responses(1).response_put().header().revision(), 2);
}

TEST(StateMachineTxn, InnerHeadersCarryTheRevisionAsOfEachOpAsInEtcd) {
  Harness h;
  h.Apply(PutCmd("x", "0"));  // revision 2
  v1::Command inner = TxnCmd({}, {RangeOp("x")});
  v1::Response r = h.Apply(TxnCmd({}, {RangeOp("x"), DelOp("missing"), PutOp("a", "1"),
                                       RangeOp("a"), DelOp("missing2"), TxnOp(inner)}));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  const auto& rs = r.txn().responses();
  EXPECT_EQ(rs[0].response_range().header().revision(), 2);
  EXPECT_EQ(rs[1].response_delete_range().header().revision(), 2);
  EXPECT_EQ(rs[2].response_put().header().revision(), 3);
  EXPECT_EQ(rs[3].response_range().header().revision(), 3);
  EXPECT_EQ(rs[4].response_delete_range().header().revision(), 3);
  // etcd leaves a nested txn's own header empty.
  EXPECT_TRUE(rs[5].response_txn().has_header());
  EXPECT_EQ(rs[5].response_txn().header().revision(), 0);
  EXPECT_EQ(rs[5].response_txn().responses(0).response_range().header().revision(), 3);
  EXPECT_EQ(r.txn().header().revision(), 3);
}

TEST(StateMachineTxn, CompareChoosesTheBranch) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  v1::Response ok = h.Apply(TxnCmd({Cmp("a", v1::Compare::VALUE, v1::Compare::EQUAL, 0, "1")},
                                   {PutOp("then", "x")}, {PutOp("else", "y")}));
  EXPECT_TRUE(ok.txn().succeeded());
  v1::Response no = h.Apply(TxnCmd({Cmp("a", v1::Compare::VERSION, v1::Compare::GREATER, 1)},
                                   {PutOp("then2", "x")}, {PutOp("else2", "y")}));
  EXPECT_FALSE(no.txn().succeeded());
  EXPECT_EQ(h.Get("then").count(), 1);
  EXPECT_EQ(h.Get("else2").count(), 1);
  EXPECT_EQ(h.Get("then2").count(), 0);
}

TEST(StateMachineTxn, CompareOnMissingKeyFailsForValueAndSeesZeroOtherwise) {
  Harness h;
  auto run = [&](v1::Compare c) { return h.Apply(TxnCmd({std::move(c)}, {})).txn().succeeded(); };
  EXPECT_FALSE(run(Cmp("nope", v1::Compare::VALUE, v1::Compare::EQUAL, 0, "")));
  EXPECT_FALSE(run(Cmp("nope", v1::Compare::VALUE, v1::Compare::NOT_EQUAL, 0, "x")));
  EXPECT_TRUE(run(Cmp("nope", v1::Compare::VERSION, v1::Compare::EQUAL, 0)));
  EXPECT_TRUE(run(Cmp("nope", v1::Compare::CREATE, v1::Compare::EQUAL, 0)));
  EXPECT_TRUE(run(Cmp("nope", v1::Compare::MOD, v1::Compare::LESS, 1)));
  EXPECT_TRUE(run(Cmp("nope", v1::Compare::LEASE, v1::Compare::EQUAL, 0)));
}

TEST(StateMachineTxn, CompareWithRangeEndMustHoldForEveryKey) {
  Harness h;
  h.Apply(PutCmd("k1", "a"));
  h.Apply(PutCmd("k2", "b"));
  v1::Compare all_a = Cmp("k", v1::Compare::VALUE, v1::Compare::EQUAL, 0, "a");
  all_a.set_range_end("l");
  EXPECT_FALSE(h.Apply(TxnCmd({all_a}, {})).txn().succeeded());
  v1::Compare created = Cmp("k", v1::Compare::CREATE, v1::Compare::GREATER, 1);
  created.set_range_end("l");
  EXPECT_TRUE(h.Apply(TxnCmd({created}, {})).txn().succeeded());
}

TEST(StateMachineTxn, ReadOnlyTxnDoesNotBumpRevision) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  v1::Response r = h.Apply(TxnCmd({}, {RangeOp("a"), DelOp("missing")}));
  EXPECT_EQ(r.txn().header().revision(), 2);
  EXPECT_EQ(h.sm().revision(), 2);
  EXPECT_EQ(r.txn().responses(0).response_range().kvs(0).value(), "1");
}

TEST(StateMachineTxn, RangeInsideTxnSeesTheTxnsEarlierWrites) {
  Harness h;
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), RangeOp("a")}));
  const v1::RangeResponse& rr = r.txn().responses(1).response_range();
  ASSERT_EQ(rr.kvs_size(), 1);
  EXPECT_EQ(rr.kvs(0).mod_revision(), 2);
}

TEST(StateMachineTxn, NestedComparesSeeTheStateBeforeTheTxn) {
  Harness h;
  // The nested compare asks whether "a" exists; the outer txn creates it
  // first, but etcd evaluates every compare before any write.
  v1::Command inner = TxnCmd({Cmp("a", v1::Compare::VERSION, v1::Compare::EQUAL, 0)},
                             {PutOp("saw_missing", "1")}, {PutOp("saw_present", "1")});
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), TxnOp(inner)}));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  EXPECT_TRUE(r.txn().responses(1).response_txn().succeeded());
  EXPECT_EQ(h.Get("saw_missing").count(), 1);
  EXPECT_EQ(h.GetOne("saw_missing").mod_revision(), 2);
}

TEST(StateMachineTxn, TxnWritingSameKeyTwiceIsRejected) {
  Harness h;
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), PutOp("a", "2")}));
  EXPECT_EQ(ErrorCode(r), Code::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "duplicate key given in txn request");
  EXPECT_EQ(h.sm().revision(), 1);
}

TEST(StateMachineTxn, PutInsideADeletedRangeOfTheSameTxnIsRejected) {
  Harness h;
  v1::Response r = h.Apply(TxnCmd({}, {DelOp("a", "c"), PutOp("b", "2")}));
  EXPECT_EQ(r.error().message(), "duplicate key given in txn request");
}

TEST(StateMachineTxn, NestedTxnWritingAnOuterKeyIsRejected) {
  Harness h;
  v1::Command inner = TxnCmd({}, {PutOp("a", "2")});
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), TxnOp(inner)}));
  EXPECT_EQ(r.error().message(), "duplicate key given in txn request");
}

TEST(StateMachineTxn, SameKeyInThenAndElseOfANestedTxnIsAllowed) {
  Harness h;
  v1::Command inner = TxnCmd({}, {PutOp("a", "then")}, {PutOp("a", "else")});
  v1::Response r = h.Apply(TxnCmd({}, {TxnOp(inner)}));
  EXPECT_FALSE(r.has_error()) << r.error().message();
  EXPECT_EQ(h.GetOne("a").value(), "then");
  // The same key in success and failure of the outer txn is fine too.
  EXPECT_FALSE(h.Apply(TxnCmd({}, {PutOp("b", "1")}, {PutOp("b", "2")})).has_error());
}

TEST(StateMachineTxn, TooManyOperationsIsRejected) {
  Harness h;
  std::vector<v1::RequestOp> ops;
  for (std::size_t i = 0; i <= limits::kMaxTxnOps; ++i)
    ops.push_back(PutOp("k" + std::to_string(i), "v"));
  v1::Response r = h.Apply(TxnCmd({}, ops));
  EXPECT_EQ(ErrorCode(r), Code::kInvalidArgument);
  EXPECT_EQ(r.error().message().rfind("too many operations in txn request", 0), 0u);
  ops.pop_back();
  EXPECT_FALSE(h.Apply(TxnCmd({}, ops)).has_error());
}

TEST(StateMachineTxn, NestedTxnsShareTheOperationBudget) {
  Harness h;
  // As in etcd: the outer txn uses 2 ops (its longest list), the nested one
  // may use at most kMaxTxnOps - 2.
  std::vector<v1::RequestOp> inner_ops;
  for (std::size_t i = 0; i + 1 < limits::kMaxTxnOps; ++i) {
    inner_ops.push_back(PutOp("k" + std::to_string(i), "v"));
  }
  v1::Command inner = TxnCmd({}, inner_ops);
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("outer", "1"), TxnOp(inner)}));
  EXPECT_EQ(r.error().message().rfind("too many operations in txn request", 0), 0u);
  inner.mutable_txn()->mutable_success()->RemoveLast();
  EXPECT_FALSE(h.Apply(TxnCmd({}, {PutOp("outer", "1"), TxnOp(inner)})).has_error());
}

TEST(StateMachineTxn, FailingPutChecksLeaveNoTrace) {
  Harness h;
  v1::RequestOp bad = PutOp("b", "2");
  bad.mutable_request_put()->set_lease(99);
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), bad}));
  EXPECT_EQ(r.error().message(), "lease not found");
  EXPECT_EQ(h.sm().revision(), 1);
  EXPECT_EQ(h.Get("a").count(), 0);
}

TEST(StateMachineTxn, RangeAtAFutureRevisionFailsTheTxn) {
  Harness h;
  v1::RequestOp range = RangeOp("a");
  range.mutable_request_range()->set_revision(50);
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("a", "1"), range}));
  EXPECT_EQ(ErrorCode(r), Code::kOutOfRange);
  EXPECT_EQ(r.error().message(), "mvcc: required revision is a future revision");
  EXPECT_EQ(h.Get("a").count(), 0);
}

TEST(StateMachineTxn, RangeAtAPastRevisionReadsTheHistory) {
  Harness h;
  h.Apply(PutCmd("a", "old"));  // revision 2
  h.Apply(PutCmd("a", "new"));  // revision 3
  v1::RequestOp range = RangeOp("a");
  range.mutable_request_range()->set_revision(2);
  v1::Response r = h.Apply(TxnCmd({}, {PutOp("b", "1"), range}));
  ASSERT_FALSE(r.has_error()) << r.error().message();
  const v1::RangeResponse& got = r.txn().responses(1).response_range();
  ASSERT_EQ(got.kvs_size(), 1);
  EXPECT_EQ(got.kvs(0).value(), "old");
  EXPECT_EQ(got.kvs(0).mod_revision(), 2);
}

TEST(StateMachineTxn, TooDeepNestingIsRejected) {
  Harness h;
  v1::Command c = TxnCmd({}, {PutOp("a", "1")});
  for (int i = 0; i <= kMaxTxnDepth; ++i) c = TxnCmd({}, {TxnOp(c)});
  EXPECT_EQ(ErrorCode(h.Apply(c)), Code::kResourceExhausted);
}

TEST(StateMachineTxn, UnknownCompareTargetIsRejected) {
  Harness h;
  v1::Compare c = Cmp("a", v1::Compare::VERSION, v1::Compare::EQUAL, 0);
  c.set_target(static_cast<v1::Compare::CompareTarget>(77));
  EXPECT_EQ(ErrorCode(h.Apply(TxnCmd({c}, {}))), Code::kInvalidArgument);
}

}  // namespace
}  // namespace aspen::sm
