#include "sm/reads.h"

#include <algorithm>

#include "base/limits.h"
#include "sm/history.h"
#include "sm/index.h"
#include "sm/ops.h"
#include "sm/record.h"
#include "sm/state_machine.h"
#include "sm/validate.h"
#include "sm/view.h"

namespace aspen::sm {

Result<AppliedState> ReadAppliedState(const storage::Snapshot& snapshot) {
  AppliedState state;
  state.revision = kInitialRevision;
  std::string bytes;
  Status s = snapshot.Get(storage::Cf::kMeta, kMetaAppliedIndexKey, &bytes);
  if (s.ok()) {
    ASPEN_RETURN_IF_ERROR(DecodeFixed64(bytes, &state.applied_index));
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  s = snapshot.Get(storage::Cf::kMeta, kMetaRevisionKey, &bytes);
  if (s.ok()) {
    std::uint64_t rev = 0;
    ASPEN_RETURN_IF_ERROR(DecodeFixed64(bytes, &rev));
    // INT64_MAX itself is refused too: the next write could not be numbered.
    if (rev < static_cast<std::uint64_t>(kInitialRevision) ||
        rev >= static_cast<std::uint64_t>(INT64_MAX)) {
      return Status::Corruption("meta revision out of range: " + std::to_string(rev));
    }
    state.revision = static_cast<std::int64_t>(rev);
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  Result<CompactionState> compaction = ReadCompactionState(snapshot);
  if (!compaction.ok()) return compaction.status();
  state.compact_revision = compaction->compact_revision;
  if (state.compact_revision > state.revision) {
    return Status::Corruption("meta compact_revision " + std::to_string(state.compact_revision) +
                              " is above the revision " + std::to_string(state.revision));
  }
  return state;
}

Result<v1::RangeResponse> Range(const storage::Snapshot& snapshot, const v1::RangeRequest& request,
                                std::int64_t now_ms, const RangeOptions& options) {
  ASPEN_RETURN_IF_ERROR(ValidateRange(request));
  Result<AppliedState> state = ReadAppliedState(snapshot);
  if (!state.ok()) return state.status();
  SnapshotView view(&snapshot);
  v1::RangeResponse resp;
  ASPEN_RETURN_IF_ERROR(
      internal::ExecRange(view, state->revision, state->compact_revision, now_ms, request,
                          internal::RangePlanOptions{options.allow_index}, &resp));
  return resp;
}

Result<std::vector<v1::ExpiringKey>> ExpiredKeys(const storage::Snapshot& snapshot,
                                                 std::int64_t now_ms, std::size_t max) {
  max = std::min(max, limits::kMaxExpiryBatchKeys);
  std::vector<v1::ExpiringKey> out;
  if (max == 0 || now_ms < 1) return out;
  // Rows with expires_at in [1, now_ms] are expired (0 means no TTL and has no row).
  const auto [begin, end] = IndexValueRange(IndexName::kExpiresAt, 1, now_ms);
  SnapshotView view(&snapshot);
  auto it = view.Scan(storage::Cf::kIndex, begin, end);
  for (; it->Valid() && out.size() < max; it->Next()) {
    IndexEntry entry;
    ASPEN_RETURN_IF_ERROR(DecodeIndexKey(IndexName::kExpiresAt, it->key(), &entry));
    std::optional<internal::StoredKv> kv;
    ASPEN_RETURN_IF_ERROR(internal::ReadKv(view, entry.key, &kv));
    if (!kv.has_value() || kv->meta.expires_at_ms != entry.value) {
      return Status::Corruption("expires_at index row has no matching kv row");
    }
    v1::ExpiringKey& k = out.emplace_back();
    k.set_key(std::move(entry.key));
    k.set_mod_revision(kv->meta.mod_revision);
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::vector<LeaseInfo>> Leases(const storage::Snapshot& snapshot) {
  std::vector<LeaseInfo> out;
  SnapshotView view(&snapshot);
  auto it = view.Scan(storage::Cf::kLease, "", std::nullopt);
  for (; it->Valid(); it->Next()) {
    LeaseInfo info;
    ASPEN_RETURN_IF_ERROR(DecodeLeaseKey(it->key(), &info.id));
    ASPEN_RETURN_IF_ERROR(DecodeLeaseRecord(it->value(), &info.granted_ttl_s));
    out.push_back(std::move(info));
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  return out;
}

Result<LeaseInfo> LeaseTimeToLive(const storage::Snapshot& snapshot, std::int64_t id,
                                  std::int64_t now_ms) {
  std::string bytes;
  Status s = snapshot.Get(storage::Cf::kLease, EncodeLeaseKey(id), &bytes);
  if (s.code() == Code::kNotFound) return Status::NotFound("lease not found");
  ASPEN_RETURN_IF_ERROR(s);
  LeaseInfo info;
  info.id = id;
  ASPEN_RETURN_IF_ERROR(DecodeLeaseRecord(bytes, &info.granted_ttl_s));
  SnapshotView view(&snapshot);
  const auto [begin, end] = IndexValueRange(IndexName::kLeaseId, id, id);
  auto it = view.Scan(storage::Cf::kIndex, begin, end);
  for (; it->Valid(); it->Next()) {
    IndexEntry entry;
    ASPEN_RETURN_IF_ERROR(DecodeIndexKey(IndexName::kLeaseId, it->key(), &entry));
    std::optional<internal::StoredKv> kv;
    ASPEN_RETURN_IF_ERROR(internal::ReadLiveKv(view, entry.key, now_ms, &kv));
    if (kv.has_value()) info.keys.push_back(std::move(entry.key));
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  return info;
}

}  // namespace aspen::sm
