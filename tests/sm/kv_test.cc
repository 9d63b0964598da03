// Put and DeleteRange with etcd's revision rules, limits, and Apply's
// batch and error behaviour.
#include <gtest/gtest.h>

#include "base/limits.h"
#include "sm/index.h"
#include "sm/record.h"
#include "sm/sm_test_util.h"
#include "sm/validate.h"

namespace aspen::sm {
namespace {

using testing::DelCmd;
using testing::ErrorCode;
using testing::Harness;
using testing::PutCmd;

TEST(StateMachineKv, FreshStoreStartsAtRevisionOneAndFirstWriteGetsTwo) {
  Harness h;
  EXPECT_EQ(h.sm().revision(), 1);
  EXPECT_EQ(h.sm().applied_index(), 0u);
  v1::Response r = h.Apply(PutCmd("a", "1"));
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.put().header().revision(), 2);
}

TEST(StateMachineKv, PutBumpsRevisionAndVersion) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  h.Apply(PutCmd("a", "2"));
  v1::KeyValue kv = h.GetOne("a");
  EXPECT_EQ(kv.value(), "2");
  EXPECT_EQ(kv.version(), 2);
  EXPECT_EQ(kv.create_revision(), 2);
  EXPECT_EQ(kv.mod_revision(), 3);
  EXPECT_EQ(h.sm().revision(), 3);
}

TEST(StateMachineKv, DeleteResetsVersionAndCreateRevision) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  h.Apply(PutCmd("a", "2"));
  v1::Response d = h.Apply(DelCmd("a"));
  EXPECT_EQ(d.delete_range().deleted(), 1);
  EXPECT_EQ(d.delete_range().header().revision(), 4);
  h.Apply(PutCmd("a", "3"));
  v1::KeyValue kv = h.GetOne("a");
  EXPECT_EQ(kv.version(), 1);
  EXPECT_EQ(kv.create_revision(), 5);
  EXPECT_EQ(kv.mod_revision(), 5);
}

TEST(StateMachineKv, DeleteOfMissingKeyDoesNotBumpRevision) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  v1::Response d = h.Apply(DelCmd("b"));
  EXPECT_FALSE(d.has_error());
  EXPECT_EQ(d.delete_range().deleted(), 0);
  EXPECT_EQ(d.delete_range().header().revision(), 2);
  EXPECT_EQ(h.sm().revision(), 2);
  EXPECT_EQ(h.sm().applied_index(), 2u);
}

TEST(StateMachineKv, DeleteRangeFollowsEtcdRangeEndConventions) {
  Harness h;
  for (const char* k : {"a", "b", "b1", "b2", "c"}) h.Apply(PutCmd(k, "v"));
  // Prefix "b": range_end = strinc("b") = "c".
  v1::Response prefix = h.Apply(DelCmd("b", "c", /*prev_kv=*/true));
  EXPECT_EQ(prefix.delete_range().deleted(), 3);
  ASSERT_EQ(prefix.delete_range().prev_kvs_size(), 3);
  EXPECT_EQ(prefix.delete_range().prev_kvs(2).key(), "b2");
  // All deletes of one DeleteRange share one revision.
  EXPECT_EQ(h.sm().revision(), 7);
  // "\0" as range_end: every key >= key.
  v1::Response all = h.Apply(DelCmd("a", std::string(1, '\0')));
  EXPECT_EQ(all.delete_range().deleted(), 2);
  EXPECT_EQ(h.Get(std::string(1, '\0'), std::string(1, '\0')).count(), 0);
}

TEST(StateMachineKv, PutPrevKvReturnsThePreviousPair) {
  Harness h;
  h.Apply(PutCmd("a", "old"));
  v1::Command c = PutCmd("a", "new");
  c.mutable_put()->set_prev_kv(true);
  v1::Response r = h.Apply(c);
  EXPECT_EQ(r.put().prev_kv().value(), "old");
  EXPECT_EQ(r.put().prev_kv().mod_revision(), 2);
  v1::Command fresh = PutCmd("b", "x");
  fresh.mutable_put()->set_prev_kv(true);
  EXPECT_FALSE(h.Apply(fresh).put().has_prev_kv());
}

