#include "sim/raft_safety.h"

#include <string>

namespace aspen::sim {
namespace {

std::string S(std::uint64_t v) {
  return std::to_string(v);
}

}  // namespace

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
      Fail("log matching violated: node " + S(node) + " persisted a different entry at index " +
           S(e.index()) + " term " + S(e.term()) + " than another node");
    } else if (prev_known) {
      if (it->second.prev_term == UINT64_MAX) {
        it->second.prev_term = prev_term;
      } else if (it->second.prev_term != prev_term) {
        Fail("log matching violated: node " + S(node) + " holds entry " + S(e.index()) +
             " of term " + S(e.term()) + " after an entry of term " + S(prev_term) +
             ", another node after one of term " + S(it->second.prev_term));
      }
    }
  }
}

void SafetyChecker::OnApply(raft::NodeId node, const raft::pb::Entry& e) {
  auto [it, fresh] = applied_.emplace(e.index(), std::make_pair(e.term(), e.data()));
  if (!fresh && (it->second.first != e.term() || it->second.second != e.data())) {
    Fail("state machine safety violated: node " + S(node) + " applied entry (term " + S(e.term()) +
         ") at index " + S(e.index()) + ", another node applied term " + S(it->second.first) +
         " there");
  }
  auto c = committed_.find(e.index());
  if (c != committed_.end() && c->second != e.term()) {
    Fail("node " + S(node) + " applied index " + S(e.index()) + " of term " + S(e.term()) +
         " but term " + S(c->second) + " was committed there");
  }
}

void SafetyChecker::CheckLeader(raft::NodeId node, const raft::Raft& raft) {
  auto [it, fresh] = leader_of_term_.emplace(raft.term(), node);
  if (!fresh) {
    if (it->second != node) {
      Fail("election safety violated: nodes " + S(it->second) + " and " + S(node) +
           " both leader in term " + S(raft.term()));
    }
    return;
  }
  // A new leader: it must hold every entry committed so far.
  const raft::RaftLog& log = raft.log();
  for (const auto& [index, term] : committed_) {
    if (index < log.FirstIndex()) continue;
    if (log.TermOrZero(index) != term) {
      Fail("leader completeness violated: node " + S(node) + " leads term " + S(raft.term()) +
           " but its log has term " + S(log.TermOrZero(index)) + " at committed index " + S(index) +
           " (committed with term " + S(term) + ")");
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
      Fail("commit agreement violated: node " + S(node) + " committed index " + S(i) +
           " with term " + S(term) + ", another node with term " + S(it->second));
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
