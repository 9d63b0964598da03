#include "sql/dataset.h"

#include <random>

#include "sm/reads.h"
#include "sql/statement.h"
#include "sql/vtabs.h"
#include "tuple/tuple.h"
#include "tuple/utf8.h"

namespace aspen::sql::testing {
namespace {

using sm::testing::DelCmd;
using sm::testing::GrantCmd;
using sm::testing::Harness;
using sm::testing::PutCmd;
using sm::testing::RevokeCmd;

// Applies at `now_ms` and expects success.
void Do(Harness* h, sm::v1::Command c, std::int64_t now_ms) {
  h->now_ms = now_ms;
  const sm::v1::Response r = h->Apply(std::move(c));
  EXPECT_EQ(r.error().code(), 0) << r.error().message();
}

std::string Bin(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

}  // namespace

Dataset MixedDataset() {
  Dataset d{"mixed", std::make_unique<Harness>()};
  Harness* h = d.harness.get();
  std::int64_t t = 1'000'000;
  Do(h, GrantCmd(7, 60), t);
  Do(h, GrantCmd(8, 120), t);
  Do(h, GrantCmd(9, 30), t);
  const std::vector<std::string> keys = {"a",
                                         "A",
                                         "ab",
                                         "abc",
                                         "abd",
                                         "ab%c",
                                         "ab_c",
                                         "a*b",
                                         "a?b",
                                         "a[b]",
                                         "b",
                                         "ba",
                                         "B",
                                         "user/0001",
                                         "user/0002",
                                         "user/0010",
                                         "user/0100",
                                         "user/1000",
                                         "users",
                                         "userz",
                                         "z",
                                         "zz",
                                         "~",
                                         "key with space",
                                         "ключ/1",
                                         "ключ/2",
                                         "日本/東京",
                                         "emoji/😀",
                                         std::string("nul\0inside", 10),
                                         std::string("a\0", 2),
                                         "'quote'",
                                         "%",
                                         "_",
                                         Bin({0xff}),
                                         Bin({0xff, 0x00}),
                                         Bin({0x80, 'a'}),
                                         Bin({'a', 0xff}),
                                         Bin({'a', 'b', 0xc0}),
                                         Bin({0x00}),
                                         Bin({0x01, 0x02}),
                                         Bin({0xc3, 0x28}),
                                         Bin({'u', 's', 'e', 'r', '/', 0xfe}),
                                         tuple::Tuple().Add("users").Add(300).Pack(),
                                         tuple::Tuple().Add("users").Add(-5).Pack(),
                                         tuple::Tuple().AddBytes(Bin({0xff, 0xfe})).Pack()};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    t += 10;
    std::string value;
    switch (i % 5) {
      case 0:
        value = R"({"n":)" + std::to_string(i) + R"(,"tag":"t)" + std::to_string(i % 3) + "\"}";
        break;
      case 1: value = "text value " + std::to_string(i); break;
      case 2: value = Bin({0xde, 0xad, static_cast<int>(i), 0xff}); break;
      case 3:
        value = R"({"n":)" + std::to_string(i) + R"(,"list":[1,2,3],"nested":{"x":true}})";
        break;
      default: value = ""; break;
    }
    const std::int64_t lease = i % 7 == 0 ? 7 : i % 11 == 0 ? 8 : i % 13 == 0 ? 9 : 0;
    // Some TTLs already passed at kNowMs (hidden), some still ahead.
    const std::int64_t ttl_ms = i % 6 == 1 ? 500'000 : i % 6 == 4 ? 5'000'000 : 0;
    Do(h, PutCmd(keys[i], value, lease, ttl_ms), t);
  }
  // Overwrites bump version and mod_revision; one delete; a revoke deletes
  // lease 9's keys.
  for (const char* k : {"ab", "user/0002", "b", "ab"}) {
    t += 10;
    Do(h, PutCmd(k, R"({"n":99,"tag":"overwritten"})"), t);
  }
  t += 10;
  Do(h, DelCmd("abd"), t);
  t += 10;
  Do(h, RevokeCmd(9), t);
  return d;
}

Dataset RandomDataset(std::uint32_t seed, int n) {
  Dataset d{"random-" + std::to_string(seed), std::make_unique<Harness>()};
  Harness* h = d.harness.get();
  std::mt19937 rng(seed);
  std::int64_t t = 1'000'000;
  Do(h, GrantCmd(1, 100), t);
  Do(h, GrantCmd(2, 200), t);
  const std::string alphabet = "abAB_%*?[]/z";
  for (int i = 0; i < n; ++i) {
    std::string key;
    const int len = 1 + static_cast<int>(rng() % 6);
    for (int j = 0; j < len; ++j) {
      if (rng() % 8 == 0) {
        key.push_back(static_cast<char>(rng() % 256));  // often invalid UTF-8
      } else {
        key.push_back(alphabet[rng() % alphabet.size()]);
      }
    }
    std::string value = rng() % 3 == 0 ? Bin({static_cast<int>(rng() % 256), 0xff})
                                       : R"({"v":)" + std::to_string(rng() % 50) + "}";
    const std::int64_t lease = rng() % 5 == 0 ? 1 + static_cast<std::int64_t>(rng() % 2) : 0;
    const std::int64_t ttl_ms = rng() % 4 == 0 ? static_cast<std::int64_t>(rng() % 2'000'000) : 0;
    t += 1 + static_cast<std::int64_t>(rng() % 5);
    if (rng() % 10 == 0) {
      Do(h, DelCmd(key), t);
    } else {
      Do(h, PutCmd(key, value, lease, ttl_ms), t);
    }
  }
  return d;
}

