// LogStore (storage/log_store.h) against both engines.
#include "storage/log_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/test_util.h"

namespace aspen::storage {
namespace {

using testing::EngineNames;
using testing::Engines;
using ::testing::HasSubstr;

std::vector<LogEntry> MakeEntries(std::uint64_t lo, std::uint64_t hi, std::uint64_t term,
                                  std::size_t data_bytes = 10) {
  std::vector<LogEntry> out;
  for (std::uint64_t i = lo; i < hi; ++i) {
    LogEntry e;
    e.index = i;
    e.term = term;
    e.type = i % 7 == 0 ? kEntryConfChange : kEntryNormal;
    e.data = std::string(data_bytes, static_cast<char>('a' + i % 26));
    out.push_back(std::move(e));
  }
  return out;
}

template <typename E>
class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    log_.reset();
    auto opened = LogStore::Open(engine_.store());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
  }

  // Appends [lo, hi) at `term` in one synced batch; returns the entries with
  // their chain hashes.
  std::vector<LogEntry> Append(std::uint64_t lo, std::uint64_t hi, std::uint64_t term,
                               bool sync = true) {
    std::vector<LogEntry> entries = MakeEntries(lo, hi, term);
    WriteBatch b;
    Status s = log_->AppendToBatch(&b, entries);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_TRUE(engine_.store()->Write(b, sync).ok());
    return entries;
  }

  void Write(const WriteBatch& b) { ASSERT_TRUE(engine_.store()->Write(b, true).ok()); }

  std::vector<LogEntry> All() {
    auto r = log_->Entries(log_->FirstIndex(), log_->LastIndex() + 1, UINT64_MAX);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::vector<LogEntry>{};
  }

  // Overwrites the raw stored bytes of entry `index`.
  void Tamper(std::uint64_t index, std::string bytes) {
    WriteBatch b;
    b.Put(Cf::kRaftLog, EncodeLogKey(index), bytes);
    Write(b);
  }
  std::string Raw(std::uint64_t index) {
    std::string v;
    EXPECT_TRUE(engine_.store()->Get(Cf::kRaftLog, EncodeLogKey(index), &v).ok());
    return v;
  }

  E engine_;
  std::unique_ptr<LogStore> log_;
};

TYPED_TEST_SUITE(LogStoreTest, Engines, EngineNames);

TYPED_TEST(LogStoreTest, FreshLogIsEmptyWithTermZeroAtIndexZero) {
  EXPECT_EQ(this->log_->FirstIndex(), 1u);
  EXPECT_EQ(this->log_->LastIndex(), 0u);
  auto term = this->log_->Term(0);
  ASSERT_TRUE(term.ok());
  EXPECT_EQ(*term, 0u);
  EXPECT_TRUE(LogStore::IsUnavailable(this->log_->Term(1).status()));
  auto state = this->log_->InitialState();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->hard_state, HardState{});
  EXPECT_EQ(state->conf_state, "");
  EXPECT_TRUE(this->log_->VerifyChain().ok());
}

TYPED_TEST(LogStoreTest, AppendedEntriesReadBackWithTheirChainHashes) {
  std::vector<LogEntry> want = this->Append(1, 6, 1);
  EXPECT_EQ(this->log_->LastIndex(), 5u);
  EXPECT_EQ(this->All(), want);
  ChainHash prev = kZeroChainHash;
  for (const LogEntry& e : want) {
    EXPECT_EQ(e.chain_hash, ComputeChainHash(prev, e.term, e.index, e.type, e.data));
    prev = e.chain_hash;
  }
  EXPECT_EQ(this->log_->LastChainHash(), prev);
  for (std::uint64_t i = 1; i <= 5; ++i) EXPECT_EQ(*this->log_->Term(i), 1u);
  this->Reopen();
  EXPECT_EQ(this->log_->LastIndex(), 5u);
  EXPECT_EQ(this->log_->LastTerm(), 1u);
  EXPECT_EQ(this->log_->LastChainHash(), prev);
  EXPECT_EQ(this->All(), want);
}

