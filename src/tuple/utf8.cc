#include "tuple/utf8.h"

namespace aspen::tuple {

namespace {

bool InRange(unsigned char c, unsigned char lo, unsigned char hi) {
  return c >= lo && c <= hi;
}

// Length of the well-formed sequence starting at s[i], or 0 if it is
// ill-formed (RFC 3629, section 4 table).
std::size_t SequenceLength(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) -> unsigned char {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  const unsigned char b0 = at(0);
  if (b0 < 0x80) return 1;
  if (InRange(b0, 0xc2, 0xdf)) return InRange(at(1), 0x80, 0xbf) ? 2 : 0;
  if (InRange(b0, 0xe0, 0xef)) {
    unsigned char lo = 0x80, hi = 0xbf;
    if (b0 == 0xe0) lo = 0xa0;  // overlong
    if (b0 == 0xed) hi = 0x9f;  // surrogates
    return InRange(at(1), lo, hi) && InRange(at(2), 0x80, 0xbf) ? 3 : 0;
  }
  if (InRange(b0, 0xf0, 0xf4)) {
    unsigned char lo = 0x80, hi = 0xbf;
    if (b0 == 0xf0) lo = 0x90;  // overlong
    if (b0 == 0xf4) hi = 0x8f;  // above U+10FFFF
    return InRange(at(1), lo, hi) && InRange(at(2), 0x80, 0xbf) && InRange(at(3), 0x80, 0xbf) ? 4
                                                                                              : 0;
  }
  return 0;  // continuation byte, C0/C1, F5..FF
}

}  // namespace

std::size_t FindInvalidUtf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = SequenceLength(text, i);
    if (n == 0) return i;
    i += n;
  }
  return std::string_view::npos;
}

}  // namespace aspen::tuple
