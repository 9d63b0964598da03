// RaftStorage: raft::Storage's contract over LogStore on both engines, the
// type conversions, and a RawNode driven through the adapter across a reopen.
#include "node/raft_storage.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "raft/raw_node.h"
#include "storage/test_util.h"

namespace aspen::node {
namespace {

rpb::Entry Ent(std::uint64_t index, std::uint64_t term, std::string data = "",
               rpb::EntryType type = rpb::ENTRY_NORMAL) {
  rpb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_type(type);
  e.set_data(std::move(data));
  return e;
}

rpb::ConfState Voters(std::initializer_list<std::uint64_t> ids) {
  rpb::ConfState cs;
  for (std::uint64_t id : ids) cs.add_voters(id);
  return cs;
}

template <typename Engine>
class RaftStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // A new LogStore and adapter over the same store (what a restart sees).
  void Reopen() {
    adapter_.reset();
    auto opened = storage::LogStore::Open(engine_.store());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    log_ = std::move(opened).value();
    adapter_ = std::make_unique<RaftStorage>(log_.get());
  }

  void Persist(const raft::Ready& rd) {
    storage::WriteBatch batch;
    ASSERT_TRUE(adapter_->PersistReady(rd, &batch).ok());
    ASSERT_TRUE(engine_.store()->Write(batch, rd.must_sync).ok());
  }

  void Append(raft::EntryVec ents, std::uint64_t term, std::uint64_t commit) {
    raft::Ready rd;
    rd.entries = std::move(ents);
    rpb::HardState hs;
    hs.set_term(term);
    hs.set_vote(1);
    hs.set_commit(commit);
    rd.hard_state = hs;
    rd.must_sync = true;
    Persist(rd);
  }

  Engine engine_;
  std::unique_ptr<storage::LogStore> log_;
  std::unique_ptr<RaftStorage> adapter_;
};

TYPED_TEST_SUITE(RaftStorageTest, storage::testing::Engines, storage::testing::EngineNames);

TYPED_TEST(RaftStorageTest, FreshLogIsEmptyWithTermZeroBeforeFirstIndex) {
  auto st = this->adapter_->InitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->hard_state.term(), 0u);
  EXPECT_EQ(st->conf_state.voters_size(), 0);
  EXPECT_EQ(*this->adapter_->FirstIndex(), 1u);
  EXPECT_EQ(*this->adapter_->LastIndex(), 0u);
  EXPECT_EQ(*this->adapter_->Term(0), 0u);
  EXPECT_EQ(this->adapter_->Term(1).code(), raft::ErrorCode::kUnavailable);
}

TYPED_TEST(RaftStorageTest, PersistedEntriesAndHardStateReadBackAfterReopen) {
  this->Append({Ent(1, 1, "a"), Ent(2, 1, "b"), Ent(3, 2, "c", rpb::ENTRY_CONF_CHANGE)}, 2, 2);
  this->Reopen();
  EXPECT_EQ(*this->adapter_->LastIndex(), 3u);
  EXPECT_EQ(*this->adapter_->Term(3), 2u);
  auto ents = this->adapter_->Entries(1, 4, UINT64_MAX);
  ASSERT_TRUE(ents.ok());
  ASSERT_EQ(ents->size(), 3u);
  EXPECT_EQ((*ents)[1].data(), "b");
  EXPECT_EQ((*ents)[2].type(), rpb::ENTRY_CONF_CHANGE);
  auto st = this->adapter_->InitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->hard_state.term(), 2u);
  EXPECT_EQ(st->hard_state.vote(), 1u);
  EXPECT_EQ(st->hard_state.commit(), 2u);
}

TYPED_TEST(RaftStorageTest, ConflictingSuffixIsReplaced) {
  this->Append({Ent(1, 1, "a"), Ent(2, 1, "b"), Ent(3, 1, "c")}, 1, 1);
  this->Append({Ent(2, 2, "B")}, 2, 1);
  EXPECT_EQ(*this->adapter_->LastIndex(), 2u);
  EXPECT_EQ(*this->adapter_->Term(2), 2u);
  EXPECT_EQ((*this->adapter_->Entries(2, 3, UINT64_MAX))[0].data(), "B");
  EXPECT_EQ(this->adapter_->Entries(2, 4, UINT64_MAX).code(), raft::ErrorCode::kUnavailable);
}