TYPED_TEST(LogStoreTest, AppendTruncatesAConflictingSuffix) {
  std::vector<LogEntry> first = this->Append(1, 6, 1);
  std::vector<LogEntry> second = this->Append(3, 5, 2);  // replaces 3..5 by 3..4
  EXPECT_EQ(this->log_->LastIndex(), 4u);
  EXPECT_EQ(this->log_->LastTerm(), 2u);
  std::vector<LogEntry> all = this->All();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0], first[0]);
  EXPECT_EQ(all[1], first[1]);
  EXPECT_EQ(all[2], second[0]);
  EXPECT_EQ(all[3], second[1]);
  EXPECT_EQ(second[0].chain_hash,
            ComputeChainHash(first[1].chain_hash, 2, 3, second[0].type, second[0].data));
  std::string v;
  EXPECT_EQ(this->engine_.store()->Get(Cf::kRaftLog, EncodeLogKey(5), &v).code(), Code::kNotFound);
  EXPECT_TRUE(this->log_->VerifyChain().ok());
  this->Reopen();
  EXPECT_EQ(this->log_->LastIndex(), 4u);
}

TYPED_TEST(LogStoreTest, TwoAppendsInOneBatchSeeEachOther) {
  this->Append(1, 3, 1);
  std::vector<LogEntry> a = MakeEntries(3, 8, 1);
  std::vector<LogEntry> b = MakeEntries(5, 7, 2);  // overwrites 5..7 of a, before any write
  WriteBatch batch;
  ASSERT_TRUE(this->log_->AppendToBatch(&batch, a).ok());
  ASSERT_TRUE(this->log_->AppendToBatch(&batch, b).ok());
  this->Write(batch);
  EXPECT_EQ(this->log_->LastIndex(), 6u);
  EXPECT_EQ(b[0].chain_hash, ComputeChainHash(a[1].chain_hash, 2, 5, b[0].type, b[0].data));
  EXPECT_TRUE(this->log_->VerifyChain().ok());
  this->Reopen();
  EXPECT_EQ(this->log_->LastIndex(), 6u);
  EXPECT_EQ(this->log_->LastChainHash(), b[1].chain_hash);
}

TYPED_TEST(LogStoreTest, AppendRejectsMalformedEntriesWithoutTouchingTheBatch) {
  this->Append(1, 4, 1);
  auto check = [&](std::vector<LogEntry> entries, Code code, const char* what) {
    WriteBatch b;
    Status s = this->log_->AppendToBatch(&b, entries);
    EXPECT_EQ(s.code(), code) << what << ": " << s.ToString();
    EXPECT_TRUE(b.empty()) << what;
    EXPECT_EQ(this->log_->LastIndex(), 3u) << what;
  };
  check(MakeEntries(5, 7, 1), Code::kFailedPrecondition, "gap after the last index");
  std::vector<LogEntry> skip = MakeEntries(4, 6, 1);
  skip[1].index = 7;
  check(skip, Code::kInvalidArgument, "non-consecutive");
  std::vector<LogEntry> terms = MakeEntries(4, 6, 3);
  terms[1].term = 2;
  check(terms, Code::kInvalidArgument, "decreasing terms");
  std::vector<LogEntry> type = MakeEntries(4, 5, 1);
  type[0].type = 3;
  check(type, Code::kInvalidArgument, "unknown type");
  check(MakeEntries(0, 2, 1), Code::kInvalidArgument, "index 0");
}

