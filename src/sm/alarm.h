// Alarms (etcd's Maintenance.Alarm): replicated, so every member sees the same
// set and refuses the same writes.
//
// Rows in Cf::kMeta (persisted: DO NOT CHANGE):
//   alarm_key := "alarm/" member_id:be64 type:u8  ->  empty value
//
// While any NOSPACE alarm is active, Apply answers every command that needs
// space (NeedsSpace: Put, LeaseGrant, a Txn with a Put in any branch) with
// ResourceExhausted "mvcc: database space exceeded" (etcd's capped applier);
// reads, deletes, lease revocations and expiry still run.
//
// Thread safety: pure functions over a view or snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "sm/view.h"
#include "storage/store.h"

namespace aspen::sm {

inline constexpr std::string_view kAlarmKeyPrefix = "alarm/";  // DO NOT CHANGE
// The phrase server/ maps to etcd's ErrGRPCNoSpace.
inline constexpr std::string_view kNoSpaceMessage = "mvcc: database space exceeded";

std::string EncodeAlarmKey(std::uint64_t member_id, v1::AlarmType type);

// ACTIVATE/DEACTIVATE of NOSPACE or CORRUPT for a non-zero member.
Status ValidateAlarm(const v1::AlarmRequest& request);

// Every active alarm, by member id then type; `only` filters by type unless
// it is ALARM_NONE (etcd's GET).
Result<std::vector<v1::AlarmMember>> Alarms(const storage::Snapshot& snapshot,
                                            v1::AlarmType only = v1::ALARM_NONE);
Result<bool> NoSpaceActive(const KvView& view);

// Whether etcd's quota would charge this command (it is refused under NOSPACE).
bool NeedsSpace(const v1::Command& command);

namespace internal {
// Applies ACTIVATE/DEACTIVATE; resp lists the alarm changed (none if it was
// already in that state). The revision does not move.
Status ExecAlarm(Overlay* overlay, std::int64_t revision, const v1::AlarmRequest& req,
                 v1::AlarmResponse* resp);
}  // namespace internal

}  // namespace aspen::sm
