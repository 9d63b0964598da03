// The Store contract (storage/store.h), one typed suite run against RocksStore
// and MemStore, so the simulator's store behaves like the real engine.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "storage/test_util.h"

namespace aspen::storage {
namespace {

using testing::EngineNames;
using testing::Engines;

template <typename E>
class StoreContractTest : public ::testing::Test {
 protected:
  Store* store() { return engine_.store(); }

  void Put(Cf cf, std::string_view k, std::string_view v, bool sync = false) {
    WriteBatch b;
    b.Put(cf, k, v);
    ASSERT_TRUE(store()->Write(b, sync).ok());
  }
  // The value, or "<none>" when absent.
  std::string GetOr(Cf cf, std::string_view k) {
    std::string v;
    Status s = store()->Get(cf, k, &v);
    if (s.code() == Code::kNotFound) return "<none>";
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }
  // Every key of `it` walking forward from SeekToFirst.
  static std::vector<std::string> Forward(Iterator* it) {
    std::vector<std::string> keys;
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok());
    return keys;
  }
  static std::vector<std::string> Backward(Iterator* it) {
    std::vector<std::string> keys;
    for (it->SeekToLast(); it->Valid(); it->Prev()) keys.emplace_back(it->key());
    EXPECT_TRUE(it->status().ok());
    return keys;
  }
  void PutDigits(Cf cf) {
    WriteBatch b;
    for (char c = '0'; c <= '9'; ++c) b.Put(cf, std::string("k") + c, std::string("v") + c);
    ASSERT_TRUE(store()->Write(b, false).ok());
  }

  E engine_;
};

TYPED_TEST_SUITE(StoreContractTest, Engines, EngineNames);

TYPED_TEST(StoreContractTest, PutGetDeleteAreSeparatePerColumnFamily) {
  this->Put(Cf::kKv, "a", "kv-a");
  this->Put(Cf::kIndex, "a", "index-a");
  EXPECT_EQ(this->GetOr(Cf::kKv, "a"), "kv-a");
  EXPECT_EQ(this->GetOr(Cf::kIndex, "a"), "index-a");
  EXPECT_EQ(this->GetOr(Cf::kMeta, "a"), "<none>");
  WriteBatch b;
  b.Delete(Cf::kKv, "a");
  ASSERT_TRUE(this->store()->Write(b, false).ok());
  EXPECT_EQ(this->GetOr(Cf::kKv, "a"), "<none>");
  EXPECT_EQ(this->GetOr(Cf::kIndex, "a"), "index-a");
}

TYPED_TEST(StoreContractTest, GetOfMissingKeyIsNotFound) {
  std::string v = "untouched";
  Status s = this->store()->Get(Cf::kKv, "missing", &v);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(this->store()->GetSnapshot()->Get(Cf::kLease, "missing", &v).code(), Code::kNotFound);
}

TYPED_TEST(StoreContractTest, EveryColumnFamilyIsUsable) {
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    const Cf cf = static_cast<Cf>(i);
    this->Put(cf, "k", std::string(CfName(cf)));
  }
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    const Cf cf = static_cast<Cf>(i);
    EXPECT_EQ(this->GetOr(cf, "k"), CfName(cf));
  }
}

TYPED_TEST(StoreContractTest, DeleteRangeRemovesHalfOpenRangeInOneCf) {
  this->PutDigits(Cf::kKv);
  this->PutDigits(Cf::kIndex);
  WriteBatch b;
  b.DeleteRange(Cf::kKv, "k2", "k5");
  ASSERT_TRUE(this->store()->Write(b, false).ok());
  auto it = this->store()->GetSnapshot()->NewIterator(Cf::kKv);
  EXPECT_EQ(this->Forward(it.get()),
            (std::vector<std::string>{"k0", "k1", "k5", "k6", "k7", "k8", "k9"}));
  EXPECT_EQ(this->GetOr(Cf::kIndex, "k3"), "v3");
}

TYPED_TEST(StoreContractTest, EmptyDeleteRangeDeletesNothing) {
  this->PutDigits(Cf::kKv);
  WriteBatch b;
  b.DeleteRange(Cf::kKv, "k3", "k3");
  ASSERT_TRUE(this->store()->Write(b, false).ok());
  EXPECT_EQ(this->GetOr(Cf::kKv, "k3"), "v3");
}

TYPED_TEST(StoreContractTest, InvertedDeleteRangeRejectsTheWholeBatch) {
  this->PutDigits(Cf::kKv);
  WriteBatch b;
  b.Put(Cf::kKv, "new", "x");
  b.DeleteRange(Cf::kKv, "k7", "k2");
  Status s = this->store()->Write(b, true);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(this->GetOr(Cf::kKv, "new"), "<none>");
  EXPECT_EQ(this->GetOr(Cf::kKv, "k5"), "v5");
  EXPECT_EQ(this->store()->stats().writes, 1u);
}

