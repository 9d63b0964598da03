// Tuple-layer SQL functions (docs/SQL.md, "Functions"):
//   tuple_pack(v, ...)        -> BLOB: NULL->null, INTEGER->int, REAL->double,
//                                TEXT->string (must be UTF-8), BLOB->bytes
//   tuple_unpack(b)           -> TEXT: the typed JSON of `aspen tuple unpack`
//   tuple_get(b, i)           -> element i (0-based; negative counts from the
//                                end) as an SQL value; NULL when out of range
//   tuple_range_start(v, ...) -> BLOB: pack(v...) + 0x00
//   tuple_range_end(v, ...)   -> BLOB: pack(v...) + 0xff
// so  key_bytes >= tuple_range_start('users') AND key_bytes <
// tuple_range_end('users')  is a key range the kv table pushes down.
// Malformed input is an SQL error naming the function and the fault.
#include <sqlite3.h>

#include <cstring>
#include <optional>
#include <string>

#include "sql/vtabs.h"
#include "tuple/tuple.h"
#include "tuple/typed_json.h"
#include "tuple/utf8.h"

namespace aspen::sql {
namespace {

namespace tp = aspen::tuple;

// The bytes of a TEXT or BLOB value (valid until the value changes).
std::string_view Bytes(sqlite3_value* v) {
  const void* p = sqlite3_value_type(v) == SQLITE_TEXT
                      ? static_cast<const void*>(sqlite3_value_text(v))
                      : sqlite3_value_blob(v);
  const int n = sqlite3_value_bytes(v);
  if (p == nullptr || n <= 0) return {};
  return {static_cast<const char*>(p), static_cast<std::size_t>(n)};
}

void Error(sqlite3_context* ctx, const std::string& msg) {
  sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
}

// Builds a tuple from SQL arguments; false (with an error set) on bad input.
bool PackArgs(sqlite3_context* ctx, const char* fn, int argc, sqlite3_value** argv, tp::Tuple* t) {
  for (int i = 0; i < argc; ++i) {
    switch (sqlite3_value_type(argv[i])) {
      case SQLITE_NULL: t->AddNull(); break;
      case SQLITE_INTEGER: t->Add(static_cast<std::int64_t>(sqlite3_value_int64(argv[i]))); break;
      case SQLITE_FLOAT: t->Add(sqlite3_value_double(argv[i])); break;
      case SQLITE_TEXT: {
        const std::string_view s = Bytes(argv[i]);
        if (!tp::IsValidUtf8(s)) {
          Error(ctx, std::string(fn) + ": argument " + std::to_string(i + 1) +
                         " is TEXT but not valid UTF-8; pass a BLOB for bytes");
          return false;
        }
        t->Add(s);
        break;
      }
      default: t->AddBytes(Bytes(argv[i])); break;
    }
  }
  return true;
}

void ResultBlob(sqlite3_context* ctx, const std::string& b) {
  sqlite3_result_blob(ctx, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
}

void Pack(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  tp::Tuple t;
  if (PackArgs(ctx, "tuple_pack", argc, argv, &t)) ResultBlob(ctx, t.Pack());
}

void RangeStart(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  tp::Tuple t;
  if (PackArgs(ctx, "tuple_range_start", argc, argv, &t)) ResultBlob(ctx, t.Range().first);
}

void RangeEnd(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  tp::Tuple t;
  if (PackArgs(ctx, "tuple_range_end", argc, argv, &t)) ResultBlob(ctx, t.Range().second);
}

// Unpacks argument 0; false (with an error or a NULL result set) otherwise.
bool UnpackArg(sqlite3_context* ctx, const char* fn, sqlite3_value* v, tp::Tuple* out) {
  if (sqlite3_value_type(v) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return false;
  }
  if (sqlite3_value_type(v) != SQLITE_BLOB && sqlite3_value_type(v) != SQLITE_TEXT) {
    Error(ctx, std::string(fn) + ": expects a BLOB (a packed tuple)");
    return false;
  }
  tp::Result<tp::Tuple> t = tp::Tuple::Unpack(Bytes(v));
  if (!t.ok()) {
    Error(ctx, std::string(fn) + ": malformed tuple: " + t.error().message());
    return false;
  }
  *out = std::move(*t);
  return true;
}

void Unpack(sqlite3_context* ctx, int, sqlite3_value** argv) {
  tp::Tuple t;
  if (!UnpackArg(ctx, "tuple_unpack", argv[0], &t)) return;
  const std::string json = tp::ToTypedJsonText(t);
  sqlite3_result_text(ctx, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
}

void Get(sqlite3_context* ctx, int, sqlite3_value** argv) {
  tp::Tuple t;
  if (!UnpackArg(ctx, "tuple_get", argv[0], &t)) return;
  if (sqlite3_value_type(argv[1]) != SQLITE_INTEGER) {
    Error(ctx, "tuple_get: the index must be an INTEGER");
    return;
  }
  std::int64_t i = sqlite3_value_int64(argv[1]);
  const auto n = static_cast<std::int64_t>(t.size());
  if (i < 0) i += n;
  if (i < 0 || i >= n) {
    sqlite3_result_null(ctx);
    return;
  }
  const tp::Element& e = t[static_cast<std::size_t>(i)];
  switch (e.type()) {
    case tp::Type::kNull: sqlite3_result_null(ctx); break;
    case tp::Type::kBytes: ResultBlob(ctx, e.bytes()); break;
    case tp::Type::kString:
      sqlite3_result_text(ctx, e.str().data(), static_cast<int>(e.str().size()), SQLITE_TRANSIENT);
      break;
    case tp::Type::kInt: {
      if (std::optional<std::int64_t> v = e.integer().ToInt64()) {
        sqlite3_result_int64(ctx, *v);
      } else {  // beyond int64: the exact decimal as TEXT
        const std::string d = e.integer().ToDecimal();
        sqlite3_result_text(ctx, d.data(), static_cast<int>(d.size()), SQLITE_TRANSIENT);
      }
      break;
    }
    case tp::Type::kFloat: {
      float f = 0;
      const std::uint32_t bits = e.float_bits();
      std::memcpy(&f, &bits, sizeof(f));
      sqlite3_result_double(ctx, static_cast<double>(f));
      break;
    }
    case tp::Type::kDouble: {
      double d = 0;
      const std::uint64_t bits = e.double_bits();
      std::memcpy(&d, &bits, sizeof(d));
      sqlite3_result_double(ctx, d);
      break;
    }
    case tp::Type::kBool: sqlite3_result_int(ctx, e.boolean() ? 1 : 0); break;
    case tp::Type::kTuple: {
      const std::string json = tp::ToTypedJsonText(e.tuple());
      sqlite3_result_text(ctx, json.data(), static_cast<int>(json.size()), SQLITE_TRANSIENT);
      break;
    }
    case tp::Type::kUuid:
      ResultBlob(ctx, std::string(reinterpret_cast<const char*>(e.uuid().bytes.data()), 16));
      break;
    case tp::Type::kVersionstamp:
      ResultBlob(ctx, std::string(reinterpret_cast<const char*>(e.versionstamp().bytes().data()),
                                  tp::Versionstamp::kSize));
      break;
  }
}

}  // namespace

int RegisterTupleFunctions(sqlite3* db) {
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  struct Fn {
    const char* name;
    int argc;
    void (*impl)(sqlite3_context*, int, sqlite3_value**);
  };
  const Fn fns[] = {{"tuple_pack", -1, Pack},
                    {"tuple_unpack", 1, Unpack},
                    {"tuple_get", 2, Get},
                    {"tuple_range_start", -1, RangeStart},
                    {"tuple_range_end", -1, RangeEnd}};
  for (const Fn& f : fns) {
    const int rc = sqlite3_create_function_v2(db, f.name, f.argc, kFlags, nullptr, f.impl, nullptr,
                                              nullptr, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

}  // namespace aspen::sql
