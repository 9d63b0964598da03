// UTF-8 validation for tuple strings (type 0x02).
//
// FoundationDB's bindings encode text as UTF-8 and the Python binding refuses
// to decode anything else, so the tuple layer accepts only well-formed UTF-8
// (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF, no truncated sequences.
#pragma once

#include <cstddef>
#include <string_view>

namespace aspen::tuple {

// Returns the offset of the first byte that starts an ill-formed sequence, or
// std::string_view::npos if `text` is well-formed UTF-8. Thread-safe.
std::size_t FindInvalidUtf8(std::string_view text);

inline bool IsValidUtf8(std::string_view text) {
  return FindInvalidUtf8(text) == std::string_view::npos;
}

}  // namespace aspen::tuple
