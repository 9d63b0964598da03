#include "raft/quorum/majority.h"

#include <algorithm>
#include <vector>

namespace aspen::raft {

std::uint64_t MajorityCommittedIndex(const std::set<NodeId>& voters,
                                     const std::function<std::uint64_t(NodeId)>& acked) {
  if (voters.empty()) return 0;
  std::vector<std::uint64_t> idx;
  idx.reserve(voters.size());
  for (NodeId id : voters) idx.push_back(acked(id));
  // Sorted descending, the (n/2)-th element (0-based) is acknowledged by
  // n/2 + 1 voters: a majority.
  std::sort(idx.begin(), idx.end(), std::greater<>());
  return idx[voters.size() / 2];
}

VoteResult MajorityVoteResult(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  if (voters.empty()) return VoteResult::kWon;  // an empty config agrees vacuously
  std::size_t granted = 0;
  std::size_t missing = 0;
  for (NodeId id : voters) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++granted;
    }
  }
  const std::size_t quorum = voters.size() / 2 + 1;
  if (granted >= quorum) return VoteResult::kWon;
  if (granted + missing >= quorum) return VoteResult::kPending;
  return VoteResult::kLost;
}

}  // namespace aspen::raft
