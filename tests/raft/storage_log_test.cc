// MemoryStorage's contract, the unstable tail and RaftLog's rules.
#include <gtest/gtest.h>

#include "raft/log.h"
#include "raft/memory_storage.h"
#include "raft/test_util.h"
#include "raft/unstable.h"

namespace aspen::raft {
namespace {

using testing::Ent;

MemoryStorage StorageWith(std::uint64_t snap_index, std::uint64_t snap_term, const EntryVec& ents) {
  MemoryStorage s;
  if (snap_index > 0) {
    pb::Snapshot snap;
    snap.mutable_metadata()->set_index(snap_index);
    snap.mutable_metadata()->set_term(snap_term);
    EXPECT_TRUE(s.ApplySnapshot(snap).ok());
  }
  EXPECT_TRUE(s.Append(ents).ok());
  return s;
}

TEST(MemoryStorage, TermAnswersCompactedBelowSnapshotAndUnavailablePastLast) {
  MemoryStorage s = StorageWith(3, 3, {Ent(4, 4), Ent(5, 5)});
  EXPECT_EQ(s.Term(2).code(), ErrorCode::kCompacted);
  EXPECT_EQ(*s.Term(3), 3u);
  EXPECT_EQ(*s.Term(5), 5u);
  EXPECT_EQ(s.Term(6).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(*s.FirstIndex(), 4u);
  EXPECT_EQ(*s.LastIndex(), 5u);
}

TEST(MemoryStorage, EntriesRespectsBoundsAndByteLimitButReturnsAtLeastOne) {
  MemoryStorage s = StorageWith(3, 3, {Ent(4, 4, "aaaa"), Ent(5, 5, "bbbb"), Ent(6, 6, "cccc")});
  EXPECT_EQ(s.Entries(3, 5, UINT64_MAX).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.Entries(4, 8, UINT64_MAX).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(s.Entries(4, 7, UINT64_MAX)->size(), 3u);
  EXPECT_EQ(s.Entries(4, 7, 0)->size(), 1u);
  const std::uint64_t two = EntrySize(Ent(4, 4, "aaaa")) + EntrySize(Ent(5, 5, "bbbb"));
  EXPECT_EQ(s.Entries(4, 7, two)->size(), 2u);
}

TEST(MemoryStorage, AppendTruncatesConflictingTailAndRefusesGaps) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 1), Ent(3, 1)});
  ASSERT_TRUE(s.Append({Ent(2, 2)}).ok());
  EXPECT_EQ(*s.LastIndex(), 2u);
  EXPECT_EQ(*s.Term(2), 2u);
  EXPECT_EQ(s.Append({Ent(5, 2)}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.Append({Ent(3, 2), Ent(5, 2)}).code(), ErrorCode::kInvalidArgument);
}

TEST(MemoryStorage, CompactKeepsTermOfCompactIndexAndRefusesTwice) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 2), Ent(3, 3)});
  ASSERT_TRUE(s.Compact(2).ok());
  EXPECT_EQ(*s.FirstIndex(), 3u);
  EXPECT_EQ(*s.Term(2), 2u);
  EXPECT_EQ(s.Compact(2).code(), ErrorCode::kCompacted);
  EXPECT_EQ(s.Compact(9).code(), ErrorCode::kUnavailable);
}

TEST(MemoryStorage, SnapshotsMustMoveForward) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 2), Ent(3, 3)});
  pb::ConfState cs;
  cs.add_voters(1);
  Result<pb::Snapshot> snap = s.CreateSnapshot(2, cs, "data");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().term(), 2u);
  EXPECT_EQ(s.CreateSnapshot(2, cs, "again").code(), ErrorCode::kSnapOutOfDate);
  EXPECT_EQ(s.ApplySnapshot(*snap).code(), ErrorCode::kSnapOutOfDate);
  EXPECT_EQ(s.InitialState()->conf_state.voters_size(), 1);
}

TEST(Unstable, TruncateAndAppendReplacesTheTailFromTheFirstNewIndex) {
  Unstable u(5);
  u.TruncateAndAppend({Ent(5, 1), Ent(6, 1), Ent(7, 1)});
  u.TruncateAndAppend({Ent(6, 2)});
  ASSERT_EQ(u.entries().size(), 2u);
  EXPECT_EQ(*u.MaybeTerm(6), 2u);
  u.TruncateAndAppend({Ent(4, 3)});  // before the offset: replaces everything
  EXPECT_EQ(u.offset(), 4u);
  EXPECT_EQ(*u.MaybeLastIndex(), 4u);
}

TEST(Unstable, StableToIgnoresEntriesReplacedSinceTheReady) {
  Unstable u(1);
  u.TruncateAndAppend({Ent(1, 1), Ent(2, 1)});
  u.StableTo(2, 7);  // term mismatch: the entry was replaced
  EXPECT_EQ(u.entries().size(), 2u);
  u.StableTo(1, 1);
  EXPECT_EQ(u.offset(), 2u);
  EXPECT_EQ(u.entries().size(), 1u);
}

