// The leader's timers: request deadlines on every node; on the leader, lease
// revocation at expiry and deletion of expired TTL keys in bounded batches.
// Times put into commands come from the Clock (apply reads none).
#include <utility>

#include "base/limits.h"
#include "node/node_impl.h"
#include "sm/reads.h"

namespace aspen::node {
namespace {

// LeaseRevoke proposals per expiry round (each revokes one lease).
constexpr std::size_t kMaxRevokesPerRound = 64;

}  // namespace

void Node::Impl::TickTimers(std::vector<Completion>* out) {
  ExpireRequests(out);
  RetryStaleReads(out);
  lessor.AnswerWaiters(out);  // their bound, lease_wait_timeout_ms
  RunCompactionStep();
  if (!is_leader) return;
  const std::int64_t now = Steady();
  if (now < next_expiry_ms) return;
  next_expiry_ms = now + opts.expiry_interval_ms;
  RunExpiry();
}

void Node::Impl::RunExpiry() {
  const std::int64_t retry_at = Steady() + opts.request_timeout_ms;
  for (std::int64_t id : lessor.Expired(kMaxRevokesPerRound)) {
    sm::v1::Command cmd;
    cmd.mutable_lease_revoke()->set_id(id);
    lessor.MarkRevoking(id, retry_at);
    // Applied revocations reach the Lessor through apply; a failure is
    // retried after retry_at.
    ProposeInternal(std::move(cmd), [](Result<sm::v1::Response>) {});
  }
  if (expire_keys_in_flight) return;
  auto snap = store->GetSnapshot();
  auto keys = sm::ExpiredKeys(*snap, clock->NowMs(), limits::kMaxExpiryBatchKeys);
  if (!keys.ok()) {
    Log("expired-keys scan failed: " + keys.status().ToString());
    return;
  }
  if (keys->empty()) return;
  sm::v1::Command cmd;
  for (sm::v1::ExpiringKey& k : *keys) *cmd.mutable_expire_keys()->add_keys() = std::move(k);
  expire_keys_in_flight = true;
  ProposeInternal(std::move(cmd), [this](Result<sm::v1::Response> r) {
    expire_keys_in_flight = false;
    // A full batch means more may be waiting: look again at the next tick.
    if (r.ok() && r->has_expire_keys() &&
        r->expire_keys().deleted() >= static_cast<std::int64_t>(limits::kMaxExpiryBatchKeys)) {
      next_expiry_ms = 0;
    }
  });
}

}  // namespace aspen::node
