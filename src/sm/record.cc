#include "sm/record.h"

namespace aspen::sm {

void PutVarint64(std::string* dst, std::uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

bool GetVarint64(std::string_view* in, std::uint64_t* v) {
  std::uint64_t result = 0;
  for (std::size_t i = 0; i < 10 && i < in->size(); ++i) {
    const auto byte = static_cast<std::uint8_t>((*in)[i]);
    if (i == 9 && byte > 1) return false;  // would overflow 64 bits
    result |= static_cast<std::uint64_t>(byte & 0x7f) << (7 * i);
    if ((byte & 0x80) == 0) {
      in->remove_prefix(i + 1);
      *v = result;
      return true;
    }
  }
  return false;
}

std::string EncodeKvRecord(const KvMeta& meta, std::string_view value) {
  ASPEN_ASSERT(meta.create_revision >= 1);
  ASPEN_ASSERT(meta.mod_revision >= meta.create_revision);
  ASPEN_ASSERT(meta.version >= 1 && meta.version <= meta.mod_revision - meta.create_revision + 1);
  ASPEN_ASSERT(meta.expires_at_ms >= 0);
  std::string out;
  out.reserve(1 + 6 * 10 + value.size());
  out.push_back(static_cast<char>(kKvRecordTagV1));
  PutVarint64(&out, static_cast<std::uint64_t>(meta.create_revision));
  PutVarint64(&out, static_cast<std::uint64_t>(meta.mod_revision));
  PutVarint64(&out, static_cast<std::uint64_t>(meta.version));
  PutVarint64(&out, static_cast<std::uint64_t>(meta.expires_at_ms));
  PutVarint64(&out, static_cast<std::uint64_t>(meta.lease));
  PutVarint64(&out, value.size());
  out.append(value);
  return out;
}

Status DecodeKvRecord(std::string_view bytes, KvMeta* meta, std::string_view* value) {
  if (bytes.empty()) return Status::Corruption("kv record is empty");
  if (static_cast<std::uint8_t>(bytes[0]) != kKvRecordTagV1) {
    return Status::Corruption("kv record has unknown tag " +
                              std::to_string(static_cast<std::uint8_t>(bytes[0])));
  }
  bytes.remove_prefix(1);
  std::uint64_t f[6];
  static constexpr const char* kNames[6] = {"create_revision", "mod_revision", "version",
                                            "expires_at_ms",   "lease",        "value length"};
  for (int i = 0; i < 6; ++i) {
    if (!GetVarint64(&bytes, &f[i])) {
      return Status::Corruption(std::string("kv record: truncated or bad varint for ") + kNames[i]);
    }
  }
  KvMeta m;
  m.create_revision = static_cast<std::int64_t>(f[0]);
  m.mod_revision = static_cast<std::int64_t>(f[1]);
  m.version = static_cast<std::int64_t>(f[2]);
  m.expires_at_ms = static_cast<std::int64_t>(f[3]);
  m.lease = static_cast<std::int64_t>(f[4]);
  if (f[5] != bytes.size()) {
    return Status::Corruption("kv record: value length " + std::to_string(f[5]) + " but " +
                              std::to_string(bytes.size()) + " bytes remain");
  }
  // Each version after the first needs its own later revision, so
  // version <= mod_revision - create_revision + 1 (which also keeps
  // version + 1 from overflowing).
  if (m.create_revision < 1 || m.mod_revision < m.create_revision || m.version < 1 ||
      m.version > m.mod_revision - m.create_revision + 1 || m.expires_at_ms < 0) {
    return Status::Corruption("kv record: revisions, version or expiry out of range");
  }
  *meta = m;
  *value = bytes;
  return Status::Ok();
}

std::string EncodeFixed64(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

Status DecodeFixed64(std::string_view bytes, std::uint64_t* v) {
  if (bytes.size() != 8) {
    return Status::Corruption("fixed64: expected 8 bytes, got " + std::to_string(bytes.size()));
  }
  std::uint64_t r = 0;
  for (char c : bytes) r = (r << 8) | static_cast<std::uint8_t>(c);
  *v = r;
  return Status::Ok();
}

std::string EncodeLeaseKey(std::int64_t id) {
  return EncodeFixed64(static_cast<std::uint64_t>(id));
}

Status DecodeLeaseKey(std::string_view bytes, std::int64_t* id) {
  std::uint64_t v = 0;
  ASPEN_RETURN_IF_ERROR(DecodeFixed64(bytes, &v));
  *id = static_cast<std::int64_t>(v);
  return Status::Ok();
}

std::string EncodeLeaseRecord(std::int64_t granted_ttl_s) {
  ASPEN_ASSERT(granted_ttl_s >= 1);
  std::string out(1, static_cast<char>(kLeaseRecordTagV1));
  PutVarint64(&out, static_cast<std::uint64_t>(granted_ttl_s));
  return out;
}

Status DecodeLeaseRecord(std::string_view bytes, std::int64_t* granted_ttl_s) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != kLeaseRecordTagV1) {
    return Status::Corruption("lease record: missing or unknown tag");
  }
  bytes.remove_prefix(1);
  std::uint64_t ttl = 0;
  if (!GetVarint64(&bytes, &ttl) || !bytes.empty()) {
    return Status::Corruption("lease record: bad ttl varint or trailing bytes");
  }
  if (ttl < 1 || ttl > static_cast<std::uint64_t>(INT64_MAX)) {
    return Status::Corruption("lease record: ttl out of range");
  }
  *granted_ttl_s = static_cast<std::int64_t>(ttl);
  return Status::Ok();
}

}  // namespace aspen::sm
