#include "raft/types.h"

#include "raft/raft_assert.h"

namespace aspen::raft {

std::uint64_t EntrySize(const pb::Entry& e) {
  return e.ByteSizeLong();
}

std::uint64_t PayloadSize(const EntryVec& ents) {
  std::uint64_t total = 0;
  for (const pb::Entry& e : ents) total += e.data().size();
  return total;
}

void LimitSize(EntryVec* ents, std::uint64_t max_bytes) {
  if (ents->empty()) return;
  std::uint64_t size = EntrySize((*ents)[0]);
  std::size_t keep = 1;
  for (; keep < ents->size(); ++keep) {
    size += EntrySize((*ents)[keep]);
    if (size > max_bytes) break;
  }
  ents->resize(keep);
}

bool IsLocalMsg(pb::MessageType t) {
  return t == pb::MSG_HUP || t == pb::MSG_BEAT || t == pb::MSG_UNREACHABLE ||
         t == pb::MSG_SNAP_STATUS || t == pb::MSG_CHECK_QUORUM;
}

bool IsResponseMsg(pb::MessageType t) {
  return t == pb::MSG_APP_RESP || t == pb::MSG_VOTE_RESP || t == pb::MSG_HEARTBEAT_RESP ||
         t == pb::MSG_UNREACHABLE || t == pb::MSG_PRE_VOTE_RESP;
}

pb::MessageType VoteRespType(pb::MessageType t) {
  RAFT_ASSERT(t == pb::MSG_VOTE || t == pb::MSG_PRE_VOTE);
  return t == pb::MSG_VOTE ? pb::MSG_VOTE_RESP : pb::MSG_PRE_VOTE_RESP;
}

std::string MessageTypeName(pb::MessageType t) {
  return pb::MessageType_Name(t);
}

}  // namespace aspen::raft
