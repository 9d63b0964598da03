// Coalescing of raft messages queued for one peer (peer_transport.h).
//
// Raft sends one MsgApp per follower for every proposal it steps and a
// follower answers each with a MsgAppResp; a follower forwards every client
// proposal as a MsgProp of its own. Under load the Ready loop hands the
// transport many such messages per wake-up, and each costs a serialization,
// a parse and a raft Step on both sides. CoalesceInto folds a message into
// the last one still queued for the same peer when the pair is equivalent to
// one message:
//   - MSG_APP + MSG_APP of the same term where the second continues the
//     first (its index/log_term are the first's last entry): one MSG_APP with
//     both entry lists and the second's commit (raft §5.3: the follower's
//     consistency check is the first's, and it appends the same entries);
//   - MSG_APP_RESP + MSG_APP_RESP, both accepting, same term, the second's
//     index not lower: the second alone (the leader only keeps the highest
//     acknowledged index);
//   - MSG_PROP + MSG_PROP of the same term carrying normal entries only: one
//     MSG_PROP with both entry lists (the leader appends them in order; a
//     dropped proposal is retried by its proposer either way).
// Anything else (rejections, heartbeats and their read contexts, votes,
// conf-change proposals, snapshots) is never merged. The merged message
// stays at most max_bytes long. Order per peer is unchanged: only the newest
// queued message is ever extended, by the next message in Send order.
#pragma once

#include <cstddef>

#include "raft/types.h"

namespace aspen::server {

// Largest message coalescing builds: raft's own max_size_per_msg default.
inline constexpr std::size_t kMaxCoalescedMessageBytes = 1u << 20;

// Folds `next` into `tail` (the newest message queued for the same peer) and
// returns true, or leaves both untouched and returns false. `tail_bytes` and
// `next_bytes` are their ByteSizeLong(); on success `*tail_bytes` becomes an
// upper bound of the merged size.
bool CoalesceInto(raft::pb::Message* tail, std::size_t* tail_bytes, raft::pb::Message* next,
                  std::size_t next_bytes, std::size_t max_bytes = kMaxCoalescedMessageBytes);

}  // namespace aspen::server
