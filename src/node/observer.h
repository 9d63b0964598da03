// Observer: read-only hooks into the Ready loop for the simulator's checkers
// (sim/raft_safety.h, the history resolver). Production nodes have none.
//
// Every method is called on the loop thread (in manual-drive mode, the
// caller's thread), with no lock held, and must not call back into the Node.
#pragma once

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "raft/raft.h"
#include "raft/types.h"

namespace aspen::node {

class Observer {
 public:
  virtual ~Observer() = default;
  // Raft holds `entries` in its log and the node is about to persist them
  // (with the Ready's hard state) in one write.
  virtual void OnPersist(const raft::Raft& raft, const raft::EntryVec& entries) = 0;
  // The node applied committed entry `e` (into the batch about to be written);
  // `response` is the state machine's answer, nullptr for a conf change.
  virtual void OnApply(const raft::pb::Entry& e, const sm::v1::Response* response) = 0;
  // The node stops after a fatal error (a failed store write, an unsupported
  // snapshot); it answers Unavailable from now on.
  virtual void OnFatal(const Status& why) = 0;
};

}  // namespace aspen::node
