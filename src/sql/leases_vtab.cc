// The `leases` virtual table: one row per lease of the state machine.
//
//   id           the lease id
//   granted_ttl  the TTL (seconds) it was granted with
//   ttl          seconds left when the node knows the expiry (EngineOptions::
//                lease_expiry, the leader's lease keeper), else granted_ttl
//                (what a new leader would grant it: etcd extends every lease
//                by its TTL on a leader change)
//   expires_at_ms  the known expiry, NULL when the state machine cannot know it
//   key_count    attached keys that are not expired at the query's now_ms
//
// `id = v` (and id ranges) are enforced here; the rest is left to SQLite.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sm/reads.h"
#include "sql/kv_cursor.h"
#include "sql/vtab_module.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

enum LeaseColumn { kColId = 0, kColTtl, kColGrantedTtl, kColLeaseExpiresAt, kColKeyCount };

struct LeasesTable {
  static constexpr const char* kName = "leases";
  static constexpr const char* kSchema = kLeasesSchema;

  // idxStr: one ArgOp character per argv, all on `id`.
  static int BestIndex(sqlite3_index_info* idx) {
    std::string ops;
    for (int i = 0; i < idx->nConstraint; ++i) {
      const auto& con = idx->aConstraint[i];
      if (!con.usable || con.iColumn != kColId) continue;
      char op = 0;
      switch (con.op) {
        case SQLITE_INDEX_CONSTRAINT_EQ: op = static_cast<char>(ArgOp::kEq); break;
        case SQLITE_INDEX_CONSTRAINT_GT: op = static_cast<char>(ArgOp::kGt); break;
        case SQLITE_INDEX_CONSTRAINT_GE: op = static_cast<char>(ArgOp::kGe); break;
        case SQLITE_INDEX_CONSTRAINT_LT: op = static_cast<char>(ArgOp::kLt); break;
        case SQLITE_INDEX_CONSTRAINT_LE: op = static_cast<char>(ArgOp::kLe); break;
        default: continue;
      }
      if (op == static_cast<char>(ArgOp::kEq) && sqlite3_vtab_in(idx, i, -1)) continue;
      ops.push_back(op);
      idx->aConstraintUsage[i].argvIndex = static_cast<int>(ops.size());
      idx->aConstraintUsage[i].omit = 1;
    }
    const bool eq = ops.find(static_cast<char>(ArgOp::kEq)) != std::string::npos;
    idx->idxStr = sqlite3_mprintf("%s", ops.c_str());
    idx->needToFreeIdxStr = 1;
    idx->estimatedRows = eq ? 1 : 1000;
    idx->estimatedCost = eq ? 5 : 1000;
    if (eq) idx->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    return SQLITE_OK;
  }

  class Cursor : public RowsCursor<sm::LeaseInfo> {
   public:
    explicit Cursor(QueryContext* ctx) : ctx_(ctx) {}

    Status Filter(int, const char* idx_str, int argc, sqlite3_value** argv) {
      Reset();
      const std::string_view ops = idx_str == nullptr ? "" : idx_str;
      if (ops.size() != static_cast<std::size_t>(argc)) {
        return Status::Internal("leases: malformed scan plan");
      }
      std::int64_t lo = INT64_MIN, hi = INT64_MAX;
      for (int i = 0; i < argc; ++i) {
        if (!NarrowIntRange(ToCmpOp(static_cast<ArgOp>(ops[static_cast<std::size_t>(i)])), argv[i],
                            &lo, &hi)) {
          return Status::Ok();  // nothing can match
        }
      }
      Result<std::vector<sm::LeaseInfo>> all = sm::Leases(*ctx_->snapshot);
      if (!all.ok()) return all.status();
      for (sm::LeaseInfo& info : *all) {
        ++ctx_->counters.lease_rows_read;
        if (info.id >= lo && info.id <= hi) rows_.push_back(std::move(info));
      }
      return Status::Ok();
    }
    Status Column(sqlite3_context* out, int col) {
      const sm::LeaseInfo& lease = row();
      std::optional<std::int64_t> expiry;
      if ((col == kColTtl || col == kColLeaseExpiresAt) && ctx_->lease_expiry) {
        expiry = ctx_->lease_expiry(lease.id);
      }
      switch (col) {
        case kColId: sqlite3_result_int64(out, lease.id); break;
        case kColGrantedTtl: sqlite3_result_int64(out, lease.granted_ttl_s); break;
        case kColTtl:
          if (expiry.has_value()) {
            const std::int64_t left_ms = std::max<std::int64_t>(0, *expiry - ctx_->now_ms);
            sqlite3_result_int64(out, (left_ms + 999) / 1000);
          } else {
            sqlite3_result_int64(out, lease.granted_ttl_s);
          }
          break;
        case kColLeaseExpiresAt:
          if (expiry.has_value()) {
            sqlite3_result_int64(out, *expiry);
          } else {
            sqlite3_result_null(out);
          }
          break;
        case kColKeyCount: {
          Result<sm::LeaseInfo> live = sm::LeaseTimeToLive(*ctx_->snapshot, lease.id, ctx_->now_ms);
          if (!live.ok()) return live.status();
          sqlite3_result_int64(out, static_cast<std::int64_t>(live->keys.size()));
          break;
        }
        default: sqlite3_result_null(out); break;
      }
      return Status::Ok();
    }
    std::int64_t Rowid() const { return row().id; }

   private:
    QueryContext* ctx_;
  };
};

}  // namespace

int RegisterLeasesTable(sqlite3* db, QueryContext* ctx) {
  return VtabModule<LeasesTable>::Register(db, ctx);
}

}  // namespace aspen::sql