TYPED_TEST(StoreContractTest, BatchOpsApplyInOrder) {
  WriteBatch b;
  b.Put(Cf::kKv, "a", "1");
  b.Delete(Cf::kKv, "a");
  b.Put(Cf::kKv, "a", "2");
  b.Put(Cf::kKv, "b", "1");
  b.DeleteRange(Cf::kKv, "b", "c");
  b.Put(Cf::kKv, "b", "3");
  b.Put(Cf::kKv, "c", "1");
  b.DeleteRange(Cf::kKv, "c", "d");
  ASSERT_TRUE(this->store()->Write(b, false).ok());
  EXPECT_EQ(this->GetOr(Cf::kKv, "a"), "2");
  EXPECT_EQ(this->GetOr(Cf::kKv, "b"), "3");
  EXPECT_EQ(this->GetOr(Cf::kKv, "c"), "<none>");
}

TYPED_TEST(StoreContractTest, ReadersSeeABatchWhollyOrNotAtAll) {
  // The writer keeps kv/x and index/x equal in every batch; a concurrent
  // reader's snapshots must never see them differ.
  constexpr int kBatches = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> reads{0};
  std::thread reader([&] {
    while (!done.load()) {
      auto snap = this->store()->GetSnapshot();
      std::string a, b;
      Status sa = snap->Get(Cf::kKv, "x", &a);
      Status sb = snap->Get(Cf::kIndex, "x", &b);
      if (sa.code() != sb.code() || a != b) torn.fetch_add(1);
      reads.fetch_add(1);
    }
  });
  while (reads.load() == 0) std::this_thread::yield();  // overlap with the reader
  for (int i = 0; i < kBatches; ++i) {
    WriteBatch b;
    b.Put(Cf::kKv, "x", std::to_string(i));
    b.Put(Cf::kIndex, "x", std::to_string(i));
    ASSERT_TRUE(this->store()->Write(b, false).ok());
  }
  done.store(true);
  reader.join();
  EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " snapshots";
}

TYPED_TEST(StoreContractTest, SnapshotDoesNotSeeLaterWrites) {
  this->Put(Cf::kKv, "a", "old");
  this->Put(Cf::kKv, "b", "old");
  auto snap = this->store()->GetSnapshot();
  this->Put(Cf::kKv, "a", "new");
  this->Put(Cf::kKv, "c", "new");
  WriteBatch del;
  del.Delete(Cf::kKv, "b");
  ASSERT_TRUE(this->store()->Write(del, true).ok());

  std::string v;
  ASSERT_TRUE(snap->Get(Cf::kKv, "a", &v).ok());
  EXPECT_EQ(v, "old");
  ASSERT_TRUE(snap->Get(Cf::kKv, "b", &v).ok());
  EXPECT_EQ(v, "old");
  EXPECT_EQ(snap->Get(Cf::kKv, "c", &v).code(), Code::kNotFound);
  auto it = snap->NewIterator(Cf::kKv);
  EXPECT_EQ(this->Forward(it.get()), (std::vector<std::string>{"a", "b"}));
  // The live state moved on.
  EXPECT_EQ(this->GetOr(Cf::kKv, "a"), "new");
  EXPECT_EQ(this->GetOr(Cf::kKv, "b"), "<none>");
}

TYPED_TEST(StoreContractTest, IteratorStaysWithinBoundsBothWays) {
  this->PutDigits(Cf::kKv);
  this->PutDigits(Cf::kIndex);  // another CF must not leak in
  auto snap = this->store()->GetSnapshot();
  auto it = snap->NewIterator(Cf::kKv, "k2", std::string_view("k5"));
  EXPECT_EQ(this->Forward(it.get()), (std::vector<std::string>{"k2", "k3", "k4"}));
  EXPECT_EQ(this->Backward(it.get()), (std::vector<std::string>{"k4", "k3", "k2"}));
  it->SeekToFirst();
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->value(), "v2");

  auto all = snap->NewIterator(Cf::kKv);
  EXPECT_EQ(this->Forward(all.get()).size(), 10u);
  auto from = snap->NewIterator(Cf::kKv, "k8");
  EXPECT_EQ(this->Forward(from.get()), (std::vector<std::string>{"k8", "k9"}));
  auto to = snap->NewIterator(Cf::kKv, "", std::string_view("k1"));
  EXPECT_EQ(this->Backward(to.get()), (std::vector<std::string>{"k0"}));
}

