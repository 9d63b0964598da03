// The apply path's cache of current kv records (sm/kv_cache.h): bounded,
// never stale, and it spares the store Get of a recently written key while
// create_revision, version and prev_kv stay exact.
#include "sm/kv_cache.h"

#include <gtest/gtest.h>

#include <atomic>

#include "base/limits.h"
#include "sm/sm_test_util.h"

namespace aspen::sm::testing {
namespace {

std::string Find(const KvCache& c, std::string_view key) {
  const std::optional<std::string>* hit = c.Find(key);
  if (hit == nullptr) return "<miss>";
  return hit->has_value() ? **hit : "<absent>";
}

TEST(KvCache, TheLatestPutWinsAcrossGenerationsAndStaleCopiesAreDropped) {
  KvCache c;
  c.Put("a", "1");
  int filler = 0;
  // Rotate once: "a" moves to the old generation.
  for (std::size_t i = 0; i < limits::kKvCacheEntries; ++i)
    c.Put("f" + std::to_string(filler++), "x");
  EXPECT_EQ(Find(c, "a"), "1");
  c.Put("a", "2");  // young, shadows the old "1"
  EXPECT_EQ(Find(c, "a"), "2");
  c.Put("a", std::nullopt);
  EXPECT_EQ(Find(c, "a"), "<absent>");
  c.Put("a", "3");
  for (std::size_t i = 0; i < limits::kKvCacheEntries; ++i)
    c.Put("g" + std::to_string(filler++), "x");
  EXPECT_EQ(Find(c, "a"), "3") << "the old generation holds the latest record, not a stale one";
  EXPECT_EQ(Find(c, "f0"), "<miss>");
}

TEST(KvCache, EntriesAndBytesStayWithinTwoGenerations) {
  KvCache c;
  for (std::size_t i = 0; i < 3 * limits::kKvCacheEntries; ++i) c.Put(std::to_string(i), "v");
  EXPECT_LE(c.size(), 2 * limits::kKvCacheEntries);
  KvCache big;
  const std::string value(64 * 1024, 'v');
  const std::size_t per_generation = limits::kKvCacheBytes / value.size() + 1;
  for (std::size_t i = 0; i < 3 * per_generation; ++i) big.Put(std::to_string(i), value);
  EXPECT_LE(big.size(), 2 * per_generation);
}

// Counts Cf::kKv point reads that reach the store.
class CountingStore final : public storage::Store {
 public:
  explicit CountingStore(storage::Store* inner) : inner_(inner) {}
  Status Write(const storage::WriteBatch& batch, bool sync) override {
    return inner_->Write(batch, sync);
  }
  std::unique_ptr<storage::Snapshot> GetSnapshot() override {
    return std::make_unique<Snap>(inner_->GetSnapshot(), &kv_gets);
  }
  Status Get(storage::Cf cf, std::string_view key, std::string* value) override {
    if (cf == storage::Cf::kKv) ++kv_gets;
    return inner_->Get(cf, key, value);
  }
  storage::StoreStats stats() const override { return inner_->stats(); }

  std::atomic<int> kv_gets{0};

 private:
  class Snap final : public storage::Snapshot {
   public:
    Snap(std::unique_ptr<storage::Snapshot> inner, std::atomic<int>* gets)
        : inner_(std::move(inner)), gets_(gets) {}
    Status Get(storage::Cf cf, std::string_view key, std::string* value) const override {
      if (cf == storage::Cf::kKv) ++*gets_;
      return inner_->Get(cf, key, value);
    }
    std::unique_ptr<storage::Iterator> NewIterator(
        storage::Cf cf, std::string_view lower,
        std::optional<std::string_view> upper) const override {
      return inner_->NewIterator(cf, lower, upper);
    }