TYPED_TEST(RaftStorageTest, EntriesHonourByteLimitButReturnAtLeastOne) {
  this->Append({Ent(1, 1, std::string(100, 'a')), Ent(2, 1, std::string(100, 'b')),
                Ent(3, 1, std::string(100, 'c'))},
               1, 0);
  EXPECT_EQ(this->adapter_->Entries(1, 4, 0)->size(), 1u);
  const std::uint64_t two = raft::EntrySize(Ent(1, 1, std::string(100, 'a'))) * 2;
  auto ents = this->adapter_->Entries(1, 4, two);
  ASSERT_TRUE(ents.ok());
  EXPECT_GE(ents->size(), 1u);
  EXPECT_LE(ents->size(), 2u);
}

TYPED_TEST(RaftStorageTest, CompactedIndexesAnswerCompacted) {
  this->Append({Ent(1, 1), Ent(2, 1), Ent(3, 2)}, 2, 3);
  storage::WriteBatch batch;
  ASSERT_TRUE(this->log_->CompactTo(&batch, 2).ok());
  ASSERT_TRUE(this->engine_.store()->Write(batch, true).ok());
  EXPECT_EQ(*this->adapter_->FirstIndex(), 3u);
  EXPECT_EQ(*this->adapter_->Term(2), 1u);
  EXPECT_EQ(this->adapter_->Term(1).code(), raft::ErrorCode::kCompacted);
  EXPECT_EQ(this->adapter_->Entries(2, 4, UINT64_MAX).code(), raft::ErrorCode::kCompacted);
  auto snap = this->adapter_->Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().index(), 2u);
  EXPECT_EQ(snap->metadata().term(), 1u);
}

TYPED_TEST(RaftStorageTest, ConfStateRoundTripsThroughInitialStateAndSnapshot) {
  storage::WriteBatch batch;
  this->adapter_->SetConfState(&batch, Voters({1, 2, 3}));
  ASSERT_TRUE(this->engine_.store()->Write(batch, true).ok());
  this->Reopen();
  auto st = this->adapter_->InitialState();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->conf_state.voters_size(), 3);
  auto snap = this->adapter_->Snapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->metadata().conf_state().voters_size(), 3);
  EXPECT_EQ(snap->metadata().index(), 0u);
}

TYPED_TEST(RaftStorageTest, ReceivedSnapshotReplacesTheLog) {
  this->Append({Ent(1, 1), Ent(2, 1)}, 1, 2);
  raft::Ready rd;
  rpb::Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(3);
  *snap.mutable_metadata()->mutable_conf_state() = Voters({1, 2});
  rd.snapshot = snap;
  rd.must_sync = true;
  this->Persist(rd);
  this->Reopen();
  EXPECT_EQ(*this->adapter_->FirstIndex(), 11u);
  EXPECT_EQ(*this->adapter_->LastIndex(), 10u);
  EXPECT_EQ(*this->adapter_->Term(10), 3u);
  EXPECT_EQ(this->adapter_->Term(2).code(), raft::ErrorCode::kCompacted);
  auto got = this->adapter_->Snapshot();
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->metadata().index(), 10u);
  EXPECT_EQ(got->metadata().conf_state().voters_size(), 2);
  EXPECT_EQ(this->adapter_->InitialState()->conf_state.voters_size(), 2);
}

TYPED_TEST(RaftStorageTest, OutOfDateSnapshotIsRefusedWithoutTouchingTheLog) {
  this->Append({Ent(1, 1), Ent(2, 1)}, 1, 2);
  storage::WriteBatch batch;
  ASSERT_TRUE(this->log_->CompactTo(&batch, 2).ok());
  ASSERT_TRUE(this->engine_.store()->Write(batch, true).ok());
  raft::Ready rd;
  rpb::Snapshot snap;
  snap.mutable_metadata()->set_index(1);
  snap.mutable_metadata()->set_term(1);
  rd.snapshot = snap;
  storage::WriteBatch out;
  EXPECT_EQ(this->adapter_->PersistReady(rd, &out).code(), Code::kFailedPrecondition);
  EXPECT_TRUE(out.empty());
}

