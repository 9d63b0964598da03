// KeySpace: the key column's SQL order, mapped onto byte ranges of Cf::kKv.
//
// kv.key is TEXT when the key bytes are valid UTF-8 and BLOB otherwise, and
// SQLite orders values by storage class first: NULL < numbers < TEXT < BLOB,
// then TEXT and BLOB by memcmp (BINARY collation). So "key > 'm'" holds for
// every BLOB key, even x'00', and "key < x'00'" holds for every TEXT key. A
// constraint therefore narrows two byte ranges, one per class, and a scan in
// SQL order visits the TEXT keys (in byte order) before the BLOB keys.
// kv.key_bytes is always BLOB: only its BLOB range exists.
//
// The narrowing below is exact (it implements SQLite's comparison rules), so
// the cursor may tell SQLite to omit its own check. Pure logic: no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aspen::sql {

enum class KeyClass { kText = 0, kBlob = 1 };
inline constexpr int kNumKeyClasses = 2;

// The class a stored key has as a kv.key value.
KeyClass ClassOfKey(std::string_view key);

enum class CmpOp { kEq, kGt, kGe, kLt, kLe };

// The right-hand side of a comparison, reduced to what the key order needs.
struct KeyOperand {
  enum Kind { kNull, kNumber, kText, kBlob } kind = kNull;
  std::string bytes;  // kText, kBlob
};

// Byte range [lower, upper] with inclusive flags; nullopt = unbounded.
struct ByteRange {
  bool empty = false;
  std::optional<std::string> lower;
  bool lower_inclusive = true;
  std::optional<std::string> upper;
  bool upper_inclusive = false;

  // Intersects with [lo, +inf) or (lo, +inf).
  void RaiseLower(std::string_view lo, bool inclusive);
  // Intersects with (-inf, hi] or (-inf, hi).
  void LowerUpper(std::string_view hi, bool inclusive);
  bool Contains(std::string_view key) const;
  // Iterator bounds: [begin, end) with end nullopt = to the end of the CF.
  std::string Begin() const;
  std::optional<std::string> End() const;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

class KeySpace {
 public:
  // key_bytes_column: the column is always BLOB (kv.key_bytes).
  explicit KeySpace(bool key_bytes_column);

  // Applies "column op rhs" exactly as SQLite compares (BINARY collation).
  void Apply(CmpOp op, const KeyOperand& rhs);
  // Narrows both classes to keys starting with `prefix` (LIKE/GLOB prefix;
  // matching is byte-wise for both classes, as LIKE reads a BLOB as text).
  void ApplyPrefix(std::string_view prefix);

  const ByteRange& range(KeyClass c) const { return ranges_[static_cast<int>(c)]; }
  bool Empty() const { return ranges_[0].empty && ranges_[1].empty; }
  // Whether a stored key satisfies every applied constraint.
  bool Matches(std::string_view key) const;
  bool key_bytes_column() const { return key_bytes_; }

 private:
  bool key_bytes_;
  ByteRange ranges_[kNumKeyClasses];
};

// The SQL-order position of an IN-list value; nullopt when it equals no key.
std::optional<std::pair<KeyClass, std::string>> PointOf(const KeyOperand& v, bool key_bytes_column);

// The literal prefix of a 2-argument LIKE (wildcards % _) or GLOB (wildcards
// * ? [) pattern: the bytes before the first wildcard or NUL (SQLite's
// pattern matching stops at a NUL). Every key the pattern matches starts
// with it.
std::string PatternPrefix(std::string_view pattern, bool glob);

// The first byte string greater than every string starting with `prefix`;
// nullopt when there is none (prefix empty or all 0xff).
std::optional<std::string> PrefixEnd(std::string_view prefix);

}  // namespace aspen::sql
