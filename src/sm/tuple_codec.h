// Index rows as tuples of the FoundationDB tuple layer (src/tuple):
//   ("idx", name: string, value: int, key: bytes)
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
// Inverse of PackIndexKey for the given name; Corruption (with the tuple
// layer's message) for anything else.
Status UnpackIndexKey(std::string_view name, std::string_view bytes, std::int64_t* value,
                      std::string* key);

}  // namespace aspen::sm
