#include "sql/key_space.h"

#include <cstdint>
#include <cstring>

#include "base/assert.h"
#include "tuple/utf8.h"

namespace aspen::sql {

KeyClass ClassOfKey(std::string_view key) {
  // ASCII, the common case, is valid UTF-8: skip it 8 bytes at a time. The
  // rest starts right after ASCII bytes, so it starts a sequence.
  std::size_t i = 0;
  for (; i + 8 <= key.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, key.data() + i, sizeof(word));
    if ((word & 0x8080808080808080ULL) != 0) break;
  }
  while (i < key.size() && static_cast<unsigned char>(key[i]) < 0x80) ++i;
  if (i == key.size()) return KeyClass::kText;
  return tuple::IsValidUtf8(key.substr(i)) ? KeyClass::kText : KeyClass::kBlob;
}

void ByteRange::RaiseLower(std::string_view lo, bool inclusive) {
  if (lower.has_value()) {
    const int c = std::string_view(*lower).compare(lo);
    if (c > 0 || (c == 0 && !lower_inclusive)) return;  // already at least as tight
  }
  lower = std::string(lo);
  lower_inclusive = inclusive;
}

void ByteRange::LowerUpper(std::string_view hi, bool inclusive) {
  if (upper.has_value()) {
    const int c = std::string_view(*upper).compare(hi);
    if (c < 0 || (c == 0 && !upper_inclusive)) return;
  }
  upper = std::string(hi);
  upper_inclusive = inclusive;
}

bool ByteRange::Contains(std::string_view key) const {
  if (empty) return false;
  if (lower.has_value()) {
    const int c = key.compare(*lower);
    if (c < 0 || (c == 0 && !lower_inclusive)) return false;
  }
  if (upper.has_value()) {
    const int c = key.compare(*upper);
    if (c > 0 || (c == 0 && !upper_inclusive)) return false;
  }
  return true;
}

std::string ByteRange::Begin() const {
  if (!lower.has_value()) return {};
  std::string b = *lower;
  if (!lower_inclusive) b.push_back('\0');  // the first key after *lower
  return b;
}

std::optional<std::string> ByteRange::End() const {
  if (!upper.has_value()) return std::nullopt;
  std::string e = *upper;
  if (upper_inclusive) e.push_back('\0');
  return e;
}

KeySpace::KeySpace(bool key_bytes_column) : key_bytes_(key_bytes_column) {
  if (key_bytes_) ranges_[static_cast<int>(KeyClass::kText)].empty = true;
}

namespace {

void Narrow(ByteRange* r, CmpOp op, std::string_view v) {
  switch (op) {
    case CmpOp::kEq:
      r->RaiseLower(v, true);
      r->LowerUpper(v, true);
      break;
    case CmpOp::kGt: r->RaiseLower(v, false); break;
    case CmpOp::kGe: r->RaiseLower(v, true); break;
    case CmpOp::kLt: r->LowerUpper(v, false); break;
    case CmpOp::kLe: r->LowerUpper(v, true); break;
  }
}

// Whether every value of a class that sorts entirely above (above=true) or
// below the operand's class satisfies "value op operand".
bool WholeClassMatches(CmpOp op, bool above) {
  switch (op) {
    case CmpOp::kEq: return false;
    case CmpOp::kGt:
    case CmpOp::kGe: return above;
    case CmpOp::kLt:
    case CmpOp::kLe: return !above;
  }
  return false;
}

}  // namespace

void KeySpace::Apply(CmpOp op, const KeyOperand& rhs) {
  for (int c = 0; c < kNumKeyClasses; ++c) {
    ByteRange& r = ranges_[c];
    if (r.empty) continue;
    switch (rhs.kind) {
      case KeyOperand::kNull: r.empty = true; break;  // comparisons with NULL are NULL
      case KeyOperand::kNumber:                       // every key sorts above numbers
        if (!WholeClassMatches(op, /*above=*/true)) r.empty = true;
        break;
      case KeyOperand::kText:
      case KeyOperand::kBlob: {
        const int rhs_class = rhs.kind == KeyOperand::kText ? 0 : 1;
        if (c == rhs_class) {
          Narrow(&r, op, rhs.bytes);
        } else if (!WholeClassMatches(op, /*above=*/c > rhs_class)) {
          r.empty = true;
        }
        break;
      }
    }
    if (!r.empty && r.lower && r.upper) {
      const int cmp = r.lower->compare(*r.upper);
      if (cmp > 0 || (cmp == 0 && !(r.lower_inclusive && r.upper_inclusive))) r.empty = true;
    }
  }
}

void KeySpace::ApplyPrefix(std::string_view prefix) {
  if (prefix.empty()) return;
  std::optional<std::string> end = PrefixEnd(prefix);
  for (ByteRange& r : ranges_) {
    if (r.empty) continue;
    r.RaiseLower(prefix, true);
    if (end.has_value()) r.LowerUpper(*end, false);
    if (r.lower && r.upper) {
      const int cmp = r.lower->compare(*r.upper);
      if (cmp > 0 || (cmp == 0 && !(r.lower_inclusive && r.upper_inclusive))) r.empty = true;
    }
  }
}

bool KeySpace::Matches(std::string_view key) const {
  const KeyClass c = key_bytes_ ? KeyClass::kBlob : ClassOfKey(key);
  return range(c).Contains(key);
}

std::optional<std::pair<KeyClass, std::string>> PointOf(const KeyOperand& v,
                                                        bool key_bytes_column) {
  if (v.kind == KeyOperand::kBlob) return std::make_pair(KeyClass::kBlob, v.bytes);
  if (v.kind != KeyOperand::kText || key_bytes_column) return std::nullopt;
  // A TEXT operand equals a key only if that key reads back as TEXT.
  if (ClassOfKey(v.bytes) != KeyClass::kText) return std::nullopt;
  return std::make_pair(KeyClass::kText, v.bytes);
}

std::string PatternPrefix(std::string_view pattern, bool glob) {
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char ch = pattern[i];
    if (ch == '\0') break;
    if (glob ? (ch == '*' || ch == '?' || ch == '[') : (ch == '%' || ch == '_')) break;
  }
  return std::string(pattern.substr(0, i));
}

std::optional<std::string> PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::nullopt;
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

}  // namespace aspen::sql
