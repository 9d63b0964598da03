// POST /v1/sql: JSON in, JSON out (sql_service.h, docs/API.md).
#include <nlohmann/json.hpp>
#include <string>

#include "client/grpc_status.h"
#include "server/etcd_errors.h"
#include "server/sql_service.h"

namespace aspen::server {

namespace {

using Json = nlohmann::json;

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string EncodeBase64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kBase64[(chunk >> 18) & 63]);
    out.push_back(kBase64[(chunk >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kBase64[chunk & 63] : '=');
  }
  return out;
}

// Standard base64 with padding; false when `text` is not that.
bool DecodeBase64(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  out->clear();
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '=') {
      // Padding: only in the last two places, and nothing but padding after.
      if (i + 2 < text.size()) return false;
      if (i + 1 < text.size() && text[i + 1] != '=') return false;
      break;
    }
    const char* p = std::char_traits<char>::find(kBase64, 64, c);
    if (p == nullptr) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(p - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return true;
}

Result<sql::Value> ParamValue(const Json& j, const std::string& where) {
  switch (j.type()) {
    case Json::value_t::null: return sql::Value::Null();
    case Json::value_t::boolean: return sql::Value::Int(j.get<bool>() ? 1 : 0);
    case Json::value_t::number_integer: return sql::Value::Int(j.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      const std::uint64_t u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) {
        return Status::InvalidArgument(where + ": " + std::to_string(u) +
                                       " does not fit a 64-bit signed integer");
      }
      return sql::Value::Int(static_cast<std::int64_t>(u));
    }
    case Json::value_t::number_float: return sql::Value::Double(j.get<double>());
    case Json::value_t::string: return sql::Value::Text(j.get<std::string>());
    case Json::value_t::object:
      if (j.size() == 1 && j.contains("base64") && j["base64"].is_string()) {
        std::string bytes;
        if (!DecodeBase64(j["base64"].get<std::string>(), &bytes)) {
          return Status::InvalidArgument(where + ": \"base64\" is not valid base64");
        }
        return sql::Value::Blob(std::move(bytes));
      }
      break;
    default: break;
  }
  return Status::InvalidArgument(where +
                                 ": a parameter is null, a boolean, a number, a string or "
                                 "{\"base64\": \"...\"} for a BLOB");
}

Result<std::uint64_t> Count(const Json& j, const char* name) {
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<std::int64_t>() >= 0)) {
    return Status::InvalidArgument(std::string("\"") + name + "\" must be a non-negative integer");
  }
  return j.get<std::uint64_t>();
}

Result<SqlRequest> ParseRequest(std::string_view body) {
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("the request body is not valid JSON");
  if (!j.is_object()) return Status::InvalidArgument("the request body must be a JSON object");
  SqlRequest r;
  for (const auto& [key, v] : j.items()) {
    if (key == "sql") {
      if (!v.is_string()) return Status::InvalidArgument("\"sql\" must be a string");
      r.sql = v.get<std::string>();
    } else if (key == "params") {
      if (v.is_array()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
          Result<sql::Value> p = ParamValue(v[i], "params[" + std::to_string(i) + "]");
          if (!p.ok()) return p.status();
          r.params.positional.push_back(std::move(p).value());
        }
      } else if (v.is_object()) {
        for (const auto& [name, pv] : v.items()) {
          Result<sql::Value> p = ParamValue(pv, "params." + name);
          if (!p.ok()) return p.status();
          r.params.named.emplace(name, std::move(p).value());
        }
      } else if (!v.is_null()) {
        return Status::InvalidArgument(
            "\"params\" must be an array (positional) or an object (named)");
      }
    } else if (key == "consistency") {
      const std::string c = v.is_string() ? v.get<std::string>() : "";
      if (c != "linearizable" && c != "serializable") {
        return Status::InvalidArgument(
            "\"consistency\" must be \"linearizable\" or \"serializable\"");
      }
      r.serializable = c == "serializable";
    } else if (key == "max_rows") {
      Result<std::uint64_t> n = Count(v, "max_rows");
      if (!n.ok()) return n.status();
      r.max_rows = *n;
    } else if (key == "timeout_ms") {
      Result<std::uint64_t> n = Count(v, "timeout_ms");
      if (!n.ok()) return n.status();
      r.timeout_ms = *n;
    } else {
      return Status::InvalidArgument(
          "unknown field \"" + key +
          "\" (expected sql, params, consistency, max_rows, timeout_ms)");
    }
  }
  if (!j.contains("sql")) return Status::InvalidArgument("missing \"sql\"");
  return r;
}

std::string Dump(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

void AppendValue(const sql::Value& v, std::string* out) {
  switch (v.type) {
    case sql::ValueType::kNull: *out += "null"; break;
    case sql::ValueType::kInt: *out += std::to_string(v.i); break;
    case sql::ValueType::kDouble: *out += Dump(Json(v.d)); break;  // inf and NaN: null
    case sql::ValueType::kText: *out += Dump(Json(v.s)); break;
    case sql::ValueType::kBlob: *out += "{\"base64\":\"" + EncodeBase64(v.s) + "\"}"; break;
  }
}

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kOutOfRange:
    case Code::kFailedPrecondition: return 400;
    case Code::kNotFound: return 404;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

}  // namespace

HttpResponse SqlHttpError(const Status& s) {
  const Json body = {{"error",
                      {{"code", std::string(client::GrpcCodeName(GrpcCode(s.code())))},
                       {"message", s.message()}}}};
  return {HttpStatusOf(s.code()), "application/json", Dump(body) + "\n"};
}

HttpResponse HandleSqlHttp(SqlRunner* runner, std::string_view body) {
  Result<SqlRequest> request = ParseRequest(body);
  if (!request.ok()) return SqlHttpError(request.status());
  Result<sql::QueryOptions> options = SqlQueryOptions(*request);
  if (!options.ok()) return SqlHttpError(options.status());
  if (Status s = runner->AwaitConsistency(request->serializable, options->max_time_ms); !s.ok()) {
    return SqlHttpError(s);
  }
  std::string rows;
  Result<sql::QuerySummary> summary = runner->Execute(
      *request, *options,
      [&rows](const std::vector<std::string>&, std::span<const sql::Row> batch) -> Status {
        for (const sql::Row& row : batch) {
          rows += rows.empty() ? "[" : ",[";
          for (std::size_t i = 0; i < row.size(); ++i) {
            if (i > 0) rows += ',';
            AppendValue(row[i], &rows);
          }
          rows += ']';
          if (rows.size() > kMaxSqlHttpResponseBytes) {
            return Status::ResourceExhausted(
                "the result is larger than " + std::to_string(kMaxSqlHttpResponseBytes) +
                " bytes of JSON; select fewer rows (max_rows, LIMIT) or columns");
          }
        }
        return Status::Ok();
      });
  if (!summary.ok()) return SqlHttpError(summary.status());
  std::string out = "{\"columns\":" + Dump(Json(summary->columns)) + ",\"rows\":[" + rows +
                    "],\"revision\":" + std::to_string(summary->revision) +
                    ",\"truncated\":" + (summary->truncated ? "true" : "false") + "}\n";
  return {200, "application/json", std::move(out)};
}

}  // namespace aspen::server
