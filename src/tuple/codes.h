// Wire type codes of the tuple encoding (FoundationDB design/tuple.md).
// On-disk format: DO NOT CHANGE any value.
#pragma once

#include <cstdint>

namespace aspen::tuple::internal {

inline constexpr std::uint8_t kNullCode = 0x00;
inline constexpr std::uint8_t kBytesCode = 0x01;
inline constexpr std::uint8_t kStringCode = 0x02;
inline constexpr std::uint8_t kNestedCode = 0x05;
inline constexpr std::uint8_t kNegBigIntCode = 0x0b;  // length ^ 0xff, one's complement
inline constexpr std::uint8_t kIntZeroCode = 0x14;    // 0x0c..0x13 negative, 0x15..0x1c positive
inline constexpr std::uint8_t kPosBigIntCode = 0x1d;  // length, big-endian magnitude
inline constexpr std::uint8_t kFloatCode = 0x20;
inline constexpr std::uint8_t kDoubleCode = 0x21;
inline constexpr std::uint8_t kFalseCode = 0x26;
inline constexpr std::uint8_t kTrueCode = 0x27;
inline constexpr std::uint8_t kUuidCode = 0x30;
inline constexpr std::uint8_t kVersionstampCode = 0x33;
inline constexpr std::uint8_t kEscape = 0xff;  // after 0x00: an escaped 0x00 or a nested null

// Integers of up to this many magnitude bytes use the fixed codes.
inline constexpr int kMaxSmallIntBytes = 8;

}  // namespace aspen::tuple::internal
