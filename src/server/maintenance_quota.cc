// The NOSPACE quota (etcd's --quota-backend-bytes): a write that needs space
// while the state is over the quota fails with etcd's "database space
// exceeded", and this member raises a NOSPACE alarm through raft, which then
// caps writes on every member until an operator disarms it.
#include <chrono>

#include "server/call.h"
#include "sm/alarm.h"

namespace aspen::server::internal {

namespace {

// Proposes ACTIVATE NOSPACE for this member unless it is already raised.
void RaiseNoSpace(ServiceEnv* env) {
  Result<std::vector<sm::v1::AlarmMember>> alarms =
      sm::Alarms(*env->node->GetSnapshot(), sm::v1::ALARM_NOSPACE);
  if (alarms.ok()) {
    for (const sm::v1::AlarmMember& m : *alarms) {
      if (m.member_id() == env->member_id) return;
    }
  }
  sm::v1::Command c;
  c.mutable_alarm()->set_action(sm::v1::AlarmRequest::ACTIVATE);
  c.mutable_alarm()->set_member_id(env->member_id);
  c.mutable_alarm()->set_alarm(sm::v1::ALARM_NOSPACE);
  // Best effort: the next write over the quota tries again.
  env->node->Propose(std::move(c), [](Result<sm::v1::Response>) {});
}

}  // namespace

bool QuotaAllows(const Call& call, const sm::v1::Command& command) {
  ServiceEnv* env = call.env;
  if (env->quota_backend_bytes <= 0 || !env->state_bytes || !sm::NeedsSpace(command)) return true;
  const std::uint64_t cost = command.ByteSizeLong();
  const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now().time_since_epoch())
                                  .count();
  if (env->quota_gauge.Allows(cost, static_cast<std::uint64_t>(env->quota_backend_bytes), now_ms,
                              env->state_bytes)) {
    return true;
  }
  RaiseNoSpace(env);
  call.Finish(etcd::kNoSpace.ToGrpc());
  return false;
}

}  // namespace aspen::server::internal
