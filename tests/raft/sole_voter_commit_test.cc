// Config::sole_voter_commits_in_ready: a leader that is the only voter hands
// out its own new entries as committed in the Ready that appends them, and
// only then; messages of such a Ready wait for the write.
#include <gtest/gtest.h>

#include "raft/test_util.h"

namespace aspen::raft {
namespace {

using testing::Solo;

Config CommitInReady() {
  Config c;
  c.sole_voter_commits_in_ready = true;
  return c;
}

std::vector<std::uint64_t> Indexes(const EntryVec& ents) {
  std::vector<std::uint64_t> out;
  for (const pb::Entry& e : ents) out.push_back(e.index());
  return out;
}

TEST(SoleVoterCommit, LeaderCommitsItsOwnEntriesInTheReadyThatAppendsThem) {
  Solo s(1, {1}, {}, CommitInReady());
  s.node->Campaign();
  s.Drain();
  ASSERT_EQ(s.raft().role(), Role::kLeader);
  ASSERT_TRUE(s.node->Propose("a").ok());
  ASSERT_TRUE(s.node->Propose("b").ok());
  Ready rd = s.node->GetReady();
  ASSERT_EQ(Indexes(rd.entries), (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(Indexes(rd.committed_entries), (std::vector<std::uint64_t>{2, 3}));
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->commit(), 3u);
  EXPECT_TRUE(rd.must_sync);
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  s.storage.SetHardState(*rd.hard_state);
  s.node->Advance();
  EXPECT_FALSE(s.node->HasReady()) << "no second Ready for the same batch";
  EXPECT_EQ(s.node->GetStatus().applied, 3u);
}

TEST(SoleVoterCommit, OffByDefaultTheCommitWaitsForAdvance) {
  Solo s(1, {1});
  s.node->Campaign();
  s.Drain();
  ASSERT_TRUE(s.node->Propose("a").ok());
  Ready rd = s.node->GetReady();
  ASSERT_EQ(Indexes(rd.entries), (std::vector<std::uint64_t>{2}));
  EXPECT_TRUE(rd.committed_entries.empty());
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  s.node->Advance();
  ASSERT_TRUE(s.node->HasReady());
  rd = s.node->GetReady();
  EXPECT_EQ(Indexes(rd.committed_entries), (std::vector<std::uint64_t>{2}));
  s.node->Advance();
}

TEST(SoleVoterCommit, LeaderWithAnotherVoterStillWaitsForAQuorum) {
  Solo s(1, {1, 2}, {}, CommitInReady());
  s.BecomeLeader();
  const std::uint64_t commit = s.raft().log().committed();
  ASSERT_TRUE(s.node->Propose("a").ok());
  Ready rd = s.node->GetReady();
  EXPECT_FALSE(rd.entries.empty());
  EXPECT_TRUE(rd.committed_entries.empty());
  EXPECT_TRUE(!rd.hard_state.has_value() || rd.hard_state->commit() == commit);
  EXPECT_TRUE(rd.messages_may_precede_persist);
  ASSERT_TRUE(s.storage.Append(rd.entries).ok());
  s.node->Advance();
  EXPECT_EQ(s.raft().log().committed(), commit) << "one of two voters is no quorum";
}

TEST(SoleVoterCommit, MessagesToALearnerWaitForTheWriteThatCarriesTheCommit) {
  Solo s(1, {1}, {2}, CommitInReady());
  s.node->Campaign();
  s.Drain();
  ASSERT_EQ(s.raft().role(), Role::kLeader);
  ASSERT_TRUE(s.node->Propose("a").ok());
  Ready rd = s.node->GetReady();
  EXPECT_EQ(Indexes(rd.committed_entries), Indexes(rd.entries));
  EXPECT_FALSE(rd.messages_may_precede_persist)
      << "a learner must not learn a commit index before the leader's write";
  s.node->Advance();
}

TEST(SoleVoterCommit, ReadIndexHeldForTheFirstCommitOfTheTermIsAnsweredInThatReady) {
  Solo s(1, {1}, {}, CommitInReady());
  s.node->Campaign();  // leader at once; its empty entry is not yet persisted
  ASSERT_EQ(s.raft().role(), Role::kLeader);
  ASSERT_TRUE(s.node->ReadIndex("r").ok());
  Ready rd = s.node->GetReady();
  ASSERT_EQ(rd.read_states.size(), 1u);
  EXPECT_EQ(rd.read_states[0].request_ctx, "r");
  EXPECT_EQ(rd.read_states[0].index, 1u);
  EXPECT_EQ(Indexes(rd.committed_entries), (std::vector<std::uint64_t>{1}));
  s.node->Advance();
}

}  // namespace
}  // namespace aspen::raft
