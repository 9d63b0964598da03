#include "node/lessor.h"

#include "base/assert.h"

namespace aspen::node {

Lessor::Lessor(const Clock* clock) : clock_(clock) {
  ASPEN_ASSERT(clock_ != nullptr);
}

void Lessor::Grant(std::int64_t id, std::int64_t ttl_s) {
  ASPEN_ASSERT(ttl_s >= 0);
  std::lock_guard lock(mu_);
  leases_[id] = Lease{ttl_s, clock_->SteadyMs() + ttl_s * 1000, 0};
}

void Lessor::Revoke(std::int64_t id) {
  std::lock_guard lock(mu_);
  leases_.erase(id);
}

void Lessor::Clear() {
  std::lock_guard lock(mu_);
  leases_.clear();
}

void Lessor::Promote() {
  std::lock_guard lock(mu_);
  primary_ = true;
  const std::int64_t now = clock_->SteadyMs();
  for (auto& [id, lease] : leases_) {
    lease.deadline_ms = now + lease.ttl_s * 1000;
    lease.revoke_retry_ms = 0;
  }
}

void Lessor::Demote() {
  std::lock_guard lock(mu_);
  primary_ = false;
}

bool Lessor::is_primary() const {
  std::lock_guard lock(mu_);
  return primary_;
}

Result<std::int64_t> Lessor::KeepAlive(std::int64_t id) {
  std::lock_guard lock(mu_);
  if (!primary_) return Status::FailedPrecondition("not leader");
  auto it = leases_.find(id);
  if (it == leases_.end()) return Status::NotFound("lease not found");
  const std::int64_t now = clock_->SteadyMs();
  // An expired lease is being (or about to be) revoked: renewing it would
  // promise a TTL the revocation already in the log breaks. etcd's Renew
  // waits for the revocation and answers "not found"; this lessor does not
  // block, so the caller retries (and then finds the lease revoked, or
  // extended by a new leader if the revocation was lost).
  if (it->second.deadline_ms <= now) {
    return Status::Unavailable("lease expired; its revocation is in progress, retry");
  }
  it->second.deadline_ms = now + it->second.ttl_s * 1000;
  return it->second.ttl_s;
}

Result<Lessor::Remaining> Lessor::TimeToLive(std::int64_t id) const {
  std::lock_guard lock(mu_);
  if (!primary_) return Status::FailedPrecondition("not leader");
  auto it = leases_.find(id);
  if (it == leases_.end()) return Status::NotFound("lease not found");
  const std::int64_t left_ms = it->second.deadline_ms - clock_->SteadyMs();
  Remaining out;
  out.granted_ttl_s = it->second.ttl_s;
  out.remaining_ttl_s = left_ms <= 0 ? 0 : (left_ms + 999) / 1000;
  return out;
}

std::vector<std::int64_t> Lessor::Expired(std::size_t max) const {
  std::lock_guard lock(mu_);
  std::vector<std::int64_t> out;
  if (!primary_) return out;
  const std::int64_t now = clock_->SteadyMs();
  for (const auto& [id, lease] : leases_) {
    if (out.size() >= max) break;
    if (lease.deadline_ms > now) continue;
    if (lease.revoke_retry_ms != 0 && lease.revoke_retry_ms > now) continue;
    out.push_back(id);
  }
  return out;
}

void Lessor::MarkRevoking(std::int64_t id, std::int64_t retry_at_ms) {
  std::lock_guard lock(mu_);
  auto it = leases_.find(id);
  if (it != leases_.end()) it->second.revoke_retry_ms = retry_at_ms;
}

bool Lessor::Contains(std::int64_t id) const {
  std::lock_guard lock(mu_);
  return leases_.count(id) != 0;
}

std::size_t Lessor::size() const {
  std::lock_guard lock(mu_);
  return leases_.size();
}

}  // namespace aspen::node
