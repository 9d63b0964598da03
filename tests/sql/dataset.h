// Data sets for the SQL tests, written through sm's StateMachine (real
// commands: puts with TTLs and leases, overwrites, deletes, lease grants and
// revokes) into a MemStore, and a reference SQLite database that holds the
// same rows in ordinary tables, built from sm's own Range/Leases reads.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sm/sm_test_util.h"
#include "sql/engine.h"

namespace aspen::sql::testing {

// Query time of every data set: keys with expires_at_ms <= kNowMs are hidden.
inline constexpr std::int64_t kNowMs = 2'000'000;

struct Dataset {
  std::string name;
  std::unique_ptr<sm::testing::Harness> harness;  // owns the MemStore
};

// A hand-made set: UTF-8 and binary keys (invalid UTF-8, embedded NULs, tuple
// keys), LIKE/GLOB wildcard characters in keys, JSON/text/binary values,
// expired and live TTLs, three leases (one revoked), overwrites and deletes.
Dataset MixedDataset();
// `n` pseudo-random keys from a fixed seed with the same ingredients.
Dataset RandomDataset(std::uint32_t seed, int n);
// Keys that are FoundationDB tuples ("users", id, field) and ("orders", id).
Dataset TupleDataset();

// An in-memory SQLite database with ordinary tables kv(key, value, version,
// create_revision, mod_revision, expires_at_ms, lease_id, key_bytes) and
// leases(id, ttl, granted_ttl, expires_at_ms, key_count) holding the live
// rows of `snapshot` at kNowMs, the tuple functions, and case_sensitive_like.
// Aborts the test (ADD_FAILURE + nullptr) on failure.
struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using SqliteDb = std::unique_ptr<sqlite3, SqliteCloser>;
SqliteDb MaterializeReference(const storage::Snapshot& snapshot);

// Runs `sql` on a plain SQLite connection with `params` (same binding rules
// as Engine); returns the rows, or the error message in *error.
std::vector<Row> RunReference(sqlite3* db, const std::string& sql, const Params& params,
                              std::string* error);

}  // namespace aspen::sql::testing
