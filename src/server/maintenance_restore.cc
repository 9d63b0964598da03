#include "server/maintenance_restore.h"

#include <filesystem>
#include <memory>

#include "node/raft_storage.h"
#include "sm/alarm.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"

namespace aspen::server {

namespace {

namespace fs = std::filesystem;

// Ingests the snapshot into dir/db and makes its raft state a fresh log at
// the snapshot's position with `identity`'s members as voters.
Status BuildDb(storage::ByteSource* source, const std::string& dir, const Identity& identity,
               storage::SnapshotSummary* summary) {
  Result<std::unique_ptr<storage::RocksStore>> opened = storage::RocksStore::Open(dir + "/db");
  if (!opened.ok()) return opened.status();
  storage::RocksStore* store = opened->get();
  Result<storage::SnapshotSummary> ingested = store->IngestStateSnapshotSst(source);
  if (!ingested.ok()) return ingested.status();
  *summary = *ingested;

  storage::WriteBatch batch;
  Result<std::vector<sm::v1::AlarmMember>> alarms = sm::Alarms(*store->GetSnapshot());
  if (!alarms.ok()) return alarms.status();
  for (const sm::v1::AlarmMember& a : *alarms) {
    batch.Delete(storage::Cf::kMeta, sm::EncodeAlarmKey(a.member_id(), a.alarm()));
  }
  const storage::SnapshotHeader& h = summary->header;
  if (h.applied_index > 0) {
    Result<std::unique_ptr<storage::LogStore>> log = storage::LogStore::Open(store);
    if (!log.ok()) return log.status();
    raft::pb::ConfState cs;
    for (const MemberEntry& m : identity.members) cs.add_voters(m.id);
    storage::SnapshotMeta meta;
    meta.index = h.applied_index;
    meta.term = h.applied_term;
    meta.conf_state = node::EncodeConfState(cs);
    ASPEN_RETURN_IF_ERROR((*log)->ApplySnapshotToBatch(&batch, meta));
    (*log)->SetConfState(&batch, meta.conf_state);
    (*log)->SetHardState(&batch, storage::HardState{h.applied_term, 0, h.applied_index});
  }
  return store->Write(batch, /*sync=*/true);
}

}  // namespace

Result<RestoreReport> RestoreSnapshot(const std::string& snapshot_path, const ServeConfig& config) {
  ASPEN_RETURN_IF_ERROR(ValidateConfig(config));
  std::error_code ec;
  if (fs::exists(config.data_dir, ec) && !fs::is_empty(config.data_dir, ec)) {
    return Status::FailedPrecondition("--data-dir " + config.data_dir +
                                      " exists and is not empty: restore into a new directory");
  }
  Result<Identity> identity = NewIdentity(config);
  if (!identity.ok()) return identity.status();
  Result<std::unique_ptr<storage::FileSource>> source = storage::FileSource::Open(snapshot_path);
  if (!source.ok()) return source.status();

  const std::string tmp = config.data_dir + ".restore-tmp";
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) return Status::IOError("cannot create " + tmp + ": " + ec.message());
  RestoreReport report;
  report.identity = *identity;
  Status s = BuildDb(source->get(), tmp, *identity, &report.snapshot);
  if (s.ok()) s = WriteIdentity(tmp, *identity);
  if (s.ok()) {
    fs::remove(config.data_dir, ec);  // an empty directory, if any
    fs::rename(tmp, config.data_dir, ec);
    if (ec) {
      s = Status::IOError("cannot rename " + tmp + " to " + config.data_dir + ": " + ec.message());
    }
  }
  if (!s.ok()) {
    fs::remove_all(tmp, ec);
    return s;
  }
  return report;
}

}  // namespace aspen::server
