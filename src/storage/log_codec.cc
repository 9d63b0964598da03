// Encoders and decoders of the byte formats specified in log_store.h.
#include <cstdint>
#include <limits>
#include <string>

#include "storage/coding.h"
#include "storage/log_store.h"

namespace aspen::storage {

namespace {

// Format tags (on disk: DO NOT CHANGE).
constexpr std::uint8_t kLogEntryTag = 0x01;
constexpr std::uint8_t kHardStateTag = 0x01;
constexpr std::uint8_t kTruncatedTag = 0x01;
constexpr std::uint8_t kSnapshotTag = 0x01;

void PutHash(std::string* out, const ChainHash& h) {
  out->append(reinterpret_cast<const char*>(h.data()), h.size());
}

Status Bad(std::string_view what, std::string_view why) {
  return Status::Corruption(std::string(what) + ": " + std::string(why));
}

// Reads the tag byte and checks it.
bool ReadTag(ByteReader* r, std::uint8_t want, std::string* why) {
  std::uint8_t tag = 0;
  if (!r->ReadU8(&tag)) {
    *why = "empty record";
    return false;
  }
  if (tag != want) {
    *why = "unknown format tag " + std::to_string(tag);
    return false;
  }
  return true;
}

}  // namespace

std::string EncodeLogKey(std::uint64_t index) {
  std::string key;
  PutBigEndian64(&key, index);
  return key;
}

Result<std::uint64_t> DecodeLogKey(std::string_view key) {
  if (key.size() != 8) {
    return Status::Corruption("raft log key has " + std::to_string(key.size()) + " bytes, want 8");
  }
  return DecodeBigEndian64(key);
}

std::string EncodeLogEntry(const LogEntry& entry) {
  ASPEN_ASSERT(entry.data.size() <= std::numeric_limits<std::uint32_t>::max());
  std::string out;
  out.reserve(1 + 8 + 1 + 32 + 4 + entry.data.size());
  out.push_back(static_cast<char>(kLogEntryTag));
  PutBigEndian64(&out, entry.term);
  out.push_back(static_cast<char>(entry.type));
  PutHash(&out, entry.chain_hash);
  PutBigEndian32(&out, static_cast<std::uint32_t>(entry.data.size()));
  out.append(entry.data);
  return out;
}

Result<LogEntry> DecodeLogEntry(std::uint64_t index, std::string_view bytes) {
  const std::string what = "raft log entry " + std::to_string(index);
  ByteReader r(bytes);
  std::string why;
  if (!ReadTag(&r, kLogEntryTag, &why)) return Bad(what, why);
  LogEntry e;
  e.index = index;
  std::uint32_t len = 0;
  if (!r.ReadBigEndian64(&e.term) || !r.ReadU8(&e.type) ||
      !r.ReadBytes(e.chain_hash.data(), e.chain_hash.size()) || !r.ReadBigEndian32(&len)) {
    return Bad(what, "record of " + std::to_string(bytes.size()) + " bytes is too short");
  }
  if (e.type > kEntryConfChangeV2) return Bad(what, "unknown entry type " + std::to_string(e.type));
  if (r.remaining() != len) {
    return Bad(what, "data length " + std::to_string(len) + " but " +
                         std::to_string(r.remaining()) + " bytes follow");
  }
  std::string_view data;
  const bool read = r.ReadView(len, &data);
  ASPEN_ASSERT(read);
  e.data.assign(data);
  return e;
}

std::string EncodeHardState(const HardState& hs) {
  std::string out;
  out.push_back(static_cast<char>(kHardStateTag));
  PutBigEndian64(&out, hs.term);
  PutBigEndian64(&out, hs.vote);
  PutBigEndian64(&out, hs.commit);
  return out;
}

Result<HardState> DecodeHardState(std::string_view bytes) {
  ByteReader r(bytes);
  std::string why;
  if (!ReadTag(&r, kHardStateTag, &why)) return Bad("hard state", why);
  HardState hs;
  if (!r.ReadBigEndian64(&hs.term) || !r.ReadBigEndian64(&hs.vote) ||
      !r.ReadBigEndian64(&hs.commit) || r.remaining() != 0) {
    return Bad("hard state", "record has " + std::to_string(bytes.size()) + " bytes, want 25");
  }
  return hs;
}

std::string EncodeTruncatedState(const TruncatedState& ts) {
  std::string out;
  out.push_back(static_cast<char>(kTruncatedTag));
  PutBigEndian64(&out, ts.index);
  PutBigEndian64(&out, ts.term);
  PutHash(&out, ts.chain_hash);
  return out;
}

Result<TruncatedState> DecodeTruncatedState(std::string_view bytes) {
  ByteReader r(bytes);
  std::string why;
  if (!ReadTag(&r, kTruncatedTag, &why)) return Bad("truncated state", why);
  TruncatedState ts;
  if (!r.ReadBigEndian64(&ts.index) || !r.ReadBigEndian64(&ts.term) ||
      !r.ReadBytes(ts.chain_hash.data(), ts.chain_hash.size()) || r.remaining() != 0) {
    return Bad("truncated state", "record has " + std::to_string(bytes.size()) + " bytes, want 49");
  }
  return ts;
}

std::string EncodeSnapshotMeta(const SnapshotMeta& meta) {
  ASPEN_ASSERT(meta.conf_state.size() <= std::numeric_limits<std::uint32_t>::max());
  std::string out;
  out.push_back(static_cast<char>(kSnapshotTag));
  PutBigEndian64(&out, meta.index);
  PutBigEndian64(&out, meta.term);
  PutHash(&out, meta.chain_hash);
  PutBigEndian32(&out, static_cast<std::uint32_t>(meta.conf_state.size()));
  out.append(meta.conf_state);
  return out;
}

Result<SnapshotMeta> DecodeSnapshotMeta(std::string_view bytes) {
  ByteReader r(bytes);
  std::string why;
  if (!ReadTag(&r, kSnapshotTag, &why)) return Bad("snapshot metadata", why);
  SnapshotMeta meta;
  std::uint32_t len = 0;
  if (!r.ReadBigEndian64(&meta.index) || !r.ReadBigEndian64(&meta.term) ||
      !r.ReadBytes(meta.chain_hash.data(), meta.chain_hash.size()) || !r.ReadBigEndian32(&len)) {
    return Bad("snapshot metadata",
               "record of " + std::to_string(bytes.size()) + " bytes is too short");
  }
  if (r.remaining() != len) {
    return Bad("snapshot metadata", "conf state length " + std::to_string(len) + " but " +
                                        std::to_string(r.remaining()) + " bytes follow");
  }
  std::string_view conf;
  const bool read = r.ReadView(len, &conf);
  ASPEN_ASSERT(read);
  meta.conf_state.assign(conf);
  return meta;
}

}  // namespace aspen::storage
