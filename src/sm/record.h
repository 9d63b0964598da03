// Byte formats of the state machine's rows in Cf::kKv, Cf::kLease, Cf::kMeta.
//
// Every format starts with a tag byte that names its version. The tags and the
// grammars below are persisted: DO NOT CHANGE them; add a new tag instead.
//
//   varint64    := LEB128 of a uint64, 1..10 bytes (int64 fields are cast to
//                  uint64 first, so negative values take 10 bytes)
//
//   kv_record   := 0x01                    tag: kKvRecordTagV1, DO NOT CHANGE
//                  varint64 create_revision   >= 1
//                  varint64 mod_revision      >= create_revision
//                  varint64 version           in [1, mod_revision - create_revision + 1]
//                  varint64 expires_at_ms     >= 0, 0 = no TTL
//                  varint64 lease             0 = no lease
//                  varint64 value_len         == the number of bytes left
//                  value_len bytes value
//
//   lease_key    := 8 bytes: the lease id as a big-endian uint64
//   lease_record := 0x01                   tag: kLeaseRecordTagV1, DO NOT CHANGE
//                   varint64 granted_ttl_s  >= 1
//                   (nothing after it)
//
//   meta rows (Cf::kMeta): key "applied_index" or "revision" ->
//                   8 bytes big-endian uint64
//
// Decoders validate every length and field and return Corruption (never read
// out of bounds, never assert) because the bytes come from disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aspen::sm {

inline constexpr std::uint8_t kKvRecordTagV1 = 0x01;     // DO NOT CHANGE
inline constexpr std::uint8_t kLeaseRecordTagV1 = 0x01;  // DO NOT CHANGE

inline constexpr std::string_view kMetaAppliedIndexKey = "applied_index";  // DO NOT CHANGE
inline constexpr std::string_view kMetaRevisionKey = "revision";           // DO NOT CHANGE

// Everything of a key but its name and value.
struct KvMeta {
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::int64_t expires_at_ms = 0;  // 0 = never expires
  std::int64_t lease = 0;          // 0 = no lease

  // A key with a TTL is hidden from the moment now_ms reaches expires_at_ms.
  bool ExpiredAt(std::int64_t now_ms) const {
    return expires_at_ms != 0 && expires_at_ms <= now_ms;
  }
  friend bool operator==(const KvMeta&, const KvMeta&) = default;
};

std::string EncodeKvRecord(const KvMeta& meta, std::string_view value);
// On success *value points into `bytes`. Corruption names the faulty field.
Status DecodeKvRecord(std::string_view bytes, KvMeta* meta, std::string_view* value);

std::string EncodeLeaseKey(std::int64_t id);
Status DecodeLeaseKey(std::string_view bytes, std::int64_t* id);
std::string EncodeLeaseRecord(std::int64_t granted_ttl_s);
Status DecodeLeaseRecord(std::string_view bytes, std::int64_t* granted_ttl_s);

std::string EncodeFixed64(std::uint64_t v);
Status DecodeFixed64(std::string_view bytes, std::uint64_t* v);

// LEB128 primitives, exposed for tests.
void PutVarint64(std::string* dst, std::uint64_t v);
// Advances *in past the varint; false when truncated or longer than 10 bytes.
bool GetVarint64(std::string_view* in, std::uint64_t* v);

}  // namespace aspen::sm
