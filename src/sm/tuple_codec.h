// Tuple encoding of index rows: ("idx", name: string, value: int, key: bytes),
// byte-compatible with the FoundationDB tuple layer (type codes 0x01 bytes,
// 0x02 string, 0x0c..0x1c integers).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aspen::sm {

// ("idx", name, value, key)
std::string PackIndexKey(std::string_view name, std::int64_t value, std::string_view key);
// ("idx", name, value): a prefix of every row with that value.
std::string PackIndexPrefix(std::string_view name, std::int64_t value);
// Inverse of PackIndexKey for the given name; Corruption otherwise.
Status UnpackIndexKey(std::string_view name, std::string_view bytes, std::int64_t* value,
                      std::string* key);

}  // namespace aspen::sm
