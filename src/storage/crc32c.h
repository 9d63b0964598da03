// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of each
// frame of a state snapshot (snapshot_format.h). A table-driven software
// implementation: snapshots are checksummed once per transfer, off the write
// path, so speed here matters little. Check value: Crc32c("123456789") ==
// 0xE3069283.
//
// Thread safety: stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace aspen::storage {

namespace crc32c_internal {
inline constexpr std::array<std::uint32_t, 256> MakeTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr std::array<std::uint32_t, 256> kTable = MakeTable();
}  // namespace crc32c_internal

// Extends `crc` (the CRC of earlier bytes, 0 for none) by `data`.
inline std::uint32_t Crc32cExtend(std::uint32_t crc, std::string_view data) {
  std::uint32_t c = ~crc;
  for (char ch : data) {
    c = crc32c_internal::kTable[(c ^ static_cast<std::uint8_t>(ch)) & 0xff] ^ (c >> 8);
  }
  return ~c;
}

inline std::uint32_t Crc32c(std::string_view data) {
  return Crc32cExtend(0, data);
}

}  // namespace aspen::storage
