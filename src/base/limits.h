// Every bound in Aspen, in one place (DESIGN.md: Limits). Defaults; the server
// makes them configurable. Errors that cross a limit name it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aspen::limits {

inline constexpr std::size_t kMaxRequestBytes = 1536 * 1024;  // 1.5 MiB
inline constexpr std::size_t kMaxKeyBytes = 8 * 1024;
inline constexpr std::size_t kMaxValueBytes = 1024 * 1024;
inline constexpr std::size_t kMaxTxnOps = 128;
inline constexpr std::size_t kMaxSqlRows = 10'000;
inline constexpr std::uint64_t kMaxSqlTimeMs = 30'000;
inline constexpr std::size_t kScanBatchRows = 8'192;
inline constexpr std::size_t kMaxExpiryBatchKeys = 1'000;

static_assert(kMaxKeyBytes + kMaxValueBytes < kMaxRequestBytes,
              "a single put of a maximal key and value must fit in one request");
static_assert(kMaxExpiryBatchKeys <= kScanBatchRows);

}  // namespace aspen::limits
