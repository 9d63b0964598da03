// Membership changes, one server at a time (Raft thesis §4.1). A change takes
// effect when the application applies its committed entry and calls
// ApplyConfChange (as etcd-io/raft does), never when it is appended, so every
// node switches at the same log position.
#include <string>

#include "raft/raft.h"

namespace aspen::raft {

Error Raft::CheckConfChange(const pb::ConfChange& cc) const {
  const NodeId id = cc.node_id();
  if (id == kNone) return Error(ErrorCode::kInvalidArgument, "conf change names node 0");
  switch (cc.type()) {
    case pb::CONF_CHANGE_ADD_NODE: return Error::Ok();
    case pb::CONF_CHANGE_REMOVE_NODE:
    case pb::CONF_CHANGE_ADD_LEARNER_NODE:
      if (trk_.IsVoter(id) && trk_.voters().size() == 1) {
        return Error(ErrorCode::kInvalidArgument, "conf change would leave no voter (node " +
                                                      std::to_string(id) + " is the last one)");
      }
      return Error::Ok();
    default:
      return Error(ErrorCode::kInvalidArgument,
                   "unknown conf change type " + std::to_string(static_cast<int>(cc.type())));
  }
}

Result<pb::ConfState> Raft::ApplyConfChange(const pb::ConfChange& cc) {
  Error e = CheckConfChange(cc);
  if (!e.ok()) return e;
  const NodeId id = cc.node_id();
  const std::uint64_t next = log_.LastIndex() + 1;
  switch (cc.type()) {
    case pb::CONF_CHANGE_ADD_NODE: trk_.SetVoter(id, next); break;
    case pb::CONF_CHANGE_ADD_LEARNER_NODE: trk_.SetLearner(id, next); break;
    case pb::CONF_CHANGE_REMOVE_NODE: trk_.Remove(id); break;
    default: RAFT_ASSERT_MSG(false, "conf change type was checked");
  }
  if (role_ != Role::kLeader) return trk_.ConfState();
  if (!trk_.IsVoter(id_)) {
    // Removed or demoted: a leader must be a voter. The others elect a new
    // leader after an election timeout (transfer leadership first to avoid it).
    BecomeFollower(term_, kNone);
    return trk_.ConfState();
  }
  if (lead_transferee_ != kNone && !trk_.IsVoter(lead_transferee_)) AbortLeaderTransfer();
  // The quorum changed: the commit index may move, and new members need entries.
  if (MaybeCommit()) {
    ReleasePendingReadIndexMessages();
    BcastAppend();
  } else {
    for (auto& [peer, pr] : trk_.progress()) {
      if (peer != id_) MaybeSendAppend(peer, false);
    }
  }
  return trk_.ConfState();
}

}  // namespace aspen::raft
