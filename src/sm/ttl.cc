// ExpireKeys: the leader's bounded batches of TTL deletions. A key is deleted
// only if, at the command's now_ms, it still has the mod_revision the leader
// saw and is still expired, so a key rewritten after the leader looked stays.
#include "sm/ops.h"

namespace aspen::sm::internal {

Status ExecExpireKeys(WriteTxn& txn, const v1::ExpireKeysRequest& req,
                      v1::ExpireKeysResponse* resp) {
  std::int64_t deleted = 0;
  for (const v1::ExpiringKey& k : req.keys()) {
    std::optional<StoredKv> kv;
    ASPEN_RETURN_IF_ERROR(ReadKv(txn.view(), k.key(), &kv));
    if (!kv.has_value() || kv->meta.mod_revision != k.mod_revision() ||
        !kv->meta.ExpiredAt(txn.now_ms())) {
      continue;
    }
    txn.DeleteKv(k.key(), kv->meta);
    ++deleted;
  }
  resp->set_deleted(deleted);
  resp->mutable_header()->set_revision(txn.revision());
  return Status::Ok();
}

}  // namespace aspen::sm::internal
