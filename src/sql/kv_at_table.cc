// `kv_at(R)`: the kv table as it was at revision R, read from the MVCC
// history (sm/history.h), as an eponymous table-valued function:
//
//   SELECT key, value, mod_revision FROM kv_at(42) WHERE key LIKE 'app/%';
//
// Same columns as `kv` (docs/SQL.md) plus the hidden argument `rev`. R below
// the compacted revision is "mvcc: required revision has been compacted", R
// above the current one "mvcc: required revision is a future revision". The
// rows come from one sm::Range at R (every key, in key order) on the query's
// snapshot, so they are consistent; more than limits::kMaxSqlRows live keys
// at R is an error naming the limit (filters run in SQLite, after the read).
#include <sqlite3.h>

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

#include "base/limits.h"
#include "sm/reads.h"
#include "sql/key_space.h"
#include "sql/vtab_module.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

enum Column { kKey = 0, kValue, kVersion, kCreate, kMod, kExpires, kLease, kRev };

void ResultBytes(sqlite3_context* out, const std::string& bytes) {
  const int n = static_cast<int>(bytes.size());
  if (ClassOfKey(bytes) == KeyClass::kText) {
    sqlite3_result_text(out, bytes.data(), n, SQLITE_TRANSIENT);
  } else {
    sqlite3_result_blob(out, bytes.data(), n, SQLITE_TRANSIENT);
  }
}

void ResultNonZero(sqlite3_context* out, std::int64_t v) {
  if (v == 0) {
    sqlite3_result_null(out);
  } else {
    sqlite3_result_int64(out, v);
  }
}

struct KvAtTable {
  static constexpr const char* kName = "kv_at";
  static constexpr const char* kSchema =
      "CREATE TABLE kv_at(key, value, version INTEGER, create_revision INTEGER, "
      "mod_revision INTEGER, expires_at_ms INTEGER, lease_id INTEGER, rev HIDDEN)";

  // The revision argument is the only constraint taken; idxNum 1 = present.
  static int BestIndex(sqlite3_index_info* idx) {
    for (int i = 0; i < idx->nConstraint; ++i) {
      const auto& con = idx->aConstraint[i];
      if (con.iColumn != kRev || con.op != SQLITE_INDEX_CONSTRAINT_EQ) continue;
      if (!con.usable) return SQLITE_CONSTRAINT;  // try a plan where it is
      idx->aConstraintUsage[i].argvIndex = 1;
      idx->aConstraintUsage[i].omit = 1;
      idx->idxNum = 1;
      idx->estimatedCost = 1000;
      return SQLITE_OK;
    }
    idx->idxNum = 0;
    idx->estimatedCost = 1e12;
    return SQLITE_OK;
  }

  class Cursor : public RowsCursor<sm::v1::KeyValue> {
   public:
    explicit Cursor(QueryContext* ctx) : ctx_(ctx) {}

    Status Filter(int idx_num, const char*, int argc, sqlite3_value** argv) {
      Reset();
      if (idx_num != 1 || argc != 1 || sqlite3_value_type(argv[0]) != SQLITE_INTEGER ||
          sqlite3_value_int64(argv[0]) < 1) {
        return Status::InvalidArgument(
            "kv_at: needs a revision >= 1 as its argument, as in SELECT * FROM kv_at(42)");
      }
      rev_ = sqlite3_value_int64(argv[0]);
      sm::v1::RangeRequest req;
      req.set_key(std::string(1, '\0'));
      req.set_range_end(std::string(1, '\0'));
      req.set_revision(rev_);
      req.set_limit(static_cast<std::int64_t>(limits::kMaxSqlRows) + 1);
      Result<sm::v1::RangeResponse> r = sm::Range(*ctx_->snapshot, req, ctx_->now_ms);
      if (!r.ok()) return Status(r.status().code(), "kv_at: " + r.status().message());
      if (r->more()) {
        return Status::ResourceExhausted(
            "kv_at(" + std::to_string(rev_) + "): more than limits::kMaxSqlRows (" +
            std::to_string(limits::kMaxSqlRows) + ") keys at that revision");
      }
      ctx_->counters.kv_rows_read += static_cast<std::uint64_t>(r->kvs_size());
      rows_.assign(std::make_move_iterator(r->mutable_kvs()->begin()),
                   std::make_move_iterator(r->mutable_kvs()->end()));
      return Status::Ok();
    }
    Status Column(sqlite3_context* out, int col) {
      const sm::v1::KeyValue& kv = row();
      ++ctx_->counters.rows_produced;
      switch (col) {
        case kKey: ResultBytes(out, kv.key()); break;
        case kValue: ResultBytes(out, kv.value()); break;
        case kVersion: sqlite3_result_int64(out, kv.version()); break;
        case kCreate: sqlite3_result_int64(out, kv.create_revision()); break;
        case kMod: sqlite3_result_int64(out, kv.mod_revision()); break;
        case kExpires: ResultNonZero(out, kv.expires_at_ms()); break;
        case kLease: ResultNonZero(out, kv.lease()); break;
        case kRev: sqlite3_result_int64(out, rev_); break;
        default: sqlite3_result_null(out); break;
      }
      return Status::Ok();
    }
    std::int64_t Rowid() const { return static_cast<std::int64_t>(pos_); }

   private:
    QueryContext* ctx_;
    std::int64_t rev_ = 0;
  };
};

}  // namespace

int RegisterKvAtTable(sqlite3* db, QueryContext* ctx) {
  return VtabModule<KvAtTable>::Register(db, ctx);
}

}  // namespace aspen::sql