TYPED_TEST(LogStoreTest, EntriesStopAtMaxBytesButReturnAtLeastOne) {
  this->Append(1, 11, 1);
  const std::uint64_t size = this->Raw(1).size();  // every entry has the same size
  auto one = this->log_->Entries(1, 11, 0);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);
  auto three = this->log_->Entries(2, 11, 3 * size);
  ASSERT_TRUE(three.ok());
  ASSERT_EQ(three->size(), 3u);
  EXPECT_EQ((*three)[0].index, 2u);
  auto almost_four = this->log_->Entries(2, 11, 4 * size - 1);
  ASSERT_TRUE(almost_four.ok());
  EXPECT_EQ(almost_four->size(), 3u);
  auto bounded_by_hi = this->log_->Entries(4, 6, UINT64_MAX);
  ASSERT_TRUE(bounded_by_hi.ok());
  EXPECT_EQ(bounded_by_hi->size(), 2u);
  auto none = this->log_->Entries(4, 4, UINT64_MAX);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TYPED_TEST(LogStoreTest, EntriesOutsideTheLogAreCompactedOrUnavailable) {
  this->Append(1, 6, 1);
  EXPECT_TRUE(LogStore::IsCompacted(this->log_->Entries(0, 3, UINT64_MAX).status()));
  EXPECT_TRUE(LogStore::IsUnavailable(this->log_->Entries(2, 7, UINT64_MAX).status()));
  EXPECT_EQ(this->log_->Entries(4, 3, UINT64_MAX).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(LogStore::IsUnavailable(this->log_->Term(6).status()));
}

TYPED_TEST(LogStoreTest, CompactToKeepsTheTermAndChainOfTheCompactionPoint) {
  std::vector<LogEntry> entries = this->Append(1, 11, 1);
  this->Append(11, 13, 2);
  WriteBatch b;
  ASSERT_TRUE(this->log_->CompactTo(&b, 5).ok());
  this->Write(b);
  auto check = [&] {
    EXPECT_EQ(this->log_->FirstIndex(), 6u);
    EXPECT_EQ(this->log_->LastIndex(), 12u);
    EXPECT_EQ(*this->log_->Term(5), 1u);
    EXPECT_EQ(*this->log_->Term(12), 2u);
    EXPECT_TRUE(LogStore::IsCompacted(this->log_->Term(4).status()));
    EXPECT_TRUE(LogStore::IsCompacted(this->log_->Entries(5, 8, UINT64_MAX).status()));
    EXPECT_EQ(this->log_->Truncated().chain_hash, entries[4].chain_hash);
    EXPECT_EQ(this->All().size(), 7u);
    EXPECT_TRUE(this->log_->VerifyChain().ok());
  };
  check();
  std::string v;
  EXPECT_EQ(this->engine_.store()->Get(Cf::kRaftLog, EncodeLogKey(5), &v).code(), Code::kNotFound);
  this->Reopen();
  check();
  // The chain continues across the compaction point and a restart.
  std::vector<LogEntry> more = this->Append(13, 15, 2);
  EXPECT_TRUE(this->log_->VerifyChain().ok());
  this->Reopen();
  EXPECT_EQ(this->log_->LastChainHash(), more.back().chain_hash);
}

// Interleaved appends, conflicting-suffix truncations and compactions, all in
// one memtable, read back exactly what a plain model of the log holds. (With
// RocksDB 7.8's memtable_insert_with_hint_prefix_extractor on the raft log CF
// and 8-byte DeleteRange begin keys, this failed an InlineSkipList assertion:
// docs/STORAGE.md, "Memtable insert hints".)
TYPED_TEST(LogStoreTest, InterleavedAppendsTruncationsAndCompactionsReadBackInOrder) {
  std::vector<LogEntry> model;  // entries FirstIndex()..LastIndex()
  auto append = [&](std::uint64_t lo, std::uint64_t hi, std::uint64_t term) {
    std::vector<LogEntry> added = this->Append(lo, hi, term);
    while (!model.empty() && model.back().index >= lo) model.pop_back();
    model.insert(model.end(), added.begin(), added.end());
  };
  auto compact = [&](std::uint64_t to) {
    WriteBatch b;
    ASSERT_TRUE(this->log_->CompactTo(&b, to).ok());
    this->Write(b);
    while (!model.empty() && model.front().index <= to) model.erase(model.begin());
  };
  std::uint64_t term = 1;
  append(1, 41, term);
  for (std::uint64_t round = 0; round < 20; ++round) {
    const std::uint64_t last = this->log_->LastIndex();
    compact(last - 30);  // a DeleteRange below the appends
    append(last + 1, last + 21, term);
    append(last + 11, last + 16, ++term);  // truncates last+16..last+20
    append(last + 16, last + 41, term);
    ASSERT_EQ(this->log_->FirstIndex(), model.front().index);
    ASSERT_EQ(this->log_->LastIndex(), model.back().index);
    ASSERT_EQ(this->All(), model);
    for (const LogEntry& e : model) ASSERT_EQ(*this->log_->Term(e.index), e.term) << e.index;
  }
  EXPECT_TRUE(this->log_->VerifyChain().ok());
  // Raw: nothing below the compaction point or past the last index is visible.
  auto snap = this->engine_.store()->GetSnapshot();
  std::size_t rows = 0;
  auto it = snap->NewIterator(Cf::kRaftLog);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ASSERT_LT(rows, model.size());
    EXPECT_EQ(it->key(), EncodeLogKey(model[rows].index));
    ++rows;
  }
  EXPECT_EQ(rows, model.size());
  this->Reopen();
  EXPECT_EQ(this->All(), model);
}

