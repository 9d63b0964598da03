// BigInt: a signed integer with |n| < 2^2040, the range the tuple layer can
// encode (a magnitude of at most 255 bytes, FoundationDB's 0x0b/0x1d forms).
//
// Representation: a sign and the big-endian magnitude bytes with no leading
// zero byte. Invariants (asserted): zero has an empty magnitude and is never
// negative; the magnitude is at most kMaxMagnitudeBytes long. So each value has
// exactly one representation and == compares values.
//
// The magnitude lives in a std::string, so values up to 15 bytes (every
// int64/uint64) need no heap allocation. BigInt is a plain value type.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tuple/result.h"

namespace aspen::tuple {

class BigInt {
 public:
  static constexpr std::size_t kMaxMagnitudeBytes = 255;
  // Decimal digits of 2^2040 - 1 (the largest magnitude); longer input is out
  // of range before any arithmetic is done.
  static constexpr std::size_t kMaxDecimalDigits = 615;

  BigInt() = default;  // zero

  static BigInt FromInt64(std::int64_t v);
  static BigInt FromUint64(std::uint64_t v);
  // magnitude: big-endian bytes; leading zero bytes are ignored. Errors with
  // kOutOfRange if more than 255 significant bytes remain. A zero magnitude
  // yields zero (never negative zero).
  static Result<BigInt> FromMagnitude(bool negative, std::string_view magnitude);
  // Accepts exactly the canonical form -?(0|[1-9][0-9]*) and rejects "-0",
  // "+5", "05", "", "1e3" and spaces (kInvalidArgument), or a value with
  // |n| >= 2^2040 (kOutOfRange).
  static Result<BigInt> FromDecimal(std::string_view text);

  // The canonical decimal form accepted by FromDecimal.
  std::string ToDecimal() const;
  // The value, if it fits.
  std::optional<std::int64_t> ToInt64() const;
  std::optional<std::uint64_t> ToUint64() const;

  bool negative() const { return negative_; }
  bool is_zero() const { return magnitude_.empty(); }
  // Big-endian, no leading zero byte, empty for zero.
  const std::string& magnitude() const { return magnitude_; }

  friend bool operator==(const BigInt& a, const BigInt& b) = default;
  friend std::strong_ordering operator<=>(const BigInt& a, const BigInt& b);

 private:
  BigInt(bool negative, std::string magnitude);

  bool negative_ = false;
  std::string magnitude_;
};

}  // namespace aspen::tuple
