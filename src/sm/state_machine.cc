#include "sm/state_machine.h"

#include "base/limits.h"
#include "sm/alarm.h"
#include "sm/history.h"
#include "sm/ops.h"
#include "sm/reads.h"
#include "sm/validate.h"
#include "sm/view.h"

namespace aspen::sm {
namespace {

void SetError(const Status& s, v1::Response* resp) {
  resp->Clear();
  resp->mutable_error()->set_code(static_cast<std::int32_t>(s.code()));
  resp->mutable_error()->set_message(s.message());
}

// Runs one parsed, valid command. User errors come back before any write.
Status Dispatch(internal::WriteTxn& txn, const v1::Command& cmd, v1::Response* resp) {
  switch (cmd.op_case()) {
    case v1::Command::kPut:
      ASPEN_RETURN_IF_ERROR(internal::CheckPut(txn.view(), txn.now_ms(), cmd.put(),
                                               internal::PutCheckOrder::kLeaseFirst));
      return internal::ExecPut(txn, cmd.put(), resp->mutable_put());
    case v1::Command::kDeleteRange:
      return internal::ExecDeleteRange(txn, cmd.delete_range(), resp->mutable_delete_range());
    case v1::Command::kTxn: return internal::ExecTxn(txn, cmd.txn(), resp->mutable_txn());
    case v1::Command::kLeaseGrant:
      return internal::ExecLeaseGrant(txn.overlay(), txn.base_revision(), cmd.lease_grant(),
                                      resp->mutable_lease_grant());
    case v1::Command::kLeaseRevoke:
      return internal::ExecLeaseRevoke(txn, cmd.lease_revoke(), resp->mutable_lease_revoke());
    case v1::Command::kExpireKeys:
      return internal::ExecExpireKeys(txn, cmd.expire_keys(), resp->mutable_expire_keys());
    case v1::Command::kAlarm:
      return internal::ExecAlarm(txn.overlay(), txn.base_revision(), cmd.alarm(),
                                 resp->mutable_alarm());
    case v1::Command::kCompact:  // ApplyOne handles it
    case v1::Command::OP_NOT_SET: break;
  }
  ASPEN_ASSERT(false);  // Validate rejects a command without an op
  return Status::Internal("unreachable");
}

// etcd's Compact: refuses a revision at or below the last compaction or above
// the current revision; records the new compact revision (reads below it are
// refused from now on; the rows go later, see sm/history.h). The revision
// does not move.
void ApplyCompact(const v1::CompactionRequest& req, Overlay* overlay, std::int64_t revision,
                  std::int64_t* compact_revision, v1::Response* resp) {
  if (req.revision() > revision) {
    return SetError(Status::OutOfRange("mvcc: required revision is a future revision"), resp);
  }
  if (req.revision() <= *compact_revision) {
    return SetError(Status::OutOfRange("mvcc: required revision has been compacted"), resp);
  }
  *compact_revision = req.revision();
  overlay->Put(storage::Cf::kMeta, kMetaCompactRevisionKey,
               EncodeFixed64(static_cast<std::uint64_t>(req.revision())));
  resp->mutable_compact()->mutable_header()->set_revision(revision);
}

// Applies one entry's bytes on top of `overlay`; advances *revision when the
// command wrote, keeps *compact_revision and *nospace (a NOSPACE alarm is
// active) current. Returns only fatal errors; the others go into *resp.
Status ApplyOne(std::string_view data, Overlay* overlay, std::int64_t* revision,
                std::int64_t* compact_revision, bool* nospace, v1::Response* resp) {
  if (data.empty()) return Status::Ok();  // Raft's no-op entry
  if (data.size() > limits::kMaxRequestBytes) {
    SetError(Status::ResourceExhausted("request is too large: " + std::to_string(data.size()) +
                                       " bytes, over limits::kMaxRequestBytes (" +
                                       std::to_string(limits::kMaxRequestBytes) + ")"),
             resp);
    return Status::Ok();
  }
  v1::Command cmd;
  if (!cmd.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    SetError(Status::InvalidArgument("malformed command: not a valid aspen.sm.v1.Command"), resp);
    return Status::Ok();
  }
  if (Status s = Validate(cmd); !s.ok()) {
    SetError(s, resp);
    return Status::Ok();
  }
  if (cmd.has_compact()) {  // allowed under NOSPACE: compaction frees space
    ApplyCompact(cmd.compact(), overlay, *revision, compact_revision, resp);
    return Status::Ok();
  }
  if (*nospace && NeedsSpace(cmd)) {
    SetError(Status::ResourceExhausted(std::string(kNoSpaceMessage)), resp);
    return Status::Ok();
  }
  const std::size_t ops_before = overlay->batch().count();
  internal::WriteTxn txn(overlay, *revision, cmd.now_ms(), *compact_revision);
  Status s = Dispatch(txn, cmd, resp);
  if (internal::IsFatal(s)) return s;
  if (!s.ok()) {
    // A failed command leaves no trace.
    ASPEN_ASSERT(!txn.changed() && overlay->batch().count() == ops_before);
    SetError(s, resp);
    return Status::Ok();
  }
  *revision = txn.revision();
  if (cmd.has_alarm()) {
    Result<bool> active = NoSpaceActive(*overlay);
    if (!active.ok()) return active.status();
    *nospace = *active;
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<StateMachine>> StateMachine::Open(storage::Store* store) {
  ASPEN_ASSERT(store != nullptr);
  auto snapshot = store->GetSnapshot();
  Result<AppliedState> state = ReadAppliedState(*snapshot);
  if (!state.ok()) return state.status();
  // Leases live only in Cf::kLease (read through the overlay while applying,
  // so there is no second copy to diverge); decoding them all here reports a
  // corrupt lease row at open instead of in the middle of an Apply.
  Result<std::vector<LeaseInfo>> leases = Leases(*snapshot);
  if (!leases.ok()) return leases.status();
  SnapshotView view(snapshot.get());
  Result<bool> nospace = NoSpaceActive(view);
  if (!nospace.ok()) return nospace.status();
  return std::unique_ptr<StateMachine>(new StateMachine(
      store, state->applied_index, state->revision, state->compact_revision, *nospace));
}

Result<ApplyOutput> StateMachine::Apply(std::span<const Entry> entries) {
  std::uint64_t last = applied_index_;
  for (const Entry& e : entries) {
    if (e.index <= last) {
      return Status::FailedPrecondition("apply: entry index " + std::to_string(e.index) +
                                        " is not above " + std::to_string(last));
    }
    last = e.index;
  }
  auto snapshot = store_->GetSnapshot();
  SnapshotView stored(snapshot.get());
  CachedKvView base(&stored, &kv_cache_);
  Overlay overlay(&base);
  ApplyOutput out;
  out.responses.resize(entries.size());
  std::int64_t revision = revision_;
  std::int64_t compact_revision = compact_revision_;
  bool nospace = nospace_;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    ASPEN_RETURN_IF_ERROR(ApplyOne(entries[i].data, &overlay, &revision, &compact_revision,
                                   &nospace, &out.responses[i]));
    ASPEN_ASSERT(revision >= revision_);
  }
  if (!entries.empty()) {
    overlay.Put(storage::Cf::kMeta, kMetaRevisionKey,
                EncodeFixed64(static_cast<std::uint64_t>(revision)));
    overlay.Put(storage::Cf::kMeta, kMetaAppliedIndexKey, EncodeFixed64(last));
  }
  out.batch = std::move(overlay.batch());
  // The caller writes the batch before the next Apply (or discards us).
  kv_cache_.PutWrites(out.batch);
  applied_index_ = last;
  revision_ = revision;
  compact_revision_ = compact_revision;
  nospace_ = nospace;
  return out;
}

Result<std::vector<v1::Response>> StateMachine::ApplyAndWrite(std::span<const Entry> entries) {
  Result<ApplyOutput> out = Apply(entries);
  if (!out.ok()) return out.status();
  ASPEN_RETURN_IF_ERROR(store_->Write(out->batch, /*sync=*/false));
  return std::move(out->responses);
}

}  // namespace aspen::sm