TYPED_TEST(LogStoreTest, CompactToRejectsCompactedAndFutureIndexes) {
  this->Append(1, 6, 1);
  WriteBatch b;
  ASSERT_TRUE(this->log_->CompactTo(&b, 3).ok());
  this->Write(b);
  WriteBatch again;
  EXPECT_TRUE(LogStore::IsCompacted(this->log_->CompactTo(&again, 3)));
  EXPECT_TRUE(LogStore::IsUnavailable(this->log_->CompactTo(&again, 6)));
  EXPECT_TRUE(again.empty());
  // Compacting everything leaves an empty log that still knows its last term.
  ASSERT_TRUE(this->log_->CompactTo(&again, 5).ok());
  this->Write(again);
  this->Reopen();
  EXPECT_EQ(this->log_->FirstIndex(), 6u);
  EXPECT_EQ(this->log_->LastIndex(), 5u);
  EXPECT_EQ(*this->log_->Term(5), 1u);
  EXPECT_EQ(this->log_->LastTerm(), 1u);
}

TYPED_TEST(LogStoreTest, HardStateAndConfStateRoundTrip) {
  WriteBatch b;
  this->log_->SetHardState(&b, HardState{7, 3, 42});
  this->log_->SetConfState(&b, std::string("voters\x00\x01\x02", 9));
  this->Write(b);
  auto check = [&] {
    auto state = this->log_->InitialState();
    ASSERT_TRUE(state.ok()) << state.status().ToString();
    EXPECT_EQ(state->hard_state, (HardState{7, 3, 42}));
    EXPECT_EQ(state->conf_state, std::string("voters\x00\x01\x02", 9));
  };
  check();
  this->Reopen();
  check();
}

TYPED_TEST(LogStoreTest, ApplySnapshotReplacesTheLog) {
  this->Append(1, 6, 1);
  SnapshotMeta meta{20, 4, "conf", ComputeChainHash(kZeroChainHash, 4, 20, 0, "x")};
  WriteBatch b;
  ASSERT_TRUE(this->log_->ApplySnapshotToBatch(&b, meta).ok());
  this->Write(b);
  auto check = [&] {
    EXPECT_EQ(this->log_->FirstIndex(), 21u);
    EXPECT_EQ(this->log_->LastIndex(), 20u);
    EXPECT_EQ(*this->log_->Term(20), 4u);
    auto snap = this->log_->Snapshot();
    ASSERT_TRUE(snap.ok());
    ASSERT_TRUE(snap->has_value());
    EXPECT_EQ(**snap, meta);
    EXPECT_EQ(this->log_->InitialState()->conf_state, "conf");
  };
  check();
  this->Reopen();
  check();
  std::vector<LogEntry> next = this->Append(21, 23, 4);
  EXPECT_EQ(next[0].chain_hash,
            ComputeChainHash(meta.chain_hash, 4, 21, next[0].type, next[0].data));
  EXPECT_TRUE(this->log_->VerifyChain().ok());
  WriteBatch stale;
  SnapshotMeta old{20, 4, "", {}};
  EXPECT_EQ(this->log_->ApplySnapshotToBatch(&stale, old).code(), Code::kFailedPrecondition);
}

TYPED_TEST(LogStoreTest, SnapshotMetaIsAbsentUntilSet) {
  auto none = this->log_->Snapshot();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  WriteBatch b;
  SnapshotMeta meta{9, 2, "cs", {}};
  this->log_->SetSnapshotMeta(&b, meta);
  this->Write(b);
  EXPECT_EQ(**this->log_->Snapshot(), meta);
}

