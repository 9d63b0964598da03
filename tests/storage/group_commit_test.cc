// Group commit: a lone writer pays one sync per write; 32 concurrent writers
// share syncs (DESIGN.md, "The write path", point 2). Counted with the
// counting FileSystem on RocksStore and with MemStore's synced-write count.
#include "storage/group_commit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "storage/mem_store.h"
#include "storage/rocks_store.h"
#include "storage/test_util.h"

namespace aspen::storage {
namespace {

WriteBatch OnePut(int writer, int i) {
  WriteBatch b;
  b.Put(Cf::kKv, "w" + std::to_string(writer) + "/" + std::to_string(i), std::string(64, 'v'));
  return b;
}

// Runs `writers` threads doing `per_writer` durable writes each; returns the
// number of WAL syncs the writes cost.
std::uint64_t RunWriters(RocksStore* store, GroupCommit* gc, int writers, int per_writer) {
  const std::uint64_t before = store->sync_counts().wal;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < per_writer; ++i) {
        if (!gc->Write(OnePut(w, i)).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  return store->sync_counts().wal - before;
}

class GroupCommitRocksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksOptions options;
    options.count_syncs = true;
    auto opened = RocksStore::Open(dir_.Sub("db"), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  testing::TempDir dir_;
  std::unique_ptr<RocksStore> store_;
};

TEST_F(GroupCommitRocksTest, LoneWriterPaysExactlyOneSyncPerWrite) {
  GroupCommit gc(store_.get());
  const std::uint64_t syncs = RunWriters(store_.get(), &gc, 1, 40);
  std::cout << "1 writer: 40 writes -> " << syncs << " WAL syncs\n";
  EXPECT_EQ(syncs, 40u);
  EXPECT_EQ(gc.stats().groups, 40u);
  EXPECT_EQ(gc.stats().writes, 40u);
}

TEST_F(GroupCommitRocksTest, ConcurrentWritersShareSyncs) {
  GroupCommit gc(store_.get());
  constexpr int kWriters = 32;
  constexpr int kPerWriter = 20;
  const std::uint64_t syncs = RunWriters(store_.get(), &gc, kWriters, kPerWriter);
  const double per_write = static_cast<double>(syncs) / (kWriters * kPerWriter);
  std::cout << "32 writers: " << kWriters * kPerWriter << " writes -> " << syncs << " WAL syncs ("
            << per_write << " per write), " << gc.stats().groups << " groups\n";
  EXPECT_EQ(gc.stats().writes, static_cast<std::uint64_t>(kWriters * kPerWriter));
  EXPECT_EQ(syncs, gc.stats().groups);  // one sync per group, none more
  EXPECT_LT(per_write, 0.5);
  // Every write is there.
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kPerWriter; ++i) {
      std::string v;
      ASSERT_TRUE(store_->Get(Cf::kKv, "w" + std::to_string(w) + "/" + std::to_string(i), &v).ok());
    }
  }
}

TEST(GroupCommitMemTest, GroupsRespectTheWriterBound) {
  MemStore store;
  GroupCommit::Options options;
  options.max_group_writers = 4;
  options.max_queued_writers = 64;
  GroupCommit gc(&store, options);
  std::vector<std::thread> threads;
  for (int w = 0; w < 16; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 10; ++i) ASSERT_TRUE(gc.Write(OnePut(w, i)).ok());
    });
  }
  for (auto& t : threads) t.join();
  const auto stats = gc.stats();
  EXPECT_EQ(stats.writes, 160u);
  EXPECT_GE(stats.groups, 160u / 4);  // no group took more than 4 writers
}

TEST(GroupCommitMemTest, FailedGroupReportsErrorToEveryWriterAndLosesNothingAcknowledged) {
  MemStore store;
  GroupCommit gc(&store);
  ASSERT_TRUE(gc.Write(OnePut(0, 0)).ok());
  store.FailNextWrites(1, Status::IOError("injected"));
  Status failed = gc.Write(OnePut(0, 1));
  EXPECT_EQ(failed.code(), Code::kIOError);
  store.Crash();
  std::string v;
  EXPECT_TRUE(store.Get(Cf::kKv, "w0/0", &v).ok());  // acknowledged: durable
  EXPECT_EQ(store.Get(Cf::kKv, "w0/1", &v).code(), Code::kNotFound);
}

TEST(GroupCommitMemTest, FullQueueIsResourceExhaustedNamingTheLimit) {
  MemStore store;
  GroupCommit::Options options;
  options.max_group_writers = 1;
  options.max_queued_writers = 1;
  GroupCommit gc(&store, options);
  // One writer at a time never exceeds the bound.
  ASSERT_TRUE(gc.Write(OnePut(0, 0)).ok());
  // Saturate: many threads against a queue of one; some must be refused with
  // a message naming the limit, and every accepted write is durable.
  std::atomic<int> refused{0}, accepted{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 50; ++i) {
        Status s = gc.Write(OnePut(w, i));
        if (s.ok()) {
          accepted.fetch_add(1);
        } else {
          EXPECT_EQ(s.code(), Code::kResourceExhausted);
          EXPECT_NE(s.message().find("max_queued_writers"), std::string::npos);
          refused.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load() + refused.load(), 400);
  EXPECT_EQ(gc.stats().writes, static_cast<std::uint64_t>(accepted.load()) + 1);
}

}  // namespace
}  // namespace aspen::storage
