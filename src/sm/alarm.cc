// Alarms: rows in Cf::kMeta, the NOSPACE check of Apply (alarm.h).
#include "sm/alarm.h"

#include <memory>

#include "storage/coding.h"

namespace aspen::sm {

namespace {

bool TxnNeedsSpace(const v1::TxnRequest& txn) {
  for (const auto* ops : {&txn.success(), &txn.failure()}) {
    for (const v1::RequestOp& op : *ops) {
      if (op.has_request_put()) return true;
      if (op.has_request_txn() && TxnNeedsSpace(op.request_txn())) return true;
    }
  }
  return false;
}

std::string Upper(std::string_view prefix) {
  std::string s(prefix);
  s.back() = static_cast<char>(s.back() + 1);
  return s;
}

Status DecodeAlarmKey(std::string_view key, v1::AlarmMember* out) {
  if (key.size() != kAlarmKeyPrefix.size() + 9 || !key.starts_with(kAlarmKeyPrefix)) {
    return Status::Corruption("meta: malformed alarm row");
  }
  key.remove_prefix(kAlarmKeyPrefix.size());
  const auto type = static_cast<std::uint8_t>(key[8]);
  if (!v1::AlarmType_IsValid(type) || type == v1::ALARM_NONE) {
    return Status::Corruption("meta: alarm row of unknown type " + std::to_string(type));
  }
  out->set_member_id(storage::DecodeBigEndian64(key));
  out->set_alarm(static_cast<v1::AlarmType>(type));
  return Status::Ok();
}

Status ScanAlarms(const KvView& view, std::vector<v1::AlarmMember>* out) {
  const std::string upper = Upper(kAlarmKeyPrefix);
  auto it = view.Scan(storage::Cf::kMeta, kAlarmKeyPrefix, upper);
  for (; it->Valid(); it->Next()) {
    v1::AlarmMember m;
    ASPEN_RETURN_IF_ERROR(DecodeAlarmKey(it->key(), &m));
    out->push_back(std::move(m));
  }
  return it->status();
}

}  // namespace

std::string EncodeAlarmKey(std::uint64_t member_id, v1::AlarmType type) {
  std::string key(kAlarmKeyPrefix);
  storage::PutBigEndian64(&key, member_id);
  key.push_back(static_cast<char>(type));
  return key;
}

Status ValidateAlarm(const v1::AlarmRequest& r) {
  if (r.action() != v1::AlarmRequest::ACTIVATE && r.action() != v1::AlarmRequest::DEACTIVATE) {
    return Status::InvalidArgument("alarm: only ACTIVATE and DEACTIVATE are replicated");
  }
  if (r.alarm() != v1::ALARM_NOSPACE && r.alarm() != v1::ALARM_CORRUPT) {
    return Status::InvalidArgument("alarm: unknown alarm type " + std::to_string(r.alarm()));
  }
  if (r.member_id() == 0) return Status::InvalidArgument("alarm: member id 0");
  return Status::Ok();
}

Result<std::vector<v1::AlarmMember>> Alarms(const storage::Snapshot& snapshot, v1::AlarmType only) {
  SnapshotView view(&snapshot);
  std::vector<v1::AlarmMember> all;
  ASPEN_RETURN_IF_ERROR(ScanAlarms(view, &all));
  if (only == v1::ALARM_NONE) return all;
  std::vector<v1::AlarmMember> out;
  for (v1::AlarmMember& m : all) {
    if (m.alarm() == only) out.push_back(std::move(m));
  }
  return out;
}

Result<bool> NoSpaceActive(const KvView& view) {
  std::vector<v1::AlarmMember> all;
  ASPEN_RETURN_IF_ERROR(ScanAlarms(view, &all));
  for (const v1::AlarmMember& m : all) {
    if (m.alarm() == v1::ALARM_NOSPACE) return true;
  }
  return false;
}

bool NeedsSpace(const v1::Command& command) {
  switch (command.op_case()) {
    case v1::Command::kPut:
    case v1::Command::kLeaseGrant: return true;
    case v1::Command::kTxn: return TxnNeedsSpace(command.txn());
    default: return false;
  }
}

namespace internal {

Status ExecAlarm(Overlay* overlay, std::int64_t revision, const v1::AlarmRequest& req,
                 v1::AlarmResponse* resp) {
  resp->mutable_header()->set_revision(revision);
  const std::string key = EncodeAlarmKey(req.member_id(), req.alarm());
  std::string ignored;
  const Status got = overlay->Get(storage::Cf::kMeta, key, &ignored);
  if (!got.ok() && got.code() != Code::kNotFound) return got;
  const bool active = got.ok();
  const bool activate = req.action() == v1::AlarmRequest::ACTIVATE;
  if (active == activate) return Status::Ok();
  if (activate) {
    overlay->Put(storage::Cf::kMeta, key, "");
  } else {
    overlay->Delete(storage::Cf::kMeta, key);
  }
  v1::AlarmMember* m = resp->add_alarms();
  m->set_member_id(req.member_id());
  m->set_alarm(req.alarm());
  return Status::Ok();
}

}  // namespace internal

}  // namespace aspen::sm
