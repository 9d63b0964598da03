#include "raft/harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <utility>

namespace aspen::raft::testing {

std::string DescribeMessage(const pb::Message& m) {
  std::ostringstream os;
  os << m.from() << "->" << m.to() << " " << MessageTypeName(m.type()) << " term=" << m.term()
     << " log_term=" << m.log_term() << " index=" << m.index() << " commit=" << m.commit()
     << " entries=" << m.entries_size() << (m.reject() ? " reject" : "");
  return os.str();
}

Cluster::Cluster(const ClusterOptions& opts) : opts_(opts) {
  pb::ConfState cs;
  const std::size_t total = opts.voters + opts.learners;
  for (NodeId id = 1; id <= total; ++id) {
    if (id <= opts.voters) {
      cs.add_voters(id);
    } else {
      cs.add_learners(id);
    }
  }
  // Bootstrap: every initial member starts from the same snapshot at index 1
  // holding the initial configuration, so a node added later learns the
  // configuration from a snapshot rather than from a log that lacks it.
  pb::Snapshot boot;
  boot.mutable_metadata()->set_index(1);
  boot.mutable_metadata()->set_term(1);
  *boot.mutable_metadata()->mutable_conf_state() = cs;
  for (NodeId id = 1; id <= total; ++id) {
    TestNode& n = nodes_[id];
    n.id = id;
    n.storage = std::make_unique<MemoryStorage>();
    const Error e = n.storage->ApplySnapshot(boot);
    EXPECT_TRUE(e.ok()) << e.ToString();
    pb::HardState hs;
    hs.set_term(1);
    hs.set_commit(1);
    n.storage->SetHardState(hs);
    n.conf_state = cs;
    n.applied_index = 1;
    n.raw = NewRawNode(n, 1);
  }
}

std::unique_ptr<RawNode> Cluster::NewRawNode(TestNode& n, std::uint64_t applied) {
  Config c;
  c.id = n.id;
  c.storage = n.storage.get();
  c.applied = applied;
  c.election_tick = opts_.election_tick;
  c.heartbeat_tick = opts_.heartbeat_tick;
  c.pre_vote = opts_.pre_vote;
  c.check_quorum = opts_.check_quorum;
  c.read_only_option = opts_.read_only;
  c.max_size_per_msg = opts_.max_size_per_msg;
  c.max_inflight_msgs = opts_.max_inflight_msgs;
  c.max_uncommitted_entries_size = opts_.max_uncommitted_entries_size;
  c.rand_seed = opts_.seed;
  Result<std::unique_ptr<RawNode>> r = RawNode::Create(c);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
  return std::move(r).value();
}

RawNode& Cluster::raw(NodeId id) {
  return *node(id).raw;
}

TestNode& Cluster::node(NodeId id) {
  auto it = nodes_.find(id);
  EXPECT_NE(it, nodes_.end()) << "no node " << id;
  return it->second;
}

std::vector<NodeId> Cluster::ids() const {
  std::vector<NodeId> out;
  for (const auto& [id, n] : nodes_) out.push_back(id);
  return out;
}

Cluster& Cluster::AddNode(NodeId id) {
  TestNode& n = nodes_[id];
  n.id = id;
  n.storage = std::make_unique<MemoryStorage>();
  n.raw = NewRawNode(n, 0);
  return *this;
}

Cluster& Cluster::Restart(NodeId id) {
  TestNode& n = node(id);
  std::erase_if(queue_, [id](const pb::Message& m) { return m.from() == id; });
  n.storage->SetConfState(n.conf_state);
  n.raw = NewRawNode(n, n.applied_index);
  return *this;
}

NodeId Cluster::Leader() {
  NodeId best = kNone;
  std::uint64_t best_term = 0;
  for (auto& [id, n] : nodes_) {
    const Raft& r = n.raw->raft();
    if (r.role() == Role::kLeader && r.term() >= best_term) {
      best = id;
      best_term = r.term();
    }
  }
  return best;
}

bool Cluster::LinkUp(NodeId from, NodeId to) const {
  return cut_.count({from, to}) == 0 && nodes_.count(to) != 0;
}

Cluster& Cluster::Isolate(NodeId id) {
  for (const auto& [other, n] : nodes_) {
    if (other == id) continue;
    cut_.insert({id, other});
    cut_.insert({other, id});
  }
  return *this;
}

Cluster& Cluster::Partition(const std::set<NodeId>& a, const std::set<NodeId>& b) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      cut_.insert({x, y});
      cut_.insert({y, x});
    }
  }
  return *this;
}

Cluster& Cluster::Cut(NodeId from, NodeId to) {
  cut_.insert({from, to});
  return *this;
}

Cluster& Cluster::Heal() {
  cut_.clear();
  return *this;
}

