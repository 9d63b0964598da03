// SafetyChecker: Raft's safety properties (Raft paper, Figure 3), checked on
// every simulation step against the real raft/ cores of every node.
//
//   Election safety      at most one leader per term.
//   Log matching         two logs holding an entry with the same index and
//                        term hold the same entry there and the same terms
//                        before it (checked entry by entry: every (index,
//                        term) ever persisted maps to one entry and one
//                        predecessor term).
//   Leader completeness  an entry committed at some node (at or below its
//                        commit index) is in the log of every later leader.
//   State machine safety every node applies the same entry at each index.
//   Commit agreement     all nodes agree on the term of every committed index.
//
// The first violation is kept (with the node, index and terms involved); the
// simulation stops there and reports it.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "raft/raft.h"
#include "raft/types.h"

namespace aspen::sim {

class SafetyChecker {
 public:
  // A node is about to persist `entries` (they are already in raft's log).
  void OnPersist(raft::NodeId node, const raft::Raft& raft, const raft::EntryVec& entries);
  // A node applied committed entry `e`.
  void OnApply(raft::NodeId node, const raft::pb::Entry& e);
  // After each step, for every running node.
  void OnStep(raft::NodeId node, const raft::Raft& raft);
  // The node's volatile state is gone (crash or removal); its commit index
  // may restart lower.
  void OnRestart(raft::NodeId node) { commit_checked_.erase(node); }

  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  std::size_t leaders_seen() const { return leader_of_term_.size(); }
  std::uint64_t max_committed() const {
    return committed_.empty() ? 0 : committed_.rbegin()->first;
  }

 private:
  struct LoggedEntry {
    int type = 0;
    std::string data;
    std::uint64_t prev_term = 0;
  };
  void Fail(std::string why) {
    if (failure_.empty()) failure_ = std::move(why);
  }
  void CheckLeader(raft::NodeId node, const raft::Raft& raft);
  void CheckCommitted(raft::NodeId node, const raft::Raft& raft);

  std::map<std::uint64_t, raft::NodeId> leader_of_term_;
  // (index, term) -> the entry persisted there by anyone.
  std::map<std::pair<std::uint64_t, std::uint64_t>, LoggedEntry> logged_;
  // index -> term of the entry committed there.
  std::map<std::uint64_t, std::uint64_t> committed_;
  // index -> (term, data) applied there.
  std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> applied_;
  // Per node: commit index up to which its log was checked.
  std::map<raft::NodeId, std::uint64_t> commit_checked_;
  std::string failure_;
};

}  // namespace aspen::sim
