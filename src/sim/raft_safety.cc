#include "sim/raft_safety.h"

#include <string>

namespace aspen::sim {
void SafetyChecker::OnPersist(raft::NodeId node, const raft::Raft& raft,
                              const raft::EntryVec& entries) {
  const raft::RaftLog& log = raft.log();
  for (const raft::pb::Entry& e : entries) {
    const std::uint64_t prev = e.index() - 1;
    std::uint64_t prev_term = 0;
    bool prev_known = prev == 0;
    if (prev >= log.FirstIndex() - 1) {
      raft::Result<std::uint64_t> t = log.Term(prev);
      if (t.ok()) {
        prev_term = *t;
        prev_known = true;
      }
    }
    LoggedEntry le{static_cast<int>(e.type()), e.data(), prev_term};
    auto [it, fresh] = logged_.emplace(std::make_pair(e.index(), e.term()), le);
    if (fresh) {
      if (!prev_known) it->second.prev_term = UINT64_MAX;  // unknown: fill in later
      continue;
    }
    if (it->second.type != le.type || it->second.data != le.data) {
      Fail("log matching violated: node " + std::to_string(node) +
           " persisted a different entry at index " + std::to_string(e.index()) + " term " +
           std::to_string(e.term()) + " than another node");
    } else if (prev_known) {
      if (it->second.prev_term == UINT64_MAX) {
        it->second.prev_term = prev_term;
      } else if (it->second.prev_term != prev_term) {
        Fail("log matching violated: node " + std::to_string(node) + " holds entry " +
             std::to_string(e.index()) + " of term " + std::to_string(e.term()) +
             " after an entry of term " + std::to_string(prev_term) +
             ", another node after one of term " + std::to_string(it->second.prev_term));
      }
    }
  }
}

void SafetyChecker::OnApply(raft::NodeId node, const raft::pb::Entry& e) {
  auto [it, fresh] = applied_.emplace(e.index(), std::make_pair(e.term(), e.data()));
  if (!fresh && (it->second.first != e.term() || it->second.second != e.data())) {
    Fail("state machine safety violated: node " + std::to_string(node) + " applied entry (term " +
         std::to_string(e.term()) + ") at index " + std::to_string(e.index()) +
         ", another node applied term " + std::to_string(it->second.first) + " there");
  }
  auto c = committed_.find(e.index());
  if (c != committed_.end() && c->second != e.term()) {
    Fail("node " + std::to_string(node) + " applied index " + std::to_string(e.index()) +
         " of term " + std::to_string(e.term()) + " but term " + std::to_string(c->second) +
         " was committed there");
  }
}

void SafetyChecker::CheckLeader(raft::NodeId node, const raft::Raft& raft) {
  auto [it, fresh] = leader_of_term_.emplace(raft.term(), node);
  if (!fresh) {
    if (it->second != node) {
      Fail("election safety violated: nodes " + std::to_string(it->second) + " and " +
           std::to_string(node) + " both leader in term " + std::to_string(raft.term()));
    }
    return;
  }
  // A new leader: it must hold every entry committed so far.
  const raft::RaftLog& log = raft.log();
  for (const auto& [index, term] : committed_) {
    if (index < log.FirstIndex()) continue;
    if (log.TermOrZero(index) != term) {
      Fail("leader completeness violated: node " + std::to_string(node) + " leads term " +
           std::to_string(raft.term()) + " but its log has term " +
           std::to_string(log.TermOrZero(index)) + " at committed index " + std::to_string(index) +
           " (committed with term " + std::to_string(term) + ")");
      return;
    }
  }
}

void SafetyChecker::CheckCommitted(raft::NodeId node, const raft::Raft& raft) {
  const raft::RaftLog& log = raft.log();
  const std::uint64_t commit = log.committed();
  std::uint64_t& checked = commit_checked_[node];
  if (commit < checked) checked = commit;
  for (std::uint64_t i = std::max(checked + 1, log.FirstIndex()); i <= commit; ++i) {
    const std::uint64_t term = log.TermOrZero(i);
    auto [it, fresh] = committed_.emplace(i, term);
    if (!fresh && it->second != term) {
      Fail("commit agreement violated: node " + std::to_string(node) + " committed index " +
           std::to_string(i) + " with term " + std::to_string(term) + ", another node with term " +
           std::to_string(it->second));
      return;
    }
  }
  checked = commit;
}

void SafetyChecker::OnStep(raft::NodeId node, const raft::Raft& raft) {
  if (raft.role() == raft::Role::kLeader) CheckLeader(node, raft);
  CheckCommitted(node, raft);
}

}  // namespace aspen::sim
