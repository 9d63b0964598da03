// Internal: the building blocks of Apply and of the reads, shared by
// kv_ops.cc, txn.cc, lease.cc, ttl.cc and range.cc. Not part of the public API.
//
// Error discipline: a function that writes returns a user error (any code but
// the fatal ones below) only before its first write, so a failed command
// leaves no trace. Fatal errors (storage I/O, corruption) abort the whole
// Apply call.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "sm/record.h"
#include "sm/validate.h"
#include "sm/view.h"

namespace aspen::sm::internal {

// Storage faults and broken invariants: they stop Apply instead of becoming
// an error response.
inline bool IsFatal(const Status& s) {
  return s.code() == Code::kCorruption || s.code() == Code::kIOError || s.code() == Code::kInternal;
}

struct StoredKv {
  KvMeta meta;
  std::string value;
};

// The row of `key` as stored (expired or not); nullopt when absent.
Status ReadKv(const KvView& view, std::string_view key, std::optional<StoredKv>* out);
// The row of `key` if it exists and is not expired at now_ms.
Status ReadLiveKv(const KvView& view, std::string_view key, std::int64_t now_ms,
                  std::optional<StoredKv>* out);
// Calls fn(key, meta, value) for each key in `range` not expired at now_ms, in
// key order, until fn returns false.
using KvVisitor =
    std::function<bool(std::string_view key, const KvMeta& meta, std::string_view value)>;
Status ForEachLiveKv(const KvView& view, const KeyRange& range, std::int64_t now_ms,
                     const KvVisitor& fn);
// Whether lease `id` exists.
Status LeaseExists(const KvView& view, std::int64_t id, bool* exists);

void FillKv(std::string_view key, const KvMeta& meta, std::string_view value, bool keys_only,
            v1::KeyValue* out);

// One write transaction of etcd's mvcc: every change it makes carries
// mod_revision = base_revision + 1, and the global revision moves to that
// value only if something changed.
class WriteTxn {
 public:
  WriteTxn(Overlay* overlay, std::int64_t base_revision, std::int64_t now_ms,
           std::int64_t compact_revision)
      : overlay_(overlay),
        base_revision_(base_revision),
        now_ms_(now_ms),
        compact_revision_(compact_revision) {}

  const KvView& view() const { return *overlay_; }
  Overlay* overlay() { return overlay_; }
  std::int64_t now_ms() const { return now_ms_; }
  std::int64_t base_revision() const { return base_revision_; }
  // Reads below it are refused (history was compacted).
  std::int64_t compact_revision() const { return compact_revision_; }
  std::int64_t write_revision() const { return base_revision_ + 1; }
  // The revision a read inside this transaction reports.
  std::int64_t revision() const { return changed_ ? base_revision_ + 1 : base_revision_; }
  bool changed() const { return changed_; }

  // Writes `key` (replacing `old`, the stored row if any), its index rows and
  // its history rows (sm/history.h).
  void WriteKv(std::string_view key, const std::optional<StoredKv>& old, const KvMeta& meta,
               std::string_view value);
  // Deletes `key` (whose stored row is `old`) and its index rows, and records
  // the deletion in the history.
  void DeleteKv(std::string_view key, const KvMeta& old);

 private:
  Overlay* overlay_;
  std::int64_t base_revision_;
  std::int64_t now_ms_;
  std::int64_t compact_revision_;
  std::uint32_t next_sub_ = 0;  // position of the next change inside write_revision()
  bool changed_ = false;
};

// kv_ops.cc
// The checks of a Put that need state: `key not found` for ignore_value /
// ignore_lease on a missing key, `lease not found` for an unknown lease. etcd
// checks the lease first for a plain Put and last for a Put inside a Txn.
enum class PutCheckOrder { kLeaseFirst, kKeyFirst };
Status CheckPut(const KvView& view, std::int64_t now_ms, const v1::PutRequest& req,
                PutCheckOrder order);
Status ExecPut(WriteTxn& txn, const v1::PutRequest& req, v1::PutResponse* resp);
Status ExecDeleteRange(WriteTxn& txn, const v1::DeleteRangeRequest& req,
                       v1::DeleteRangeResponse* resp);

// txn.cc
Status ExecTxn(WriteTxn& txn, const v1::TxnRequest& req, v1::TxnResponse* resp);

// lease.cc
Status ExecLeaseGrant(Overlay* overlay, std::int64_t revision, const v1::LeaseGrantRequest& req,
                      v1::LeaseGrantResponse* resp);
Status ExecLeaseRevoke(WriteTxn& txn, const v1::LeaseRevokeRequest& req,
                       v1::LeaseRevokeResponse* resp);

// ttl.cc
Status ExecExpireKeys(WriteTxn& txn, const v1::ExpireKeysRequest& req,
                      v1::ExpireKeysResponse* resp);

// range.cc
// Like ForEachLiveKv, but the state at revision `at` from the history.
Status ForEachVersionAt(const KvView& view, const KeyRange& range, std::int64_t at,
                        std::int64_t now_ms, const KvVisitor& fn);
struct RangePlanOptions {
  bool allow_index = true;  // false forces a scan of Cf::kKv (tests compare both plans)
};
// Checks the requested revision against current_revision and
// compact_revision (etcd's checkRange).
Status CheckRangeRevision(const v1::RangeRequest& req, std::int64_t current_revision,
                          std::int64_t compact_revision);
// A revision below current_revision is read from the history.
Status ExecRange(const KvView& view, std::int64_t current_revision, std::int64_t compact_revision,
                 std::int64_t now_ms, const v1::RangeRequest& req, const RangePlanOptions& options,
                 v1::RangeResponse* resp);

}  // namespace aspen::sm::internal
