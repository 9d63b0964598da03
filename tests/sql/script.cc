#include "sql/script.h"

#include <sstream>

namespace aspen::sql::testing {
namespace {

bool ParseHex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out->push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return true;
}

// "int:5", "text:abc", "blob:00ff", "double:1.5", "null".
bool ParseValue(const std::string& tok, Value* v) {
  if (tok == "null") {
    *v = Value::Null();
    return true;
  }
  const auto colon = tok.find(':');
  if (colon == std::string::npos) return false;
  const std::string type = tok.substr(0, colon), body = tok.substr(colon + 1);
  if (type == "int")
    *v = Value::Int(std::stoll(body));
  else if (type == "double")
    *v = Value::Double(std::stod(body));
  else if (type == "text")
    *v = Value::Text(body);
  else if (type == "blob") {
    std::string b;
    if (!ParseHex(body, &b)) return false;
    *v = Value::Blob(b);
  } else {
    return false;
  }
  return true;
}

bool ParseParams(const std::string& line, Params* p) {
  std::istringstream in(line);
  std::string tok;
  while (in >> tok) {
    Value v;
    if (tok[0] == ':') {
      const auto eq = tok.find('=');
      if (eq == std::string::npos || !ParseValue(tok.substr(eq + 1), &v)) return false;
      p->named[tok.substr(0, eq)] = v;
    } else {
      if (!ParseValue(tok, &v)) return false;
      p->positional.push_back(v);
    }
  }
  return true;
}

}  // namespace

std::vector<ScriptQuery> ParseScript(const std::string& text, std::string* error) {
  std::vector<ScriptQuery> out;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  ScriptQuery* cur = nullptr;
  auto fail = [&](const std::string& why) {
    *error = "line " + std::to_string(lineno) + ": " + why;
    return std::vector<ScriptQuery>{};
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (cur == nullptr) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream h(line);
      std::string word;
      h >> word;
      if (word != "query") return fail("expected a \"query\" header, got: " + line);
      ScriptQuery q;
      q.line = lineno;
      while (h >> word) {
        if (word == "ordered")
          q.ordered = true;
        else if (word == "rowsort")
          q.ordered = false;
        else if (word == "empty-ok")
          q.empty_ok = true;
        else if (word == "error")
          q.expect_error = true;
        else
          return fail("unknown query option " + word);
      }
      out.push_back(std::move(q));
      cur = &out.back();
      continue;
    }
    if (line.empty()) {
      if (cur->sql.empty()) return fail("query without SQL");
      cur = nullptr;
      continue;
    }
    if (cur->sql.empty() && line.rfind("params:", 0) == 0) {
      if (!ParseParams(line.substr(7), &cur->params)) return fail("bad params line");
      continue;
    }
    cur->sql += (cur->sql.empty() ? "" : "\n") + line;
  }
  if (cur != nullptr && cur->sql.empty()) return fail("query without SQL");
  return out;
}

}  // namespace aspen::sql::testing