// A single-voter RawNode over the adapter elects itself, commits a proposal,
// and a second RawNode over the reopened store sees the same log and term.
TYPED_TEST(RaftStorageTest, RawNodeRunsOverTheAdapterAndRestarts) {
  storage::WriteBatch batch;
  this->adapter_->SetConfState(&batch, Voters({1}));
  ASSERT_TRUE(this->engine_.store()->Write(batch, true).ok());
  this->Reopen();
  auto drive = [&](raft::RawNode* rn, std::uint64_t* committed_last) {
    while (rn->HasReady()) {
      raft::Ready rd = rn->GetReady();
      this->Persist(rd);
      for (const rpb::Entry& e : rd.committed_entries) *committed_last = e.index();
      rn->Advance();
    }
  };
  raft::Config cfg;
  cfg.id = 1;
  cfg.storage = this->adapter_.get();
  auto created = raft::RawNode::Create(cfg);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  std::unique_ptr<raft::RawNode> rn = std::move(created).value();
  rn->Campaign();
  std::uint64_t committed = 0;
  drive(rn.get(), &committed);
  ASSERT_EQ(rn->GetStatus().soft_state.role, raft::Role::kLeader);
  ASSERT_TRUE(rn->Propose("hello").ok());
  drive(rn.get(), &committed);
  const std::uint64_t last = *this->adapter_->LastIndex();
  EXPECT_EQ(committed, last);
  EXPECT_EQ((*this->adapter_->Entries(last, last + 1, UINT64_MAX))[0].data(), "hello");
  const std::uint64_t term = rn->GetStatus().hard_state.term();
  rn.reset();

  this->Reopen();
  cfg.storage = this->adapter_.get();
  cfg.applied = committed;
  auto again = raft::RawNode::Create(cfg);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ((*again)->GetStatus().hard_state.term(), term);
  EXPECT_EQ((*again)->GetStatus().hard_state.commit(), committed);
  EXPECT_EQ((*again)->GetStatus().last_index, last);
}

TEST(RaftStorageConversion, EntriesHardStateAndConfStateRoundTrip) {
  rpb::Entry e = Ent(7, 3, "payload", rpb::ENTRY_CONF_CHANGE);
  auto log_entry = ToLogEntry(e);
  ASSERT_TRUE(log_entry.ok());
  EXPECT_EQ(log_entry->type, storage::kEntryConfChange);
  auto back = ToRaftEntry(*log_entry);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->SerializeAsString(), e.SerializeAsString());

  rpb::HardState hs;
  hs.set_term(4);
  hs.set_vote(2);
  hs.set_commit(9);
  EXPECT_EQ(ToRaftHardState(ToStorageHardState(hs)).SerializeAsString(), hs.SerializeAsString());

  rpb::ConfState cs = Voters({1, 5});
  cs.add_learners(9);
  auto decoded = DecodeConfState(EncodeConfState(cs));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->SerializeAsString(), cs.SerializeAsString());
  EXPECT_EQ(DecodeConfState("")->voters_size(), 0);
}

TEST(RaftStorageConversion, UnrepresentableTypesAndGarbageAreErrorsNotCrashes) {
  storage::LogEntry v2;
  v2.index = 5;
  v2.type = storage::kEntryConfChangeV2;
  EXPECT_EQ(ToRaftEntry(v2).status().code(), Code::kInvalidArgument);
  rpb::Entry bad = Ent(1, 1);
  bad.set_type(static_cast<rpb::EntryType>(42));
  EXPECT_EQ(ToLogEntry(bad).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(DecodeConfState("\xff\xff\xff").status().code(), Code::kCorruption);
}

TEST(RaftStorageConversion, StorageErrorsMapToRaftCodes) {
  EXPECT_EQ(ToRaftError(Status::OutOfRange("compacted")).code(), raft::ErrorCode::kCompacted);
  EXPECT_EQ(ToRaftError(Status::Unavailable("past last")).code(), raft::ErrorCode::kUnavailable);
  raft::Error broken = ToRaftError(Status::Corruption("entry 3"));
  EXPECT_EQ(broken.code(), raft::ErrorCode::kInvalidArgument);
  EXPECT_NE(broken.message().find("entry 3"), std::string::npos);
}

}  // namespace
}  // namespace aspen::node
