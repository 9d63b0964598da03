// LeaseGrant and LeaseRevoke. Only what must be replicated lives here: the
// lease's id and granted TTL, and which keys are attached (the lease_id
// index). Keep-alive and expiry timing belong to the node.
#include <vector>

#include "sm/index.h"
#include "sm/ops.h"

namespace aspen::sm::internal {

Status ExecLeaseGrant(Overlay* overlay, std::int64_t revision, const v1::LeaseGrantRequest& req,
                      v1::LeaseGrantResponse* resp) {
  bool exists = false;
  ASPEN_RETURN_IF_ERROR(LeaseExists(*overlay, req.id(), &exists));
  if (exists) return Status::FailedPrecondition("lease already exists");
  overlay->Put(storage::Cf::kLease, EncodeLeaseKey(req.id()), EncodeLeaseRecord(req.ttl()));
  resp->mutable_header()->set_revision(revision);
  resp->set_id(req.id());
  resp->set_ttl(req.ttl());
  return Status::Ok();
}

Status ExecLeaseRevoke(WriteTxn& txn, const v1::LeaseRevokeRequest& req,
                       v1::LeaseRevokeResponse* resp) {
  bool exists = false;
  ASPEN_RETURN_IF_ERROR(LeaseExists(txn.view(), req.id(), &exists));
  if (!exists) return Status::NotFound("lease not found");
  // Collect the attached keys first: the view must not change while iterated.
  std::vector<std::string> keys;
  const auto [begin, end] = IndexValueRange(IndexName::kLeaseId, req.id(), req.id());
  auto it = txn.view().Scan(storage::Cf::kIndex, begin, end);
  for (; it->Valid(); it->Next()) {
    IndexEntry entry;
    ASPEN_RETURN_IF_ERROR(DecodeIndexKey(IndexName::kLeaseId, it->key(), &entry));
    if (entry.value != req.id()) return Status::Corruption("lease_id index row out of its range");
    keys.push_back(std::move(entry.key));
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  // Every attached key goes, expired or not, in this one revision.
  for (const std::string& key : keys) {
    std::optional<StoredKv> kv;
    ASPEN_RETURN_IF_ERROR(ReadKv(txn.view(), key, &kv));
    if (!kv.has_value() || kv->meta.lease != req.id()) {
      return Status::Corruption("lease_id index names a key that is not attached to the lease");
    }
    txn.DeleteKv(key, kv->meta);
  }
  txn.overlay()->Delete(storage::Cf::kLease, EncodeLeaseKey(req.id()));
  resp->mutable_header()->set_revision(txn.revision());
  return Status::Ok();
}

}  // namespace aspen::sm::internal
