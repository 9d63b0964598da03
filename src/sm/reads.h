// Reads of the state machine from a storage::Snapshot. Each call sees one
// consistent state: the snapshot's. The current revision is the one stored
// in the snapshot's meta rows. Expired TTL keys are hidden as of the
// caller's now_ms (ms since the Unix epoch).
//
// Thread safety: any thread, concurrently with Apply, as long as the snapshot
// lives. Errors: InvalidArgument/OutOfRange/Unimplemented for bad requests,
// Corruption/IOError from storage.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "storage/store.h"

namespace aspen::sm {

struct AppliedState {
  std::uint64_t applied_index = 0;
  std::int64_t revision = 0;
  std::int64_t compact_revision = 0;  // 0: never compacted
};
Result<AppliedState> ReadAppliedState(const storage::Snapshot& snapshot);

struct RangeOptions {
  // false forces a scan of the kv rows even when a revision index would serve
  // the filter; the answer is the same (tests compare the two plans).
  bool allow_index = true;
};
// etcd's Range. revision 0 = current; an older revision is read from the
// history (sm/history.h); below the compact revision -> OutOfRange ("mvcc:
// required revision has been compacted"); a newer one -> OutOfRange ("mvcc:
// required revision is a future revision").
Result<v1::RangeResponse> Range(const storage::Snapshot& snapshot, const v1::RangeRequest& request,
                                std::int64_t now_ms, const RangeOptions& options = {});

// Up to `max` (capped at limits::kMaxExpiryBatchKeys) keys expired at now_ms,
// earliest expiry first, each with the mod_revision to put in ExpireKeys.
Result<std::vector<v1::ExpiringKey>> ExpiredKeys(const storage::Snapshot& snapshot,
                                                 std::int64_t now_ms, std::size_t max);

struct LeaseInfo {
  std::int64_t id = 0;
  std::int64_t granted_ttl_s = 0;
  std::vector<std::string> keys;  // attached keys, in key order (TimeToLive only)
};
// Every lease, in id order (as unsigned 64-bit), without keys.
Result<std::vector<LeaseInfo>> Leases(const storage::Snapshot& snapshot);
// One lease with its attached keys that are not expired at now_ms; NotFound
// ("lease not found") when it does not exist.
Result<LeaseInfo> LeaseTimeToLive(const storage::Snapshot& snapshot, std::int64_t id,
                                  std::int64_t now_ms);

// etcd's HashKV: SHA-256 over every kv row in key order (length-prefixed key
// and encoded record), so replicas at the same applied index agree byte for
// byte. hash32 is the first 4 bytes, big-endian, for etcd's uint32 field.
struct KvHash {
  std::int64_t revision = 0;
  std::array<std::uint8_t, 32> sha256{};
  std::uint32_t hash32 = 0;
};
Result<KvHash> HashKV(const storage::Snapshot& snapshot);

// HashKV as of revision `at` (etcd's HashKV with a revision): the same digest
// over the keys live at `at`, rebuilt from the MVCC history, so members agree
// at any revision they all still keep. `at` <= 0 or = the current revision
// hashes the current rows. OutOfRange "mvcc: required revision has been
// compacted" below the compact revision, "mvcc: required revision is a future
// revision" above the current one. compact_revision is etcd's answer field.
struct KvHashAt {
  KvHash hash;
  std::int64_t at = 0;  // the revision hashed
  std::int64_t compact_revision = 0;
};
Result<KvHashAt> HashKVAt(const storage::Snapshot& snapshot, std::int64_t at);

}  // namespace aspen::sm