TEST(StateMachineKv, PutWithUnknownLeaseIsLeaseNotFound) {
  Harness h;
  v1::Response r = h.Apply(PutCmd("a", "1", /*lease=*/42));
  EXPECT_EQ(ErrorCode(r), Code::kNotFound);
  EXPECT_EQ(r.error().message(), "lease not found");
  EXPECT_EQ(h.sm().revision(), 1);
  EXPECT_EQ(h.Get("a").count(), 0);
}

TEST(StateMachineKv, IgnoreValueAndIgnoreLeaseKeepTheStoredOnes) {
  Harness h;
  h.Apply(testing::GrantCmd(7, 60));
  h.Apply(PutCmd("a", "keep", 7));
  v1::Command c;
  c.mutable_put()->set_key("a");
  c.mutable_put()->set_ignore_value(true);
  c.mutable_put()->set_ignore_lease(true);
  EXPECT_FALSE(h.Apply(c).has_error());
  v1::KeyValue kv = h.GetOne("a");
  EXPECT_EQ(kv.value(), "keep");
  EXPECT_EQ(kv.lease(), 7);
  EXPECT_EQ(kv.version(), 2);
}

TEST(StateMachineKv, IgnoreValueOnMissingKeyIsKeyNotFound) {
  Harness h;
  v1::Command c;
  c.mutable_put()->set_key("a");
  c.mutable_put()->set_ignore_value(true);
  v1::Response r = h.Apply(c);
  EXPECT_EQ(ErrorCode(r), Code::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "key not found");
  c.mutable_put()->set_ignore_value(false);
  c.mutable_put()->set_ignore_lease(true);
  EXPECT_EQ(h.Apply(c).error().message(), "key not found");
}

TEST(StateMachineKv, PutChecksLeaseBeforeKeyAloneAndKeyBeforeLeaseInTxn) {
  Harness h;
  v1::Command c;
  c.mutable_put()->set_key("missing");
  c.mutable_put()->set_ignore_value(true);
  c.mutable_put()->set_lease(42);
  EXPECT_EQ(h.Apply(c).error().message(), "lease not found");
  v1::Command txn;
  *txn.mutable_txn()->add_success()->mutable_request_put() = c.put();
  EXPECT_EQ(h.Apply(txn).error().message(), "key not found");
}

TEST(StateMachineKv, IgnoreValueWithAValueIsRejected) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  v1::Command c = PutCmd("a", "2");
  c.mutable_put()->set_ignore_value(true);
  EXPECT_EQ(h.Apply(c).error().message(), "value is provided");
  v1::Command l = PutCmd("a", "", 5);
  l.mutable_put()->set_ignore_lease(true);
  EXPECT_EQ(h.Apply(l).error().message(), "lease is provided");
}

TEST(StateMachineKv, KeysMayHoldNulBytes) {
  Harness h;
  const std::string k1("a\0b", 3), k2("a\0", 2), k3("a", 1);
  h.Apply(PutCmd(k1, "1"));
  h.Apply(PutCmd(k2, "2"));
  h.Apply(PutCmd(k3, "3"));
  EXPECT_EQ(h.GetOne(k1).value(), "1");
  EXPECT_EQ(h.GetOne(k2).value(), "2");
  v1::RangeResponse all = h.Get(k3, "b");
  ASSERT_EQ(all.kvs_size(), 3);
  EXPECT_EQ(all.kvs(0).key(), k3);
  EXPECT_EQ(all.kvs(1).key(), k2);
  EXPECT_EQ(all.kvs(2).key(), k1);
}

TEST(StateMachineKv, OversizedKeyAndValueNameTheLimit) {
  Harness h;
  v1::Response big_key = h.Apply(PutCmd(std::string(limits::kMaxKeyBytes + 1, 'k'), "v"));
  EXPECT_EQ(ErrorCode(big_key), Code::kResourceExhausted);
  EXPECT_NE(big_key.error().message().find("kMaxKeyBytes"), std::string::npos);
  v1::Response big_value = h.Apply(PutCmd("k", std::string(limits::kMaxValueBytes + 1, 'v')));
  EXPECT_NE(big_value.error().message().find("kMaxValueBytes"), std::string::npos);
  EXPECT_FALSE(h.Apply(PutCmd(std::string(limits::kMaxKeyBytes, 'k'), "v")).has_error());
}