Cluster& Cluster::DropAll() {
  queue_.clear();
  return *this;
}

Cluster& Cluster::DropType(pb::MessageType t) {
  std::erase_if(queue_, [t](const pb::Message& m) { return m.type() == t; });
  return *this;
}

void Cluster::ApplyCommitted(TestNode& n, const EntryVec& ents) {
  for (const pb::Entry& e : ents) {
    EXPECT_EQ(e.index(), n.applied_index + 1) << "node " << n.id << " applies out of order";
    n.applied_index = e.index();
    if (e.type() == pb::ENTRY_CONF_CHANGE) {
      pb::ConfChange cc;
      EXPECT_TRUE(cc.ParseFromString(e.data()));
      Result<pb::ConfState> cs = n.raw->ApplyConfChange(cc);
      if (cs.ok()) n.conf_state = *cs;
    }
    Applied a{e.term(), e.type() == pb::ENTRY_CONF_CHANGE ? "conf:" + e.data() : e.data()};
    n.applied[e.index()] = a;
    auto [it, inserted] = applied_by_index_.emplace(e.index(), a);
    EXPECT_TRUE(inserted || it->second == a) << "state machine safety: node " << n.id
                                             << " applied a different entry at index " << e.index();
  }
}

bool Cluster::HandleReady(NodeId id) {
  TestNode& n = node(id);
  if (!n.raw->HasReady()) return false;
  Ready rd = n.raw->GetReady();
  if (rd.messages_may_precede_persist) n.may_send_before_persist_seen = true;
  if (rd.soft_state) {
    n.soft_states.push_back(*rd.soft_state);
    if (rd.soft_state->role == Role::kLeader) {
      // Leader completeness: everything applied anywhere so far was committed
      // in an earlier term, so the new leader's log must hold it.
      const RaftLog& log = n.raw->raft().log();
      for (const auto& [index, a] : applied_by_index_) {
        if (index < log.FirstIndex()) continue;
        EXPECT_EQ(log.TermOrZero(index), a.term)
            << "leader completeness: new leader " << id << " lacks committed entry " << index;
      }
    }
  }
  if (rd.snapshot) {
    const Error e = n.storage->ApplySnapshot(*rd.snapshot);
    EXPECT_TRUE(e.ok()) << e.ToString();
    n.applied_index = rd.snapshot->metadata().index();
    n.conf_state = rd.snapshot->metadata().conf_state();
  }
  const Error e = n.storage->Append(rd.entries);
  EXPECT_TRUE(e.ok()) << e.ToString();
  if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
  for (pb::Message& m : rd.messages) queue_.push_back(std::move(m));
  ApplyCommitted(n, rd.committed_entries);
  for (const ReadState& rs : rd.read_states) n.read_states.push_back(rs);
  n.raw->Advance();
  return true;
}

bool Cluster::SendThenCrashBeforePersist(NodeId id) {
  TestNode& n = node(id);
  if (!n.raw->HasReady()) return false;
  Ready rd = n.raw->GetReady();
  if (!rd.messages_may_precede_persist || rd.entries.empty()) {
    // Not allowed to send early: handle it properly instead.
    if (rd.snapshot) {
      const Error e = n.storage->ApplySnapshot(*rd.snapshot);
      EXPECT_TRUE(e.ok()) << e.ToString();
      n.applied_index = rd.snapshot->metadata().index();
      n.conf_state = rd.snapshot->metadata().conf_state();
    }
    const Error e = n.storage->Append(rd.entries);
    EXPECT_TRUE(e.ok()) << e.ToString();
    if (rd.hard_state) n.storage->SetHardState(*rd.hard_state);
    for (pb::Message& m : rd.messages) queue_.push_back(std::move(m));
    ApplyCommitted(n, rd.committed_entries);
    for (const ReadState& rs : rd.read_states) n.read_states.push_back(rs);
    n.raw->Advance();
    return false;
  }
  for (pb::Message& m : rd.messages) queue_.push_back(std::move(m));
  // Crash: the entries, hard state and applies of this Ready are lost.
  n.storage->SetConfState(n.conf_state);
  n.raw = NewRawNode(n, n.applied_index);
  return true;
}

void Cluster::Deliver(const pb::Message& m) {
  if (!LinkUp(m.from(), m.to())) return;
  // Errors (e.g. a response from a removed node) are the receiver's business.
  const Error e = raw(m.to()).Step(m);
  (void)e;
  HandleReady(m.to());
}

void Cluster::DuplicateAt(std::size_t k) {
  ASSERT_LT(k, queue_.size());
  queue_.push_back(queue_[k]);
}

void Cluster::DeliverAt(std::size_t k) {
  ASSERT_LT(k, queue_.size());
  const pb::Message m = queue_[k];
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(k));
  Deliver(m);
  CheckSafety();
}