   private:
    std::unique_ptr<storage::Snapshot> inner_;
    std::atomic<int>* gets_;
  };
  storage::Store* inner_;
};

v1::Response ApplyOne(StateMachine* sm, const v1::Command& c) {
  const std::string data = Serialize(c);
  const Entry e{sm->applied_index() + 1, data};
  auto r = sm->ApplyAndWrite(std::span<const Entry>(&e, 1));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)[0] : v1::Response();
}

v1::Command PutPrev(std::string key, std::string value) {
  v1::Command c = PutCmd(std::move(key), std::move(value));
  c.mutable_put()->set_prev_kv(true);
  return c;
}

TEST(KvCache, ApplyReadsARecentlyWrittenKeyFromTheCacheAndStaysExact) {
  storage::MemStore mem;
  CountingStore store(&mem);
  auto sm = StateMachine::Open(&store);
  ASSERT_TRUE(sm.ok());
  v1::Response r = ApplyOne(sm->get(), PutPrev("k", "1"));  // rev 2, a miss
  EXPECT_FALSE(r.put().has_prev_kv());
  const int gets_after_first = store.kv_gets.load();
  r = ApplyOne(sm->get(), PutPrev("k", "2"));  // rev 3
  EXPECT_EQ(store.kv_gets.load(), gets_after_first) << "the second put read the store";
  EXPECT_EQ(r.put().prev_kv().value(), "1");
  EXPECT_EQ(r.put().prev_kv().version(), 1);
  EXPECT_EQ(r.put().prev_kv().create_revision(), 2);
  ApplyOne(sm->get(), DelCmd("k"));            // rev 4
  r = ApplyOne(sm->get(), PutPrev("k", "3"));  // rev 5: created anew
  EXPECT_FALSE(r.put().has_prev_kv());
  EXPECT_EQ(store.kv_gets.load(), gets_after_first) << "a deletion is cached as absent";
  r = ApplyOne(sm->get(), PutPrev("k", "4"));  // rev 6
  EXPECT_EQ(r.put().prev_kv().value(), "3");
  EXPECT_EQ(r.put().prev_kv().version(), 1);
  EXPECT_EQ(r.put().prev_kv().create_revision(), 5);

  // A reopened state machine starts empty and reads the store again.
  auto reopened = StateMachine::Open(&store);
  ASSERT_TRUE(reopened.ok());
  const int gets_before = store.kv_gets.load();
  r = ApplyOne(reopened->get(), PutPrev("k", "5"));
  EXPECT_GT(store.kv_gets.load(), gets_before);
  EXPECT_EQ(r.put().prev_kv().value(), "4");
  EXPECT_EQ(r.put().prev_kv().version(), 2);
  EXPECT_EQ(r.put().prev_kv().create_revision(), 5);
}

TEST(KvCache, KeysEvictedFromTheCacheStillGetExactVersions) {
  storage::MemStore store;
  auto sm = StateMachine::Open(&store);
  ASSERT_TRUE(sm.ok());
  // More distinct keys than both generations hold, written twice, batched.
  const std::size_t keys = 2 * limits::kKvCacheEntries + 1000;
  std::vector<std::string> datas;
  for (int round = 0; round < 2; ++round) {
    for (std::size_t lo = 0; lo < keys; lo += 4096) {
      datas.clear();
      for (std::size_t i = lo; i < std::min(keys, lo + 4096); ++i) {
        datas.push_back(Serialize(PutCmd("key" + std::to_string(i), std::to_string(round))));
      }
      std::vector<Entry> entries;
      for (const std::string& d : datas) entries.push_back(Entry{0, d});
      for (std::size_t j = 0; j < entries.size(); ++j) {
        entries[j].index = (*sm)->applied_index() + 1 + j;
      }
      ASSERT_TRUE((*sm)->ApplyAndWrite(entries).ok());
    }
  }
  for (std::size_t i : {std::size_t{0}, keys / 2, keys - 1}) {
    v1::Response r = ApplyOne(sm->get(), PutPrev("key" + std::to_string(i), "2"));
    EXPECT_EQ(r.put().prev_kv().version(), 2) << i;
    EXPECT_EQ(r.put().prev_kv().value(), "1") << i;
  }
}

}  // namespace
}  // namespace aspen::sm::testing