TYPED_TEST(StoreContractTest, SeekAndSeekForPrevClampToBounds) {
  this->PutDigits(Cf::kKv);
  auto snap = this->store()->GetSnapshot();
  auto it = snap->NewIterator(Cf::kKv, "k2", std::string_view("k5"));
  it->Seek("k3");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k3");
  it->Seek("k35");  // between keys: the next one
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k4");
  it->Seek("a");  // below the lower bound: the first key in range
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k2");
  it->Seek("k5");  // at the upper bound: nothing
  EXPECT_FALSE(it->Valid());

  it->SeekForPrev("k35");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k3");
  it->SeekForPrev("k4");
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k4");
  it->SeekForPrev("z");  // above the upper bound: the last key in range
  ASSERT_TRUE(it->Valid());
  EXPECT_EQ(it->key(), "k4");
  it->SeekForPrev("k1");  // below the lower bound: nothing
  EXPECT_FALSE(it->Valid());
}

TYPED_TEST(StoreContractTest, IteratorOverEmptyOrInvertedRangeIsInvalid) {
  this->PutDigits(Cf::kKv);
  auto snap = this->store()->GetSnapshot();
  auto empty_cf = snap->NewIterator(Cf::kLease);
  empty_cf->SeekToFirst();
  EXPECT_FALSE(empty_cf->Valid());
  empty_cf->SeekToLast();
  EXPECT_FALSE(empty_cf->Valid());
  auto inverted = snap->NewIterator(Cf::kKv, "k7", std::string_view("k3"));
  EXPECT_TRUE(this->Forward(inverted.get()).empty());
  EXPECT_TRUE(this->Backward(inverted.get()).empty());
  inverted->Seek("k5");
  EXPECT_FALSE(inverted->Valid());
  inverted->SeekForPrev("k5");
  EXPECT_FALSE(inverted->Valid());
}

TYPED_TEST(StoreContractTest, BinaryKeysOrderAsUnsignedBytes) {
  using namespace std::string_literals;
  const std::vector<std::string> keys = {
      "\x00"s,
      "\x00\x00"s,
      "\x00\xff"s,
      "\x01"s,
      "a\x00"s
      "b",
      "\x7f"s,
      "\x80"s,
      "\xfe\xff"s,
      "\xff"s,
      "\xff\x00"s,
      "\xff\xff"s,
  };
  std::vector<std::string> shuffled = keys;
  std::reverse(shuffled.begin(), shuffled.end());
  WriteBatch b;
  for (const std::string& k : shuffled) b.Put(Cf::kIndex, k, "v" + k);
  ASSERT_TRUE(this->store()->Write(b, false).ok());
  auto it = this->store()->GetSnapshot()->NewIterator(Cf::kIndex);
  EXPECT_EQ(this->Forward(it.get()), keys);
  for (const std::string& k : keys) EXPECT_EQ(this->GetOr(Cf::kIndex, k), "v" + k);
  // Bounds made of 0x00 / 0xff bytes.
  auto mid = this->store()->GetSnapshot()->NewIterator(Cf::kIndex, "\x00\xff"s,
                                                       std::string_view("\xff\x00", 2));
  EXPECT_EQ(this->Forward(mid.get()),
            (std::vector<std::string>(keys.begin() + 2, keys.begin() + 9)));
}

TYPED_TEST(StoreContractTest, StatsCountSuccessfulAndSyncedWrites) {
  this->Put(Cf::kKv, "a", "1", false);
  this->Put(Cf::kKv, "b", "1", true);
  this->Put(Cf::kKv, "c", "1", true);
  StoreStats stats = this->store()->stats();
  EXPECT_EQ(stats.writes, 3u);
  EXPECT_EQ(stats.synced_writes, 2u);
}

TYPED_TEST(StoreContractTest, SyncedWriteAndEverythingBeforeItSurviveACrash) {
  this->Put(Cf::kKv, "before", "1", false);
  this->Put(Cf::kRaftLog, "synced", "2", true);
  this->Put(Cf::kMeta, "after", "3", false);
  this->engine_.Crash();
  EXPECT_EQ(this->GetOr(Cf::kKv, "before"), "1");
  EXPECT_EQ(this->GetOr(Cf::kRaftLog, "synced"), "2");
  if (TypeParam::kCrashDropsUnsynced) {
    EXPECT_EQ(this->GetOr(Cf::kMeta, "after"), "<none>");
  }
}

TYPED_TEST(StoreContractTest, EmptySyncedBatchMakesEarlierWritesDurable) {
  this->Put(Cf::kKv, "a", "1", false);
  ASSERT_TRUE(this->store()->Write(WriteBatch(), true).ok());
  this->engine_.Crash();
  EXPECT_EQ(this->GetOr(Cf::kKv, "a"), "1");
}

