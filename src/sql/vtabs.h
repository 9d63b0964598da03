// Registration of Aspen's virtual tables and SQL functions on a connection.
// Both tables are eponymous-only (they exist in every connection as `kv` and
// `leases`, need no CREATE VIRTUAL TABLE, and cannot be created or written).
#pragma once

#include <sqlite3.h>

#include "sql/context.h"

namespace aspen::sql {

// `ctx` is not owned and must outlive the connection. Return SQLite codes.
int RegisterKvTable(sqlite3* db, QueryContext* ctx);
int RegisterLeasesTable(sqlite3* db, QueryContext* ctx);
int RegisterTupleFunctions(sqlite3* db);
// kv_at(R): the kv table at a past revision (kv_at_table.cc).
int RegisterKvAtTable(sqlite3* db, QueryContext* ctx);

// The schema each table declares (docs/SQL.md). kv is WITHOUT ROWID: a scan
// has no stable rowid to offer, and SQLite's OR-by-union plan (which merges
// scans by rowid) must not be used on it.
inline constexpr const char* kKvSchema =
    "CREATE TABLE kv(key, value, version INTEGER, create_revision INTEGER, "
    "mod_revision INTEGER, expires_at_ms INTEGER, lease_id INTEGER, key_bytes BLOB HIDDEN, "
    "PRIMARY KEY(key_bytes)) WITHOUT ROWID";
inline constexpr const char* kLeasesSchema =
    "CREATE TABLE leases(id INTEGER, ttl INTEGER, granted_ttl INTEGER, expires_at_ms INTEGER, "
    "key_count INTEGER)";

}  // namespace aspen::sql