Cluster& Cluster::Stabilize() {
  for (int round = 0; round < 100000; ++round) {
    bool progressed = false;
    for (NodeId id : ids()) {
      while (HandleReady(id)) progressed = true;
    }
    if (!queue_.empty()) {
      const pb::Message m = queue_.front();
      queue_.pop_front();
      Deliver(m);
      progressed = true;
    }
    CheckSafety();
    // After a safety failure, stop: later steps only repeat the report.
    if (!progressed || ::testing::Test::HasFailure()) return *this;
  }
  ADD_FAILURE() << "cluster did not stabilize";
  return *this;
}

Cluster& Cluster::Tick(NodeId id, int n) {
  for (int k = 0; k < n; ++k) {
    raw(id).Tick();
    HandleReady(id);
  }
  return *this;
}

Cluster& Cluster::TickAll(int n) {
  for (int k = 0; k < n; ++k) {
    for (NodeId id : ids()) Tick(id);
  }
  return *this;
}

Cluster& Cluster::Elect(NodeId id) {
  raw(id).Campaign();
  Stabilize();
  EXPECT_EQ(Leader(), id) << "node " << id << " did not win the election";
  return *this;
}

Error Cluster::TryPropose(NodeId id, const std::string& data) {
  Error e = raw(id).Propose(data);
  HandleReady(id);
  return e;
}

Cluster& Cluster::Propose(NodeId id, const std::string& data) {
  const Error e = TryPropose(id, data);
  EXPECT_TRUE(e.ok()) << e.ToString();
  return *this;
}

Cluster& Cluster::ProposeConfChange(NodeId id, pb::ConfChangeType type, NodeId target) {
  pb::ConfChange cc;
  cc.set_type(type);
  cc.set_node_id(target);
  const Error e = raw(id).ProposeConfChange(cc);
  EXPECT_TRUE(e.ok()) << e.ToString();
  HandleReady(id);
  return *this;
}

Cluster& Cluster::Compact(NodeId id) {
  TestNode& n = node(id);
  Result<pb::Snapshot> s = n.storage->CreateSnapshot(n.applied_index, n.conf_state, "snap");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().ToString());
  const Error e = n.storage->Compact(n.applied_index);
  EXPECT_TRUE(e.ok()) << e.ToString();
  return *this;
}

void Cluster::CheckSafety() {
  // Election safety: at most one leader per term.
  for (auto& [id, n] : nodes_) {
    const Raft& r = n.raw->raft();
    if (r.role() != Role::kLeader) continue;
    auto [it, inserted] = leader_of_term_.emplace(r.term(), id);
    EXPECT_TRUE(inserted || it->second == id)
        << "election safety: nodes " << it->second << " and " << id << " lead term " << r.term();
  }
  // Log matching: if two logs hold an entry with the same index and term,
  // they are identical up to it. Terms are compared at every index; payloads
  // at the matching point (applied payloads are compared by ApplyCommitted).
  std::vector<const RaftLog*> logs;
  for (auto& [id, n] : nodes_) logs.push_back(&n.raw->raft().log());
  for (std::size_t a = 0; a < logs.size(); ++a) {
    for (std::size_t b = a + 1; b < logs.size(); ++b) {
      const std::uint64_t lo = std::max(logs[a]->FirstIndex(), logs[b]->FirstIndex());
      std::uint64_t hi = std::min(logs[a]->LastIndex(), logs[b]->LastIndex());
      while (hi >= lo && hi > 0 && logs[a]->TermOrZero(hi) != logs[b]->TermOrZero(hi)) --hi;
      if (hi < lo || hi == 0) continue;
      for (std::uint64_t i = lo; i < hi; ++i) {
        ASSERT_EQ(logs[a]->TermOrZero(i), logs[b]->TermOrZero(i))
            << "log matching broken at index " << i << " (logs agree at " << hi << ")";
      }
      Result<EntryVec> ea = logs[a]->Slice(hi, hi + 1, UINT64_MAX);
      Result<EntryVec> eb = logs[b]->Slice(hi, hi + 1, UINT64_MAX);
      ASSERT_TRUE(ea.ok() && eb.ok());
      EXPECT_EQ((*ea)[0].data(), (*eb)[0].data()) << "same index and term, other payload";
    }
  }
}

bool Cluster::Converged() {
  for (auto& [id, n] : nodes_) {
    for (auto& [other_id, other] : nodes_) {
      for (const auto& [index, a] : n.applied) {
        auto it = other.applied.find(index);
        if (it != other.applied.end() && !(it->second == a)) return false;
      }
      if (n.applied_index != other.applied_index) return false;
    }
  }
  return true;
}

}  // namespace aspen::raft::testing
