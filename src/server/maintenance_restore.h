// `aspen snapshot restore`: a new cluster's data dir from a backup, as
// `etcdutl snapshot restore` builds one.
//
// The member's identity comes from the flags (a new cluster id from the
// token and the members, as for a new cluster); the state CFs come from the
// snapshot, so keys, revisions and leases are preserved; alarms are dropped
// (they named the old cluster's members). The Raft log starts empty at the
// snapshot's applied index and term, with the new members as voters, so every
// restored member starts from the same point and `aspen serve` on the dir
// elects a leader and continues at the next index.
//
// Everything is built in "<data-dir>.restore-tmp" and renamed into place at
// the end: a failed restore leaves no data dir behind.
#pragma once

#include <string>

#include "base/status.h"
#include "server/config.h"
#include "storage/snapshot.h"

namespace aspen::server {

struct RestoreReport {
  Identity identity;
  storage::SnapshotSummary snapshot;
};

// `config` needs name, data_dir, initial_cluster, initial_advertise_peer_urls
// (or listen_peer_urls) and initial_cluster_token. FailedPrecondition when the
// data dir exists and is not empty; the snapshot's own errors (NotFound,
// Corruption naming the fault) as is; InvalidArgument for bad flags.
Result<RestoreReport> RestoreSnapshot(const std::string& snapshot_path, const ServeConfig& config);

}  // namespace aspen::server
