// Ready: everything raft asks the application to do, in one batch
// (etcd-io/raft node.go). The application takes a Ready from
// RawNode::GetReady(), carries it out in the order below, then calls
// RawNode::Advance(). Raft never does I/O itself.
//
// Ordering rules (each step may start only when the ones it names are done):
//
//  1. Persist: if `snapshot` is set, install it in the log store (it replaces
//     the log); then write `entries` (an entry at index i replaces every stored
//     entry at index >= i) and `hard_state` (when set). Sync when `must_sync`.
//     Entries, hard state and snapshot may share one atomic write.
//
//  2. Send `messages` only after step 1 is durable: a vote or an append
//     acknowledgement promises state that must survive a crash.
//     Exception (Raft thesis §10.2.1): when `messages_may_precede_persist` is
//     true (a leader that stayed leader since the previous Ready), the messages
//     may be sent before or while step 1 runs. This is safe because the leader
//     counts its own copy toward a commit only after Advance() reports it
//     persisted.
//
//  3. Apply `committed_entries` in order, after step 1 is durable (they may
//     include entries from this Ready's `entries`; applying them in the same
//     atomic write as step 1 is allowed). With
//     Config::sole_voter_commits_in_ready, a sole-voter leader's Ready
//     commits its own `entries`: then persisting and applying them in ONE
//     atomic write is required (the commit is durable only with them). For a conf change entry,
//     call RawNode::ApplyConfChange() with it. If `snapshot` is set, restore the state machine from
//     it first.
//
//  4. Serve `read_states`: a read with this request context is linearizable
//     once the state machine has applied up to its index.
//
//  5. Call RawNode::Advance() once all of the above is durable/applied.
//     GetReady() may not be called again before that.
#pragma once

#include <optional>
#include <vector>

#include "raft/raft.h"
#include "raft/read_only.h"
#include "raft/types.h"

namespace aspen::raft {

struct Ready {
  // Set when the leader or role changed since the previous Ready.
  std::optional<SoftState> soft_state;
  // Set when term, vote or commit changed since the previous Ready.
  std::optional<pb::HardState> hard_state;
  // Entries to persist (not yet durable); contiguous, possibly replacing a
  // stored tail.
  EntryVec entries;
  // A snapshot from the leader to persist and restore.
  std::optional<pb::Snapshot> snapshot;
  // Entries committed by a quorum, to apply in order.
  EntryVec committed_entries;
  // Messages to send, each to Message::to().
  std::vector<pb::Message> messages;
  // See rule 2 above.
  bool messages_may_precede_persist = false;
  // Reads that became serviceable (ReadIndex).
  std::vector<ReadState> read_states;
  // Step 1 must be synced (fsync) before messages are sent: new entries, a
  // new term or vote, or a snapshot. A commit-index-only change need not be.
  bool must_sync = false;
};

}  // namespace aspen::raft
