// The chain hash of the Raft log (DESIGN.md, "Chain hash").
//
// Every log entry stores
//
//   hash(i) = SHA-256( hash(i-1) || be64(term) || be64(index) || u8(type) || data )
//
// where hash(0) is 32 zero bytes and, after log compaction, the chain restarts
// from the hash stored for the compaction point (LogStore's truncated state).
// The data is last and every field before it is fixed-width, so the input is
// unambiguous without a length prefix. DO NOT CHANGE the input layout: hashes
// are persisted and compared across replicas and restarts.
//
// Thread safety: stateless and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace aspen::storage {

using ChainHash = std::array<std::uint8_t, 32>;

// The hash before the first entry of a fresh log.
inline constexpr ChainHash kZeroChainHash{};

// hash(index) given hash(index-1) == prev. Never fails (an OpenSSL failure
// here would be an allocation failure, which aborts).
ChainHash ComputeChainHash(const ChainHash& prev, std::uint64_t term, std::uint64_t index,
                           std::uint8_t type, std::string_view data);

// Lower-case hex, 64 characters; for messages and `aspen verify`.
std::string ChainHashHex(const ChainHash& hash);

}  // namespace aspen::storage
