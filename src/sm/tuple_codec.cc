#include "sm/tuple_codec.h"

#include "tuple/tuple.h"

namespace aspen::sm {

std::string PackIndexPrefix(std::string_view name, std::int64_t value) {
  return tuple::Tuple().Add("idx").Add(name).Add(value).Pack();
}

std::string PackIndexKey(std::string_view name, std::int64_t value, std::string_view key) {
  return tuple::Tuple().Add("idx").Add(name).Add(value).AddBytes(key).Pack();
}

Status UnpackIndexKey(std::string_view name, std::string_view bytes, std::int64_t* value,
                      std::string* key) {
  tuple::Result<tuple::Tuple> t = tuple::Tuple::Unpack(bytes);
  if (!t.ok()) return Status::Corruption("index row is not a tuple: " + t.error().message());
  const tuple::Tuple& row = t.value();
  if (row.size() != 4 || row[0].type() != tuple::Type::kString || row[0].str() != "idx" ||
      row[1].type() != tuple::Type::kString || row[1].str() != name ||
      row[2].type() != tuple::Type::kInt || row[3].type() != tuple::Type::kBytes) {
    return Status::Corruption("index row is not (\"idx\", \"" + std::string(name) +
                              "\", int, bytes)");
  }
  std::optional<std::int64_t> v = row[2].integer().ToInt64();
  if (!v.has_value()) return Status::Corruption("index row value does not fit in int64");
  *value = *v;
  *key = row[3].bytes();
  return Status::Ok();
}

}  // namespace aspen::sm
