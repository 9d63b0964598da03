#include "sql/statement.h"

#include <string>
#include <vector>

#include "tuple/utf8.h"

namespace aspen::sql::internal {
namespace {

// The parameter's name for messages: ":name", "?3".
std::string ParamName(sqlite3_stmt* stmt, int i) {
  const char* name = sqlite3_bind_parameter_name(stmt, i);
  if (name != nullptr && name[0] != '?') return name;
  return "?" + std::to_string(i);
}

bool IsNamed(sqlite3_stmt* stmt, int i) {
  const char* name = sqlite3_bind_parameter_name(stmt, i);
  return name != nullptr && name[0] != '?';
}

Status BindOne(sqlite3_stmt* stmt, int i, const Value& v) {
  int rc = SQLITE_OK;
  switch (v.type) {
    case ValueType::kNull: rc = sqlite3_bind_null(stmt, i); break;
    case ValueType::kInt: rc = sqlite3_bind_int64(stmt, i, v.i); break;
    case ValueType::kDouble: rc = sqlite3_bind_double(stmt, i, v.d); break;
    case ValueType::kText:
      if (!tuple::IsValidUtf8(v.s)) {
        return Status::InvalidArgument("parameter " + ParamName(stmt, i) +
                                       ": text is not valid UTF-8; pass bytes as a blob");
      }
      rc = sqlite3_bind_text64(stmt, i, v.s.data(), v.s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    case ValueType::kBlob:
      rc = sqlite3_bind_blob64(stmt, i, v.s.data(), v.s.size(), SQLITE_TRANSIENT);
      break;
  }
  if (rc == SQLITE_TOOBIG) {
    return Status::ResourceExhausted("parameter " + ParamName(stmt, i) + " is longer than " +
                                     std::to_string(kMaxSqlValueBytes) + " bytes");
  }
  if (rc != SQLITE_OK) {
    return Status::InvalidArgument("parameter " + ParamName(stmt, i) + ": " + sqlite3_errstr(rc));
  }
  return Status::Ok();
}

}  // namespace

Status BindParams(sqlite3_stmt* stmt, const Params& params) {
  const int n = sqlite3_bind_parameter_count(stmt);
  std::vector<bool> bound(static_cast<std::size_t>(n) + 1, false);
  if (params.positional.size() > static_cast<std::size_t>(n)) {
    return Status::InvalidArgument(std::to_string(params.positional.size()) +
                                   " positional parameters given but the statement has " +
                                   std::to_string(n) + " parameters");
  }
  for (std::size_t k = 0; k < params.positional.size(); ++k) {
    const int i = static_cast<int>(k) + 1;
    if (IsNamed(stmt, i)) {
      return Status::InvalidArgument("parameter " + ParamName(stmt, i) +
                                     " is named; pass it by name, not as positional value " +
                                     std::to_string(i));
    }
    ASPEN_RETURN_IF_ERROR(BindOne(stmt, i, params.positional[k]));
    bound[static_cast<std::size_t>(i)] = true;
  }
  for (const auto& [key, value] : params.named) {
    int i = 0;
    if (!key.empty() && (key[0] == ':' || key[0] == '@' || key[0] == '$')) {
      i = sqlite3_bind_parameter_index(stmt, key.c_str());
    } else {
      for (const char* sigil : {":", "@", "$"}) {
        if (i == 0) i = sqlite3_bind_parameter_index(stmt, (sigil + key).c_str());
      }
    }
    if (i == 0) return Status::InvalidArgument("the statement has no parameter named " + key);
    ASPEN_RETURN_IF_ERROR(BindOne(stmt, i, value));
    bound[static_cast<std::size_t>(i)] = true;
  }
  for (int i = 1; i <= n; ++i) {
    if (!bound[static_cast<std::size_t>(i)]) {
      return Status::InvalidArgument("parameter " + ParamName(stmt, i) + " has no value");
    }
  }
  return Status::Ok();
}

Value ColumnValue(sqlite3_stmt* stmt, int i) {
  Value v;
  ReadColumn(stmt, i, &v);
  return v;
}

void ReadColumn(sqlite3_stmt* stmt, int i, Value* out) {
  // One sqlite3_column_value, then the cheaper sqlite3_value_* calls (the
  // sqlite3_column_* family checks the statement on every call).
  sqlite3_value* v = sqlite3_column_value(stmt, i);
  out->i = 0;
  out->d = 0;
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      out->type = ValueType::kInt;
      out->i = sqlite3_value_int64(v);
      out->s.clear();
      return;
    case SQLITE_FLOAT:
      out->type = ValueType::kDouble;
      out->d = sqlite3_value_double(v);
      out->s.clear();
      return;
    case SQLITE_TEXT:
    case SQLITE_BLOB: {
      out->type = sqlite3_value_type(v) == SQLITE_TEXT ? ValueType::kText : ValueType::kBlob;
      // sqlite3_value_blob, not _text: the bytes are the same, but _text
      // NUL-terminates the cell first, a realloc per cell for every value
      // the virtual tables return with a length.
      const auto* p = static_cast<const char*>(sqlite3_value_blob(v));
      const int n = sqlite3_value_bytes(v);
      if (p == nullptr) {
        out->s.clear();
      } else {
        out->s.assign(p, static_cast<std::size_t>(n));
      }
      return;
    }
    default:
      out->type = ValueType::kNull;
      out->s.clear();
      return;
  }
}

}  // namespace aspen::sql::internal