TEST(StateMachineKv, OversizedRequestNamesTheLimit) {
  Harness h;
  v1::Command c;
  for (int i = 0; i < 3; ++i) {
    auto* op = c.mutable_txn()->add_success();
    op->mutable_request_put()->set_key("k" + std::to_string(i));
    op->mutable_request_put()->set_value(std::string(limits::kMaxValueBytes, 'v'));
  }
  EXPECT_EQ(ErrorCode(h.Apply(c)), Code::kResourceExhausted);
  EXPECT_NE(Validate(c).message().find("kMaxRequestBytes"), std::string::npos);
}

TEST(StateMachineKv, MalformedCommandIsAnErrorResponseAndAdvancesAppliedIndex) {
  Harness h;
  v1::Response r = h.ApplyRaw("\xff\xff\xff garbage");
  EXPECT_EQ(ErrorCode(r), Code::kInvalidArgument);
  EXPECT_EQ(h.sm().applied_index(), 1u);
  v1::Command no_op_cmd;
  no_op_cmd.set_now_ms(5);  // an all-default Command would serialize to no bytes
  v1::Response no_op = h.ApplyRaw(testing::Serialize(no_op_cmd));
  EXPECT_EQ(no_op.error().message(), "command has no operation");
  EXPECT_EQ(h.sm().applied_index(), 2u);
  EXPECT_EQ(h.sm().revision(), 1);
}

TEST(StateMachineKv, EmptyEntryIsANoOpThatAdvancesAppliedIndex) {
  Harness h;
  v1::Response r = h.ApplyRaw("");
  EXPECT_FALSE(r.has_error());
  EXPECT_EQ(r.result_case(), v1::Response::RESULT_NOT_SET);
  EXPECT_EQ(h.sm().applied_index(), 1u);
}

TEST(StateMachineKv, NonIncreasingIndexIsRejectedAndChangesNothing) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  const std::string data = testing::Serialize(PutCmd("b", "2"));
  const Entry stale{1, data};
  auto r = h.sm().Apply(std::span<const Entry>(&stale, 1));
  EXPECT_EQ(r.status().code(), Code::kFailedPrecondition);
  const Entry entries[] = {{5, data}, {4, data}};
  EXPECT_EQ(h.sm().Apply(entries).status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(h.sm().applied_index(), 1u);
  EXPECT_EQ(h.Get("b").count(), 0);
}

TEST(StateMachineKv, LaterEntriesInOneBatchSeeEarlierOnes) {
  Harness h;
  h.Apply(testing::GrantCmd(9, 30));
  std::vector<std::string> data;
  data.push_back(testing::Serialize(PutCmd("a", "1")));
  data.push_back(testing::Serialize(PutCmd("a", "2")));
  data.push_back(testing::Serialize(testing::GrantCmd(10, 30)));
  data.push_back(testing::Serialize(PutCmd("b", "x", 10)));  // lease from entry 3
  data.push_back(testing::Serialize(DelCmd("a", "c", true)));
  data.push_back(testing::Serialize(PutCmd("a", "3")));
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < data.size(); ++i) entries.push_back({2 + i, data[i]});
  auto out = h.sm().Apply(entries);
  ASSERT_TRUE(out.ok());
  const auto& rs = out->responses;
  EXPECT_EQ(rs[1].put().header().revision(), 3);
  EXPECT_FALSE(rs[3].has_error()) << rs[3].error().message();
  ASSERT_EQ(rs[4].delete_range().prev_kvs_size(), 2);
  EXPECT_EQ(rs[4].delete_range().prev_kvs(0).value(), "2");
  EXPECT_EQ(rs[4].delete_range().prev_kvs(0).version(), 2);
  EXPECT_EQ(rs[5].put().header().revision(), 6);
  // Nothing is visible until the caller writes the batch.
  EXPECT_EQ(h.Get("a").count(), 0);
  ASSERT_TRUE(h.store().Write(out->batch, false).ok());
  v1::KeyValue a = h.GetOne("a");
  EXPECT_EQ(a.version(), 1);
  EXPECT_EQ(a.create_revision(), 6);
  EXPECT_EQ(h.sm().applied_index(), 7u);
}