TYPED_TEST(StoreContractTest, CrashKeepsAPrefixOfTheWrites) {
  // Ten unsynced writes after a synced one: whatever survives is a prefix.
  this->Put(Cf::kMeta, "w0", "x", true);
  for (int i = 1; i <= 10; ++i) this->Put(Cf::kMeta, "w" + std::to_string(i), "x", false);
  this->engine_.Crash();
  int survived = 0;
  while (survived <= 10 && this->GetOr(Cf::kMeta, "w" + std::to_string(survived)) == "x") {
    ++survived;
  }
  EXPECT_GE(survived, 1);
  for (int i = survived; i <= 10; ++i) {
    EXPECT_EQ(this->GetOr(Cf::kMeta, "w" + std::to_string(i)), "<none>") << i;
  }
  if (TypeParam::kCrashDropsUnsynced) {
    EXPECT_EQ(survived, 1);
  }
}

// A random op against a model: keys from a tiny alphabet with 0x00/0xff bytes
// so ranges, bounds and overwrites collide often.
struct ModelOp {
  int type;  // 0 put, 1 delete, 2 delete-range
  int cf;    // 0 kv, 1 index
  std::string a, b, value;
};

rc::Gen<std::string> ModelKey() {
  using namespace std::string_literals;
  return rc::gen::element(""s, "a"s, "ab"s, "b"s, "\x00"s, "\x00\x00"s, "\xff"s, "\xff\x00"s);
}

TYPED_TEST(StoreContractTest, RandomBatchesMatchAnOrderedMapModel) {
  // Each case writes under its own prefix, so the cases can share one store.
  int case_number = 0;
  const bool ok = rc::check([&] {
    const std::string prefix = "case" + std::to_string(case_number++) + "/";
    const std::string end = prefix.substr(0, prefix.size() - 1) + "0";  // just past prefix
    std::map<std::string, std::string> model[2];
    const Cf cfs[2] = {Cf::kKv, Cf::kIndex};
    const auto batches = *rc::gen::container<std::vector<std::vector<ModelOp>>>(
        rc::gen::container<std::vector<ModelOp>>(rc::gen::build<ModelOp>(
            rc::gen::set(&ModelOp::type, rc::gen::inRange(0, 3)),
            rc::gen::set(&ModelOp::cf, rc::gen::inRange(0, 2)),
            rc::gen::set(&ModelOp::a, ModelKey()), rc::gen::set(&ModelOp::b, ModelKey()),
            rc::gen::set(&ModelOp::value, rc::gen::element<std::string>("x", "y", "")))));
    for (const auto& ops : batches) {
      WriteBatch batch;
      for (const ModelOp& op : ops) {
        auto& m = model[op.cf];
        const std::string a = prefix + op.a;
        std::string b = prefix + op.b;
        if (op.type == 0) {
          batch.Put(cfs[op.cf], a, op.value);
          m[a] = op.value;
        } else if (op.type == 1) {
          batch.Delete(cfs[op.cf], a);
          m.erase(a);
        } else {
          if (b < a) b = a;  // inverted ranges are rejected; tested elsewhere
          batch.DeleteRange(cfs[op.cf], a, b);
          m.erase(m.lower_bound(a), m.lower_bound(b));
        }
      }
      RC_ASSERT(this->store()->Write(batch, false).ok());
    }
    auto snap = this->store()->GetSnapshot();
    for (int c = 0; c < 2; ++c) {
      auto it = snap->NewIterator(cfs[c], prefix, std::string_view(end));
      std::map<std::string, std::string> seen;
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        seen.emplace(std::string(it->key()), std::string(it->value()));
      }
      RC_ASSERT(seen == model[c]);
      // Seek / SeekForPrev with random bounds agree with the model.
      const std::string lo = prefix + *ModelKey();
      const std::string hi = prefix + *ModelKey();
      const std::string target = prefix + *ModelKey();
      auto bounded = snap->NewIterator(cfs[c], lo, std::string_view(hi));
      bounded->Seek(target);
      auto want = model[c].lower_bound(std::max(target, lo));
      const bool want_valid = want != model[c].end() && want->first < hi && lo <= hi;
      RC_ASSERT(bounded->Valid() == want_valid);
      if (want_valid) RC_ASSERT(std::string(bounded->key()) == want->first);
      bounded->SeekForPrev(target);
      std::optional<std::string> prev;
      for (const auto& [k, v] : model[c]) {
        if (k >= lo && k < hi && k <= target) prev = k;
      }
      RC_ASSERT(bounded->Valid() == prev.has_value());
      if (prev) RC_ASSERT(std::string(bounded->key()) == *prev);
    }
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace aspen::storage
