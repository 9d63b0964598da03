// Majority quorums (etcd-io/raft quorum/majority.go): the pure arithmetic of
// "what does a majority of voters agree on", kept apart from raft's state so it
// is table- and property-tested against a naive version.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>

#include "raft/types.h"

namespace aspen::raft {

enum class VoteResult { kPending, kLost, kWon };

// The largest index that a majority of `voters` have acknowledged, given each
// voter's acknowledged index (missing voters count as 0). An empty voter set
// answers 0: nothing is committed without voters.
std::uint64_t MajorityCommittedIndex(const std::set<NodeId>& voters,
                                     const std::function<std::uint64_t(NodeId)>& acked);

// Won when a majority granted, Lost when a majority can no longer grant,
// Pending otherwise. Votes of non-voters are ignored.
VoteResult MajorityVoteResult(const std::set<NodeId>& voters, const std::map<NodeId, bool>& votes);

}  // namespace aspen::raft