Dataset TupleDataset() {
  Dataset d{"tuple", std::make_unique<Harness>()};
  Harness* h = d.harness.get();
  std::int64_t t = 1'000'000;
  for (int id = -3; id < 40; ++id) {
    for (const char* field : {"name", "email"}) {
      t += 1;
      Do(h,
         PutCmd(tuple::Tuple().Add("users").Add(id).Add(field).Pack(),
                std::string(field) + "-" + std::to_string(id)),
         t);
    }
    t += 1;
    Do(h,
       PutCmd(tuple::Tuple().Add("orders").Add(id * 1000).Pack(),
              R"({"user":)" + std::to_string(id) + R"(,"total":)" + std::to_string(id * 7 % 100) +
                  "}"),
       t);
  }
  return d;
}

namespace {

void Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << (err ? err : "?");
    sqlite3_free(err);
  }
}

void BindBytes(sqlite3_stmt* s, int i, const std::string& b, bool as_text_if_utf8) {
  if (as_text_if_utf8 && tuple::IsValidUtf8(b)) {
    sqlite3_bind_text64(s, i, b.data(), b.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  } else {
    sqlite3_bind_blob64(s, i, b.data(), b.size(), SQLITE_TRANSIENT);
  }
}

void BindIntOrNull(sqlite3_stmt* s, int i, std::int64_t v) {
  if (v == 0) {
    sqlite3_bind_null(s, i);
  } else {
    sqlite3_bind_int64(s, i, v);
  }
}

}  // namespace

SqliteDb MaterializeReference(const storage::Snapshot& snapshot) {
  sqlite3* raw = nullptr;
  if (sqlite3_open(":memory:", &raw) != SQLITE_OK) return nullptr;
  SqliteDb db(raw);
  EXPECT_EQ(RegisterTupleFunctions(raw), SQLITE_OK);
  Exec(raw, "PRAGMA case_sensitive_like=ON");
  Exec(raw,
       "CREATE TABLE kv(key, value, version INTEGER, create_revision INTEGER, mod_revision "
       "INTEGER, expires_at_ms INTEGER, lease_id INTEGER, key_bytes BLOB)");
  Exec(raw, kLeasesSchema);
  sm::v1::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  auto range = sm::Range(snapshot, all, kNowMs);
  EXPECT_TRUE(range.ok()) << range.status().ToString();
  if (!range.ok()) return nullptr;
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(raw, "INSERT INTO kv VALUES(?,?,?,?,?,?,?,?)", -1, &ins, nullptr);
  for (const sm::v1::KeyValue& kv : range->kvs()) {
    BindBytes(ins, 1, kv.key(), true);
    BindBytes(ins, 2, kv.value(), true);
    sqlite3_bind_int64(ins, 3, kv.version());
    sqlite3_bind_int64(ins, 4, kv.create_revision());
    sqlite3_bind_int64(ins, 5, kv.mod_revision());
    BindIntOrNull(ins, 6, kv.expires_at_ms());
    BindIntOrNull(ins, 7, kv.lease());
    BindBytes(ins, 8, kv.key(), false);
    EXPECT_EQ(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  auto leases = sm::Leases(snapshot);
  EXPECT_TRUE(leases.ok());
  sqlite3_prepare_v2(raw, "INSERT INTO leases VALUES(?,?,?,NULL,?)", -1, &ins, nullptr);
  for (const sm::LeaseInfo& l : *leases) {
    auto live = sm::LeaseTimeToLive(snapshot, l.id, kNowMs);
    EXPECT_TRUE(live.ok());
    sqlite3_bind_int64(ins, 1, l.id);
    sqlite3_bind_int64(ins, 2, l.granted_ttl_s);
    sqlite3_bind_int64(ins, 3, l.granted_ttl_s);
    sqlite3_bind_int64(ins, 4, static_cast<std::int64_t>(live->keys.size()));
    EXPECT_EQ(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_reset(ins);
  }
  sqlite3_finalize(ins);
  return db;
}

std::vector<Row> RunReference(sqlite3* db, const std::string& sql, const Params& params,
                              std::string* error) {
  std::vector<Row> rows;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    *error = sqlite3_errmsg(db);
    return rows;
  }
  Status s = internal::BindParams(stmt, params);
  if (!s.ok()) {
    *error = s.message();
    sqlite3_finalize(stmt);
    return rows;
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    Row row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      row.push_back(internal::ColumnValue(stmt, i));
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) *error = sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  return rows;
}

}  // namespace aspen::sql::testing