TYPED_TEST(LogStoreTest, VerifyChainNamesTheFirstTamperedEntry) {
  this->Append(1, 8, 1);
  std::string raw = this->Raw(4);
  raw.back() ^= 0x01;  // flip a bit of entry 4's data
  this->Tamper(4, raw);
  Status s = this->log_->VerifyChain();
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("chain hash mismatch at index 4"));
  auto reopened = LogStore::Open(this->engine_.store());
  ASSERT_FALSE(reopened.ok());
  EXPECT_THAT(reopened.status().message(), HasSubstr("chain hash mismatch at index 4"));
}

TYPED_TEST(LogStoreTest, VerifyChainDetectsARewrittenTerm) {
  this->Append(1, 5, 1);
  auto entry = DecodeLogEntry(2, this->Raw(2));
  ASSERT_TRUE(entry.ok());
  entry->term = 9;  // keep the stored hash: it no longer matches
  this->Tamper(2, EncodeLogEntry(*entry));
  EXPECT_THAT(this->log_->VerifyChain().message(), HasSubstr("chain hash mismatch at index 2"));
}

TYPED_TEST(LogStoreTest, GarbageEntryBytesAreCorruptionNamingTheIndex) {
  this->Append(1, 5, 1);
  this->Tamper(3, std::string("\x01\x02", 2));
  auto entries = this->log_->Entries(1, 5, UINT64_MAX);
  EXPECT_EQ(entries.status().code(), Code::kCorruption);
  EXPECT_THAT(entries.status().message(), HasSubstr("entry 3"));
  EXPECT_EQ(this->log_->Term(3).status().code(), Code::kCorruption);
  auto reopened = LogStore::Open(this->engine_.store());
  EXPECT_EQ(reopened.status().code(), Code::kCorruption);
}

TYPED_TEST(LogStoreTest, AMissingEntryIsCorruption) {
  this->Append(1, 6, 1);
  WriteBatch b;
  b.Delete(Cf::kRaftLog, EncodeLogKey(3));
  this->Write(b);
  EXPECT_EQ(this->log_->Entries(1, 6, UINT64_MAX).status().code(), Code::kCorruption);
  Status s = this->log_->VerifyChain();
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_THAT(s.message(), HasSubstr("entry 3 is missing"));
}

TYPED_TEST(LogStoreTest, SyncedAppendSurvivesACrash) {
  std::vector<LogEntry> synced = this->Append(1, 4, 1, true);
  this->Append(4, 6, 1, false);
  this->engine_.Crash();
  this->Reopen();
  EXPECT_GE(this->log_->LastIndex(), 3u);
  if (TypeParam::kCrashDropsUnsynced) {
    EXPECT_EQ(this->log_->LastIndex(), 3u);
    EXPECT_EQ(this->log_->LastChainHash(), synced.back().chain_hash);
  }
  EXPECT_TRUE(this->log_->VerifyChain().ok());
}

TEST(LogStoreReload, RestoresTheCacheAfterAFailedWrite) {
  MemStore store;
  auto log = LogStore::Open(&store);
  ASSERT_TRUE(log.ok());
  std::vector<LogEntry> first = MakeEntries(1, 4, 1);
  WriteBatch ok_batch;
  ASSERT_TRUE((*log)->AppendToBatch(&ok_batch, first).ok());
  ASSERT_TRUE(store.Write(ok_batch, true).ok());
  std::vector<LogEntry> lost = MakeEntries(4, 9, 1);
  WriteBatch failing;
  ASSERT_TRUE((*log)->AppendToBatch(&failing, lost).ok());
  EXPECT_EQ((*log)->LastIndex(), 8u);  // advanced when the batch was built
  store.FailNextWrites(1, Status::IOError("injected"));
  ASSERT_FALSE(store.Write(failing, true).ok());
  ASSERT_TRUE((*log)->Reload().ok());
  EXPECT_EQ((*log)->LastIndex(), 3u);
  EXPECT_EQ((*log)->LastChainHash(), first.back().chain_hash);
  std::vector<LogEntry> retry = MakeEntries(4, 6, 2);
  WriteBatch again;
  ASSERT_TRUE((*log)->AppendToBatch(&again, retry).ok());
  ASSERT_TRUE(store.Write(again, true).ok());
  EXPECT_TRUE((*log)->VerifyChain().ok());
}

}  // namespace
}  // namespace aspen::storage
