#include "node/lessor.h"

#include <utility>

#include "base/assert.h"
#include "base/limits.h"

namespace aspen::node {
namespace {

constexpr const char* kWaitPrimary = "this leader to apply an entry of its term (lease takeover)";
constexpr const char* kWaitRevoke = "the expired lease's revocation to apply";
constexpr const char* kWaitApply = "this leader to apply the entries it has committed";

}  // namespace

Lessor::Lessor(const Clock* clock, std::int64_t wait_ms) : clock_(clock), wait_ms_(wait_ms) {
  ASPEN_ASSERT(clock_ != nullptr);
  ASPEN_ASSERT(wait_ms_ > 0);
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

void Lessor::Committed(std::uint64_t index) {
  std::lock_guard lock(mu_);
  if (index > committed_) committed_ = index;
}

void Lessor::Applied(std::uint64_t index) {
  std::lock_guard lock(mu_);
  applied_ = index;
  // A snapshot install moves applied past what this node had committed.
  if (applied_ > committed_) committed_ = applied_;
}

void Lessor::Clear() {
  std::lock_guard lock(mu_);
  leases_.clear();
}

void Lessor::Elect() {
  std::lock_guard lock(mu_);
  elected_ = true;
}

void Lessor::Promote() {
  std::lock_guard lock(mu_);
  elected_ = true;
  primary_ = true;
  const std::int64_t now = clock_->SteadyMs();
  for (auto& [id, lease] : leases_) {
    lease.deadline_ms = now + lease.ttl_s * 1000;
    lease.revoke_retry_ms = 0;
  }
}

void Lessor::Demote() {
  std::lock_guard lock(mu_);
  elected_ = false;
  primary_ = false;
}

bool Lessor::is_primary() const {
  std::lock_guard lock(mu_);
  return primary_;
}

std::optional<Result<std::int64_t>> Lessor::DecideKeepAliveLocked(std::int64_t id,
                                                                  std::uint64_t* apply_to,
                                                                  const char** why) {
  if (stopped_) return Result<std::int64_t>(stop_reason_);
  if (!primary_) {
    if (!elected_) return Result<std::int64_t>(Status::FailedPrecondition("not leader"));
    *why = kWaitPrimary;
    return std::nullopt;
  }
  // A revocation this leader has committed (and perhaps another member has
  // already applied and acknowledged) may not be mirrored here yet: renew
  // only once everything committed when the call arrived is applied.
  if (*apply_to == 0 && applied_ < committed_) *apply_to = committed_;
  if (applied_ < *apply_to) {
    *why = kWaitApply;
    return std::nullopt;
  }
  auto it = leases_.find(id);
  if (it == leases_.end()) return Result<std::int64_t>(Status::NotFound("lease not found"));
  const std::int64_t now = clock_->SteadyMs();
  // An expired lease is being (or about to be) revoked: renewing it would
  // promise a TTL the revocation already in the log breaks. As etcd's Renew,
  // wait for the revocation (then "not found") or for this node to stop
  // leading (a new leader extends every lease).
  if (it->second.deadline_ms <= now) {
    *why = kWaitRevoke;
    return std::nullopt;
  }
  it->second.deadline_ms = now + it->second.ttl_s * 1000;
  return Result<std::int64_t>(it->second.ttl_s);
}

std::optional<Result<Lessor::Remaining>> Lessor::DecideTimeToLiveLocked(std::int64_t id,
                                                                        const char** why) const {
  if (stopped_) return Result<Remaining>(stop_reason_);
  if (!primary_) {
    if (!elected_) return Result<Remaining>(Status::FailedPrecondition("not leader"));
    *why = kWaitPrimary;
    return std::nullopt;
  }
  auto it = leases_.find(id);
  if (it == leases_.end()) return Result<Remaining>(Status::NotFound("lease not found"));
  const std::int64_t left_ms = it->second.deadline_ms - clock_->SteadyMs();
  Remaining out;
  out.granted_ttl_s = it->second.ttl_s;
  out.remaining_ttl_s = left_ms <= 0 ? 0 : (left_ms + 999) / 1000;
  return Result<Remaining>(out);
}

Result<std::int64_t> Lessor::KeepAlive(std::int64_t id) {
  std::lock_guard lock(mu_);
  const char* why = nullptr;
  std::uint64_t apply_to = 0;
  if (auto answer = DecideKeepAliveLocked(id, &apply_to, &why)) return std::move(*answer);
  if (why == kWaitPrimary) {
    return Status::Unavailable("not primary yet: waiting for " + std::string(why));
  }
  if (why == kWaitApply) {
    return Status::Unavailable("waiting for " + std::string(why) + ", retry");
  }
  return Status::Unavailable("lease expired; its revocation is in progress, retry");
}

Result<Lessor::Remaining> Lessor::TimeToLive(std::int64_t id) const {
  std::lock_guard lock(mu_);
  const char* why = nullptr;
  if (auto answer = DecideTimeToLiveLocked(id, &why)) return std::move(*answer);
  return Status::Unavailable("not primary yet: waiting for " + std::string(why));
}

Status Lessor::TimedOut(const Waiter& w, const char* why) const {
  // "request timed out" first: the server maps it to etcd's ErrTimeout.
  return Status::Unavailable("request timed out: lease " + std::to_string(w.id) +
                             (w.keep_alive ? " keep-alive" : " time-to-live") +
                             " waited lease_wait_timeout_ms (" + std::to_string(wait_ms_) +
                             " ms) for " + why);
}

Status Lessor::TooManyWaiters() const {
  return Status::ResourceExhausted("too many requests: " + std::to_string(waiters_.size()) +
                                   " lease calls wait already (limits::kMaxLeaseWaiters " +
                                   std::to_string(limits::kMaxLeaseWaiters) + ")");
}

std::optional<Result<std::int64_t>> Lessor::KeepAliveOrWait(std::int64_t id, KeepAliveDone done) {
  ASPEN_ASSERT(done != nullptr);
  std::lock_guard lock(mu_);
  const char* why = nullptr;
  std::uint64_t apply_to = 0;
  if (auto answer = DecideKeepAliveLocked(id, &apply_to, &why)) return answer;
  if (waiters_.size() >= limits::kMaxLeaseWaiters) return Result<std::int64_t>(TooManyWaiters());
  waiters_.push_back(Waiter{id, apply_to, clock_->SteadyMs() + wait_ms_, std::move(done), nullptr});
  return std::nullopt;
}

std::optional<Result<Lessor::Remaining>> Lessor::TimeToLiveOrWait(std::int64_t id,
                                                                  TimeToLiveDone done) {
  ASPEN_ASSERT(done != nullptr);
  std::lock_guard lock(mu_);
  const char* why = nullptr;
  if (auto answer = DecideTimeToLiveLocked(id, &why)) return answer;
  if (waiters_.size() >= limits::kMaxLeaseWaiters) return Result<Remaining>(TooManyWaiters());
  waiters_.push_back(Waiter{id, 0, clock_->SteadyMs() + wait_ms_, nullptr, std::move(done)});
  return std::nullopt;
}

void Lessor::AnswerWaiters(std::vector<std::function<void()>>* out) {
  std::lock_guard lock(mu_);
  if (waiters_.empty()) return;
  const std::int64_t now = clock_->SteadyMs();
  std::vector<Waiter> still;
  for (Waiter& w : waiters_) {
    const char* why = nullptr;
    if (w.keep_alive) {
      std::optional<Result<std::int64_t>> a = DecideKeepAliveLocked(w.id, &w.apply_to, &why);
      if (!a.has_value() && now >= w.deadline_ms) a = Result<std::int64_t>(TimedOut(w, why));
      if (a.has_value()) {
        out->push_back(
            [done = std::move(w.keep_alive), r = std::move(*a)]() mutable { done(std::move(r)); });
        continue;
      }
    } else {
      std::optional<Result<Remaining>> a = DecideTimeToLiveLocked(w.id, &why);
      if (!a.has_value() && now >= w.deadline_ms) a = Result<Remaining>(TimedOut(w, why));
      if (a.has_value()) {
        out->push_back([done = std::move(w.time_to_live), r = std::move(*a)]() mutable {
          done(std::move(r));
        });
        continue;
      }
    }
    still.push_back(std::move(w));
  }
  waiters_.swap(still);
}

void Lessor::Stop(const Status& why, std::vector<std::function<void()>>* out) {
  ASPEN_ASSERT(!why.ok());
  std::lock_guard lock(mu_);
  if (!stopped_) {
    stopped_ = true;
    stop_reason_ = why;
  }
  for (Waiter& w : waiters_) {
    if (w.keep_alive) {
      out->push_back([done = std::move(w.keep_alive), s = stop_reason_] { done(s); });
    } else {
      out->push_back([done = std::move(w.time_to_live), s = stop_reason_] { done(s); });
    }
  }
  waiters_.clear();
}

std::size_t Lessor::waiters() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
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