TEST(RaftLog, FollowerRejectsAppendWhenPrevLogTermMismatches) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 2)});
  RaftLog log(&s, UINT64_MAX);
  Result<std::optional<std::uint64_t>> r = log.MaybeAppend(2, 3, 0, {Ent(3, 3)});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(log.LastIndex(), 2u);
}

TEST(RaftLog, FollowerDeletesConflictingEntriesAndAppendsNewOnes) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 2), Ent(3, 2)});
  RaftLog log(&s, UINT64_MAX);
  Result<std::optional<std::uint64_t>> r =
      log.MaybeAppend(1, 1, 2, {Ent(2, 2), Ent(3, 3), Ent(4, 3)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->value(), 4u);
  EXPECT_EQ(log.TermOrZero(3), 3u);
  EXPECT_EQ(log.committed(), 2u);
}

TEST(RaftLog, FollowerCommitIsMinOfLeaderCommitAndLastNewEntry) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 1), Ent(3, 1)});
  RaftLog log(&s, UINT64_MAX);
  ASSERT_TRUE(log.MaybeAppend(1, 1, 10, {Ent(2, 1)}).ok());
  EXPECT_EQ(log.committed(), 2u);  // not 3: index 3 was not in this message
}

TEST(RaftLog, AppendOverCommittedEntryIsRefusedAsInvalid) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 1)});
  RaftLog log(&s, UINT64_MAX);
  log.CommitTo(2);
  Result<std::optional<std::uint64_t>> r = log.MaybeAppend(1, 1, 2, {Ent(2, 5)});
  EXPECT_EQ(r.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log.TermOrZero(2), 1u);
}

TEST(RaftLog, NonContiguousAppendIsRefusedAsInvalid) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  EXPECT_EQ(log.MaybeAppend(0, 0, 0, {Ent(1, 1), Ent(3, 1)}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(log.MaybeAppend(0, 0, 0, {Ent(1, 2), Ent(2, 1)}).code(), ErrorCode::kInvalidArgument);
}

TEST(RaftLog, FindConflictByTermSkipsEntriesOfLaterTerms) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 1), Ent(3, 4), Ent(4, 4), Ent(5, 5)});
  RaftLog log(&s, UINT64_MAX);
  EXPECT_EQ(log.FindConflictByTerm(5, 3), (std::pair<std::uint64_t, std::uint64_t>{2, 1}));
  EXPECT_EQ(log.FindConflictByTerm(5, 4), (std::pair<std::uint64_t, std::uint64_t>{4, 4}));
  EXPECT_EQ(log.FindConflictByTerm(5, 0), (std::pair<std::uint64_t, std::uint64_t>{0, 0}));
}

TEST(RaftLog, IsUpToDateComparesLastTermThenLength) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 2)});
  RaftLog log(&s, UINT64_MAX);
  EXPECT_TRUE(log.IsUpToDate(1, 3));
  EXPECT_TRUE(log.IsUpToDate(2, 2));
  EXPECT_FALSE(log.IsUpToDate(1, 2));
  EXPECT_FALSE(log.IsUpToDate(5, 1));
}

TEST(RaftLog, MaybeCommitOnlyCommitsEntriesOfTheGivenTerm) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1), Ent(2, 2)});
  RaftLog log(&s, UINT64_MAX);
  EXPECT_FALSE(log.MaybeCommit(1, 2));
  EXPECT_TRUE(log.MaybeCommit(2, 2));
  EXPECT_EQ(log.committed(), 2u);
}

TEST(RaftLog, SliceSpansStorageAndUnstableAndReportsCompaction) {
  MemoryStorage s = StorageWith(2, 1, {Ent(3, 1), Ent(4, 1)});
  RaftLog log(&s, UINT64_MAX);
  log.Append({Ent(5, 2), Ent(6, 2)});
  Result<EntryVec> all = log.Slice(3, 7, UINT64_MAX);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[3].index(), 6u);
  EXPECT_EQ(log.Slice(2, 4, UINT64_MAX).code(), ErrorCode::kCompacted);
  EXPECT_EQ(log.Term(1).code(), ErrorCode::kCompacted);
  EXPECT_EQ(*log.Term(2), 1u);
}

TEST(RaftLog, NextCommittedEntriesAreBoundedByBytesAndAdvanceWithApplied) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1, "x"), Ent(2, 1, "y"), Ent(3, 1, "z")});
  RaftLog log(&s, 1);  // one entry per batch
  log.CommitTo(3);
  EXPECT_EQ(log.NextCommittedEntries().size(), 1u);
  log.AppliedTo(1);
  EXPECT_EQ(log.NextCommittedEntries().front().index(), 2u);
  log.AppliedTo(3);
  EXPECT_FALSE(log.HasNextCommittedEntries());
}

TEST(RaftLog, RestoreFromSnapshotMovesFirstIndexAndCommit) {
  MemoryStorage s = StorageWith(0, 0, {Ent(1, 1)});
  RaftLog log(&s, UINT64_MAX);
  pb::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(3);
  log.Restore(snap);
  EXPECT_EQ(log.FirstIndex(), 11u);
  EXPECT_EQ(log.LastIndex(), 10u);
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_EQ(log.LastTerm(), 3u);
  EXPECT_EQ(log.PersistedIndex(), 0u);
}

}  // namespace
}  // namespace aspen::raft
