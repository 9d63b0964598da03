// Value: one SQL value as it crosses the engine's API (parameters in, result
// cells out). SQLite's five storage classes, nothing more.
//
// A plain value type: copy freely; not safe to mutate concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aspen::sql {

enum class ValueType { kNull, kInt, kDouble, kText, kBlob };

struct Value {
  ValueType type = ValueType::kNull;
  std::int64_t i = 0;  // kInt
  double d = 0;        // kDouble
  std::string s;       // kText (UTF-8) and kBlob (bytes)

  static Value Null() { return {}; }
  static Value Int(std::int64_t v) { return {ValueType::kInt, v, 0, {}}; }
  static Value Double(double v) { return {ValueType::kDouble, 0, v, {}}; }
  static Value Text(std::string v) { return {ValueType::kText, 0, 0, std::move(v)}; }
  static Value Blob(std::string v) { return {ValueType::kBlob, 0, 0, std::move(v)}; }

  bool is_null() const { return type == ValueType::kNull; }
  // A readable rendering for tests and logs: NULL, 42, 1.5, 'text', x'00ff'.
  std::string ToString() const;

  friend bool operator==(const Value&, const Value&) = default;
};

std::string_view ValueTypeName(ValueType type);

}  // namespace aspen::sql