// An overwrite keeps create_revision, so its index row already exists: the
// batch deletes the old mod_revision row and adds the new one, nothing else
// (every index write is a memtable insert on the apply path).
TEST(StateMachineKv, OverwriteWritesOnlyTheIndexRowsThatChange) {
  Harness h;
  h.Apply(PutCmd("a", "1"));  // revision 2
  const std::string data = testing::Serialize(PutCmd("a", "2"));
  const Entry e{h.sm().applied_index() + 1, data};
  auto out = h.sm().Apply(std::span<const Entry>(&e, 1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<std::pair<storage::WriteBatch::OpType, std::string>> index_ops;
  for (const storage::WriteBatch::Op& op : out->batch.ops()) {
    if (op.cf == storage::Cf::kIndex) index_ops.emplace_back(op.type, op.key);
  }
  using T = storage::WriteBatch::OpType;
  const std::vector<std::pair<T, std::string>> want = {
      {T::kDelete, IndexKey(IndexName::kModRevision, 2, "a")},
      {T::kPut, IndexKey(IndexName::kModRevision, 3, "a")},
  };
  EXPECT_EQ(index_ops, want);
  ASSERT_TRUE(h.store().Write(out->batch, false).ok());
  // The create_revision row written by the first put is still there.
  std::string row;
  EXPECT_TRUE(
      h.store().Get(storage::Cf::kIndex, IndexKey(IndexName::kCreateRevision, 2, "a"), &row).ok());
  EXPECT_EQ(
      h.store().Get(storage::Cf::kIndex, IndexKey(IndexName::kModRevision, 2, "a"), &row).code(),
      Code::kNotFound);
}

TEST(StateMachineKv, ApplyNeverSyncs) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  EXPECT_EQ(h.store().stats().synced_writes, 0u);
  EXPECT_EQ(h.store().stats().writes, 1u);
}

TEST(StateMachineKv, StateSurvivesReopen) {
  Harness h;
  h.Apply(PutCmd("a", "1"));
  h.Apply(PutCmd("a", "2"));
  h.Apply(DelCmd("zzz"));
  h.Reopen();
  EXPECT_EQ(h.sm().revision(), 3);
  EXPECT_EQ(h.sm().applied_index(), 3u);
  EXPECT_EQ(h.Apply(PutCmd("b", "1")).put().header().revision(), 4);
}

}  // namespace
}  // namespace aspen::sm

namespace aspen::sm {
namespace {

TEST(StateMachineOpen, CorruptMetaOrLeaseRowsAreReportedAtOpen) {
  for (storage::Cf cf : {storage::Cf::kMeta, storage::Cf::kLease}) {
    storage::MemStore store;
    storage::WriteBatch b;
    if (cf == storage::Cf::kMeta) {
      b.Put(cf, kMetaRevisionKey, "short");
    } else {
      b.Put(cf, EncodeLeaseKey(3), "\x07garbage");
    }
    ASSERT_TRUE(store.Write(b, false).ok());
    EXPECT_EQ(StateMachine::Open(&store).status().code(), Code::kCorruption);
  }
}

TEST(StateMachineOpen, CorruptKvRowFailsApplyWithoutChangingState) {
  testing::Harness h;
  h.Apply(testing::PutCmd("a", "1"));
  storage::WriteBatch b;
  b.Put(storage::Cf::kKv, "a", "\x01\x02");
  ASSERT_TRUE(h.store().Write(b, false).ok());
  // Reopened: an open state machine owns Cf::kKv and caches what it wrote
  // (sm/kv_cache.h); the corrupt row stands for one found on disk at start.
  h.Reopen();
  const std::string data = testing::Serialize(testing::PutCmd("a", "2"));
  const Entry e{2, data};
  EXPECT_EQ(h.sm().Apply(std::span<const Entry>(&e, 1)).status().code(), Code::kCorruption);
  EXPECT_EQ(h.sm().applied_index(), 1u);
  EXPECT_EQ(h.sm().revision(), 2);
}

}  // namespace
}  // namespace aspen::sm
