// The `kv` virtual table: SQLite glue around KvCursor (scans) and
// ChooseKvPlan (xBestIndex). Read-only: no xUpdate, so writes fail in SQLite.
#include <sqlite3.h>

#include <optional>

#include "sql/kv_cursor.h"
#include "sql/kv_plan.h"
#include "sql/vtab_module.h"
#include "sql/vtabs.h"

namespace aspen::sql {
namespace {

struct KvTable {
  static constexpr const char* kName = "kv";
  static constexpr const char* kSchema = kKvSchema;

  static int BestIndex(sqlite3_index_info* idx) {
    ChooseKvPlan(idx);
    return SQLITE_OK;
  }

  class Cursor {
   public:
    explicit Cursor(QueryContext* ctx) : cursor_(ctx) {}

    Status Filter(int, const char* idx_str, int argc, sqlite3_value** argv) {
      std::optional<KvPlan> plan = KvPlan::Decode(idx_str);
      if (!plan.has_value() || plan->args.size() != static_cast<std::size_t>(argc)) {
        return Status::Internal("kv: malformed scan plan");
      }
      return cursor_.Filter(*plan, argc, argv);
    }
    Status Next() { return cursor_.Next(); }
    bool Eof() const { return cursor_.Eof(); }
    Status Column(sqlite3_context* out, int col) {
      cursor_.Column(out, col);
      return Status::Ok();
    }
    std::int64_t Rowid() const { return cursor_.Rowid(); }

   private:
    KvCursor cursor_;
  };
};

}  // namespace

int RegisterKvTable(sqlite3* db, QueryContext* ctx) {
  return VtabModule<KvTable>::Register(db, ctx);
}

}  // namespace aspen::sql
