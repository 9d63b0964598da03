// Linearizable read barriers: every caller waiting when the loop drains its
// inbox shares ONE raft ReadIndex request; each is answered once the state
// machine has applied up to the read index raft hands back.
#include <utility>

#include "node/node_impl.h"

namespace aspen::node {

void Node::ReadBarrier(Callback<Status> done) {
  Impl& n = *impl_;
  const std::size_t limit = n.opts.max_pending_reads;
  if (n.pending_reads.fetch_add(1) >= limit) {
    n.pending_reads.fetch_sub(1);
    done(Status::ResourceExhausted("too many pending reads (limit " + std::to_string(limit) + ")"));
    return;
  }
  ReadWaiter w{std::move(done), n.Steady() + n.opts.request_timeout_ms};
  {
    std::unique_lock lock(n.mu);
    if (n.stopping) {
      lock.unlock();
      n.pending_reads.fetch_sub(1);
      w.done(Status::Unavailable("node stopped"));
      return;
    }
    n.inbox_reads.push_back(std::move(w));
  }
  n.cv.notify_one();
}

void Node::Impl::SubmitReads(std::vector<ReadWaiter> waiters, std::vector<Completion>* out) {
  // The leader keys pending reads by context and ignores a context it already
  // holds, so it must be unique across ALL members and restarts, not just
  // this node's requests: member id, per-start nonce, sequence number.
  const std::string ctx = "r" + std::to_string(opts.id) + "." + std::to_string(read_ctx_nonce) +
                          "." + std::to_string(next_read_ctx++);
  const bool no_leader = raw->GetStatus().soft_state.lead == raft::kNone;
  raft::Error err =
      no_leader ? raft::Error(raft::ErrorCode::kNoLeader, "no leader") : raw->ReadIndex(ctx);
  if (err.ok()) {
    const std::int64_t now = Steady();
    for (ReadWaiter& w : waiters) w.issued_ms = now;
    reads_in_flight.emplace(ctx, std::move(waiters));
    return;
  }
  Status s = err.code() == raft::ErrorCode::kLimitExceeded
                 ? Status::ResourceExhausted(err.message())
                 : Status::Unavailable(err.code() == raft::ErrorCode::kNoLeader
                                           ? "no leader"
                                           : "read index refused: " + err.message());
  pending_reads.fetch_sub(waiters.size());
  for (ReadWaiter& w : waiters) {
    out->push_back([done = std::move(w.done), s] { done(s); });
  }
}

void Node::Impl::OnReadStates(const std::vector<raft::ReadState>& states) {
  for (const raft::ReadState& rs : states) {
    auto it = reads_in_flight.find(rs.request_ctx);
    if (it == reads_in_flight.end()) continue;  // timed out already
    for (ReadWaiter& w : it->second) reads_to_apply.emplace(rs.index, std::move(w));
    reads_in_flight.erase(it);
  }
}

void Node::Impl::RetryStaleReads(std::vector<Completion>* out) {
  // A MsgReadIndex or its response may be lost (dropped message, leader
  // change); raft never resends it. Reissue under a fresh context after an
  // election timeout; a late answer to the old context is then ignored.
  const std::int64_t retry_ms = opts.election_tick * opts.tick_interval_ms;
  const std::int64_t now = Steady();
  std::vector<ReadWaiter> stale;
  for (auto it = reads_in_flight.begin(); it != reads_in_flight.end();) {
    if (it->second.empty() || it->second.front().issued_ms + retry_ms > now) {
      ++it;
      continue;
    }
    for (ReadWaiter& w : it->second) stale.push_back(std::move(w));
    it = reads_in_flight.erase(it);
  }
  if (!stale.empty()) SubmitReads(std::move(stale), out);
}

void Node::Impl::CompleteAppliedReads(std::vector<Completion>* out) {
  const std::uint64_t applied = sm->applied_index();
  while (!reads_to_apply.empty() && reads_to_apply.begin()->first <= applied) {
    out->push_back([done = std::move(reads_to_apply.begin()->second.done)] { done(Status::Ok()); });
    reads_to_apply.erase(reads_to_apply.begin());
    pending_reads.fetch_sub(1);
  }
}

}  // namespace aspen::node
