#include "sql/value.h"

#include <cstdio>

namespace aspen::sql {

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kNull: return "null";
    case ValueType::kInt: return "int";
    case ValueType::kDouble: return "double";
    case ValueType::kText: return "text";
    case ValueType::kBlob: return "blob";
  }
  return "?";
}

std::string Value::ToString() const {
  switch (type) {
    case ValueType::kNull: return "NULL";
    case ValueType::kInt: return std::to_string(i);
    case ValueType::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.17g", d);
      return buf;
    }
    case ValueType::kText: {
      std::string out = "'";
      for (char c : s) {
        if (c == '\'') out.push_back('\'');
        out.push_back(c);
      }
      return out + "'";
    }
    case ValueType::kBlob: {
      static constexpr char kHex[] = "0123456789abcdef";
      std::string out = "x'";
      for (unsigned char c : s) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
      }
      return out + "'";
    }
  }
  return "?";
}

}  // namespace aspen::sql
