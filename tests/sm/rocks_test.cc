// The state machine on the real engine: RocksStore in a temporary directory.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "sm/reads.h"
#include "sm/sm_test_util.h"
#include "sm/state_machine.h"
#include "storage/mem_store.h"
#include "storage/rocks_store.h"
#include "storage/scan_flush.h"
#include "storage/test_util.h"

namespace aspen::sm {
namespace {

using testing::DelCmd;
using testing::GrantCmd;
using testing::PutCmd;
using testing::RevokeCmd;

std::vector<std::string> Workload() {
  std::vector<v1::Command> cmds = {GrantCmd(7, 60),     PutCmd("a", "1"),
                                   PutCmd("b", "2", 7), PutCmd(std::string("c\0", 2), "3", 0, 500),
                                   PutCmd("a", "4"),    DelCmd("zz"),
                                   PutCmd("d", "5", 7), RevokeCmd(7),
                                   PutCmd("e", "6")};
  std::vector<std::string> data;
  for (v1::Command& c : cmds) {
    c.set_now_ms(10'000);
    data.push_back(testing::Serialize(c));
  }
  return data;
}

TEST(StateMachineRocks, StateAndHashSurviveCloseAndReopenAndMatchMemStore) {
  storage::testing::TempDir dir;
  const std::vector<std::string> data = Workload();
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < data.size(); ++i) entries.push_back({i + 1, data[i]});

  storage::MemStore mem;
  auto mem_sm = StateMachine::Open(&mem);
  ASSERT_TRUE(mem_sm.ok());
  ASSERT_TRUE((*mem_sm)->ApplyAndWrite(entries).ok());
  auto mem_hash = HashKV(*mem.GetSnapshot());
  ASSERT_TRUE(mem_hash.ok());

  {
    auto rocks = storage::RocksStore::Open(dir.Sub("db"));
    ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
    auto sm = StateMachine::Open(rocks->get());
    ASSERT_TRUE(sm.ok());
    // Two batches: the second one reads what the first one wrote to RocksDB.
    ASSERT_TRUE((*sm)->ApplyAndWrite(std::span(entries).first(4)).ok());
    auto rest = (*sm)->ApplyAndWrite(std::span(entries).subspan(4));
    ASSERT_TRUE(rest.ok());
    EXPECT_FALSE(rest->back().has_error());
    ASSERT_TRUE((*rocks)->Write(storage::WriteBatch(), /*sync=*/true).ok());
  }
  auto rocks = storage::RocksStore::Open(dir.Sub("db"));
  ASSERT_TRUE(rocks.ok());
  auto sm = StateMachine::Open(rocks->get());
  ASSERT_TRUE(sm.ok());
  EXPECT_EQ((*sm)->applied_index(), entries.size());
  EXPECT_EQ((*sm)->revision(), (*mem_sm)->revision());
  auto snap = (*rocks)->GetSnapshot();
  auto hash = HashKV(*snap);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash->sha256, mem_hash->sha256);
  v1::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  auto r = Range(*snap, all, 10'000);
  ASSERT_TRUE(r.ok());
  // b and d went with lease 7; a, c\0, e remain.
  ASSERT_EQ(r->kvs_size(), 3);
  EXPECT_EQ(r->kvs(0).value(), "4");
  EXPECT_EQ(r->kvs(1).expires_at_ms(), 10'500);
  EXPECT_EQ(Range(*snap, all, 10'500)->count(), 2);
  auto expired = ExpiredKeys(*snap, 10'500, 10);
  ASSERT_TRUE(expired.ok());
  ASSERT_EQ(expired->size(), 1u);
  EXPECT_EQ((*expired)[0].key(), std::string("c\0", 2));
}

// Ranges over keys overwritten many times make RocksStore flush the kv
// memtable (storage/scan_flush.h). Before, during and after that flush every
// read must equal the same state on MemStore: latest ranges, ranges at a past
// revision (from the history), and the hash.
TEST(StateMachineRocks, RangesOverManyOverwritesAreExactAcrossTheFlushTheyCause) {
  storage::testing::TempDir dir;
  storage::RocksOptions options;
  options.scan_flush.min_memtable_entries = 100;
  options.scan_flush.min_interval = std::chrono::hours(1);
  auto rocks = storage::RocksStore::Open(dir.Sub("db"), options);
  ASSERT_TRUE(rocks.ok());
  auto sm = StateMachine::Open(rocks->get());
  ASSERT_TRUE(sm.ok());
  storage::MemStore mem;
  auto mem_sm = StateMachine::Open(&mem);
  ASSERT_TRUE(mem_sm.ok());

  constexpr int kKeys = 200;
  std::uint64_t index = 0;
  std::int64_t mid_revision = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<Entry> entries;
    std::vector<std::string> data;
    for (int k = 0; k < kKeys; ++k) {
      v1::Command c = PutCmd("key" + std::to_string(1000 + k),
                             "r" + std::to_string(round) + "k" + std::to_string(k));
      c.set_now_ms(10'000);
      data.push_back(testing::Serialize(c));
    }
    for (std::string& d : data) entries.push_back({++index, d});
    ASSERT_TRUE((*sm)->ApplyAndWrite(entries).ok());
    ASSERT_TRUE((*mem_sm)->ApplyAndWrite(entries).ok());
    if (round == 4) mid_revision = (*sm)->revision();
  }
  v1::RangeRequest latest;
  latest.set_key("key");
  latest.set_range_end("kez");
  v1::RangeRequest past = latest;
  past.set_revision(mid_revision);
  auto expect_same = [&](const v1::RangeRequest& req) {
    auto got = Range(*(*rocks)->GetSnapshot(), req, 10'000);
    auto want = Range(*mem.GetSnapshot(), req, 10'000);
    ASSERT_TRUE(got.ok() && want.ok());
    ASSERT_EQ(got->kvs_size(), kKeys);
    EXPECT_EQ(got->SerializeAsString(), want->SerializeAsString());
  };

  expect_same(latest);  // 9 hidden versions per key: asks for the flush
  EXPECT_EQ((*rocks)->scan_flushes(), 1u);
  // Until the flush has finished, and once after it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    storage::HiddenEntryCounter counter;
    expect_same(latest);
    if (counter.skipped() < 2u * kKeys || std::chrono::steady_clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    storage::HiddenEntryCounter counter;
    expect_same(latest);
    EXPECT_LT(counter.skipped(), 2u * kKeys) << "the flush did not drop the hidden versions";
  }
  expect_same(past);
  auto hash = HashKV(*(*rocks)->GetSnapshot());
  auto mem_hash = HashKV(*mem.GetSnapshot());
  ASSERT_TRUE(hash.ok() && mem_hash.ok());
  EXPECT_EQ(hash->sha256, mem_hash->sha256);
}

}  // namespace
}  // namespace aspen::sm
