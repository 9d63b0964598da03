// Shared vocabulary of raft/: the protobuf types, node ids and small helpers
// over entries and messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aspen/raft/v1/raft.pb.h"

namespace aspen::raft {

namespace pb = ::aspen::raft::v1;

using NodeId = std::uint64_t;
// 0 is never a node id: it means "none" (no leader, no vote).
inline constexpr NodeId kNone = 0;

using EntryVec = std::vector<pb::Entry>;

// Bytes an entry takes on the wire; used for max_size_per_msg batching.
std::uint64_t EntrySize(const pb::Entry& e);
// Bytes of application payload; used for the uncommitted-size limit.
std::uint64_t PayloadSize(const EntryVec& ents);
// Keeps the longest prefix of `ents` whose total EntrySize is <= max_bytes, but
// always at least one entry.
void LimitSize(EntryVec* ents, std::uint64_t max_bytes);

// Local messages never travel over the network.
bool IsLocalMsg(pb::MessageType t);
// Responses must come from a peer in the configuration.
bool IsResponseMsg(pb::MessageType t);
// The response type that answers a vote request type.
pb::MessageType VoteRespType(pb::MessageType t);
std::string MessageTypeName(pb::MessageType t);

}  // namespace aspen::raft
