// Put and DeleteRange, plus the row helpers every command uses.
#include <algorithm>
#include <vector>

#include "sm/history.h"
#include "sm/index.h"
#include "sm/ops.h"

namespace aspen::sm::internal {

Status ReadKv(const KvView& view, std::string_view key, std::optional<StoredKv>* out) {
  std::string bytes;
  Status s = view.Get(storage::Cf::kKv, key, &bytes);
  if (s.code() == Code::kNotFound) {
    out->reset();
    return Status::Ok();
  }
  ASPEN_RETURN_IF_ERROR(s);
  StoredKv kv;
  std::string_view value;
  ASPEN_RETURN_IF_ERROR(DecodeKvRecord(bytes, &kv.meta, &value));
  kv.value = std::string(value);
  *out = std::move(kv);
  return Status::Ok();
}

Status ReadLiveKv(const KvView& view, std::string_view key, std::int64_t now_ms,
                  std::optional<StoredKv>* out) {
  ASPEN_RETURN_IF_ERROR(ReadKv(view, key, out));
  if (out->has_value() && (*out)->meta.ExpiredAt(now_ms)) out->reset();
  return Status::Ok();
}

Status ForEachLiveKv(const KvView& view, const KeyRange& range, std::int64_t now_ms,
                     const KvVisitor& fn) {
  if (range.Empty()) return Status::Ok();
  if (range.single_key) {
    std::optional<StoredKv> kv;
    ASPEN_RETURN_IF_ERROR(ReadLiveKv(view, range.begin, now_ms, &kv));
    if (kv.has_value()) fn(range.begin, kv->meta, kv->value);
    return Status::Ok();
  }
  std::optional<std::string_view> upper;
  if (range.end.has_value()) upper = *range.end;
  auto it = view.Scan(storage::Cf::kKv, range.begin, upper);
  for (; it->Valid(); it->Next()) {
    KvMeta meta;
    std::string_view value;
    ASPEN_RETURN_IF_ERROR(DecodeKvRecord(it->value(), &meta, &value));
    if (meta.ExpiredAt(now_ms)) continue;
    if (!fn(it->key(), meta, value)) break;
  }
  return it->status();
}

Status LeaseExists(const KvView& view, std::int64_t id, bool* exists) {
  std::string bytes;
  Status s = view.Get(storage::Cf::kLease, EncodeLeaseKey(id), &bytes);
  if (s.code() == Code::kNotFound) {
    *exists = false;
    return Status::Ok();
  }
  ASPEN_RETURN_IF_ERROR(s);
  std::int64_t ttl = 0;
  ASPEN_RETURN_IF_ERROR(DecodeLeaseRecord(bytes, &ttl));
  *exists = true;
  return Status::Ok();
}

void FillKv(std::string_view key, const KvMeta& meta, std::string_view value, bool keys_only,
            v1::KeyValue* out) {
  out->set_key(std::string(key));
  out->set_create_revision(meta.create_revision);
  out->set_mod_revision(meta.mod_revision);
  out->set_version(meta.version);
  if (!keys_only) out->set_value(std::string(value));
  out->set_lease(meta.lease);
  out->set_expires_at_ms(meta.expires_at_ms);
}

void WriteTxn::WriteKv(std::string_view key, const std::optional<StoredKv>& old, const KvMeta& meta,
                       std::string_view value) {
  ASPEN_ASSERT(meta.mod_revision == write_revision());
  const std::vector<std::string> new_rows = IndexKeysFor(key, meta);
  std::vector<std::string> old_rows;
  if (old.has_value()) old_rows = IndexKeysFor(key, old->meta);
  const auto has = [](const std::vector<std::string>& rows, const std::string& row) {
    return std::find(rows.begin(), rows.end(), row) != rows.end();
  };
  // Only rows that change are written: a row the old record already implies
  // is in the index (its invariant), and rewriting it would cost a memtable
  // insert per put (create_revision's row, on every overwrite).
  for (const std::string& row : old_rows) {
    if (!has(new_rows, row)) overlay_->Delete(storage::Cf::kIndex, row);
  }
  overlay_->Put(storage::Cf::kKv, key, EncodeKvRecord(meta, value));
  for (const std::string& row : new_rows) {
    if (!has(old_rows, row)) overlay_->Put(storage::Cf::kIndex, row, "");
  }
  HistoryEvent e;
  e.revision = write_revision();
  e.sub = next_sub_++;
  e.key = std::string(key);
  e.meta = meta;
  e.value = std::string(value);
  AddHistoryRows(overlay_, e);
  changed_ = true;
}

void WriteTxn::DeleteKv(std::string_view key, const KvMeta& old) {
  overlay_->Delete(storage::Cf::kKv, key);
  RemoveIndexRows(overlay_, key, old);
  HistoryEvent e;
  e.revision = write_revision();
  e.sub = next_sub_++;
  e.deleted = true;
  e.key = std::string(key);
  AddHistoryRows(overlay_, e);
  changed_ = true;
}

namespace {

Status CheckPutKey(const KvView& view, std::int64_t now_ms, const v1::PutRequest& req) {
  if (!req.ignore_value() && !req.ignore_lease()) return Status::Ok();
  std::optional<StoredKv> old;
  ASPEN_RETURN_IF_ERROR(ReadLiveKv(view, req.key(), now_ms, &old));
  if (!old.has_value()) return Status::InvalidArgument("key not found");
  return Status::Ok();
}

Status CheckPutLease(const KvView& view, const v1::PutRequest& req) {
  if (req.lease() == 0) return Status::Ok();
  bool exists = false;
  ASPEN_RETURN_IF_ERROR(LeaseExists(view, req.lease(), &exists));
  if (!exists) return Status::NotFound("lease not found");
  return Status::Ok();
}

}  // namespace

Status CheckPut(const KvView& view, std::int64_t now_ms, const v1::PutRequest& req,
                PutCheckOrder order) {
  if (order == PutCheckOrder::kLeaseFirst) {
    ASPEN_RETURN_IF_ERROR(CheckPutLease(view, req));
    return CheckPutKey(view, now_ms, req);
  }
  ASPEN_RETURN_IF_ERROR(CheckPutKey(view, now_ms, req));
  return CheckPutLease(view, req);
}

Status ExecPut(WriteTxn& txn, const v1::PutRequest& req, v1::PutResponse* resp) {
  std::optional<StoredKv> old;
  ASPEN_RETURN_IF_ERROR(ReadKv(txn.view(), req.key(), &old));
  const bool live = old.has_value() && !old->meta.ExpiredAt(txn.now_ms());
  // CheckPut ran before any write of this command.
  ASPEN_ASSERT(live || (!req.ignore_value() && !req.ignore_lease()));
  KvMeta meta;
  meta.mod_revision = txn.write_revision();
  meta.create_revision = live ? old->meta.create_revision : txn.write_revision();
  meta.version = live ? old->meta.version + 1 : 1;
  meta.lease = req.ignore_lease() ? old->meta.lease : req.lease();
  meta.expires_at_ms = req.ttl_ms() > 0 ? txn.now_ms() + req.ttl_ms() : 0;
  const std::string_view value = req.ignore_value() ? std::string_view(old->value) : req.value();
  if (req.prev_kv() && live)
    FillKv(req.key(), old->meta, old->value, false, resp->mutable_prev_kv());
  txn.WriteKv(req.key(), old, meta, value);
  resp->mutable_header()->set_revision(txn.revision());
  return Status::Ok();
}

Status ExecDeleteRange(WriteTxn& txn, const v1::DeleteRangeRequest& req,
                       v1::DeleteRangeResponse* resp) {
  const KeyRange range = MakeKeyRange(req.key(), req.range_end());
  // Collect first: the view must not change while it is iterated.
  std::vector<std::pair<std::string, KvMeta>> victims;
  ASPEN_RETURN_IF_ERROR(
      ForEachLiveKv(txn.view(), range, txn.now_ms(),
                    [&](std::string_view key, const KvMeta& meta, std::string_view value) {
                      victims.emplace_back(std::string(key), meta);
                      if (req.prev_kv()) FillKv(key, meta, value, false, resp->add_prev_kvs());
                      return true;
                    }));
  for (const auto& [key, meta] : victims) txn.DeleteKv(key, meta);
  resp->set_deleted(static_cast<std::int64_t>(victims.size()));
  resp->mutable_header()->set_revision(txn.revision());
  return Status::Ok();
}

}  // namespace aspen::sm::internal
