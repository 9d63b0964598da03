#include "sm/index.h"

#include "sm/tuple_codec.h"

namespace aspen::sm {

std::string_view IndexNameString(IndexName name) {
  switch (name) {
    case IndexName::kModRevision: return "mod_revision";
    case IndexName::kCreateRevision: return "create_revision";
    case IndexName::kExpiresAt: return "expires_at";
    case IndexName::kLeaseId: return "lease_id";
  }
  ASPEN_ASSERT(false);
  return {};
}

namespace {

std::string ValuePrefix(IndexName name, std::int64_t value) {
  return PackIndexPrefix(IndexNameString(name), value);
}

}  // namespace

std::string IndexKey(IndexName name, std::int64_t value, std::string_view key) {
  return PackIndexKey(IndexNameString(name), value, key);
}

std::pair<std::string, std::string> IndexValueRange(IndexName name, std::int64_t lo,
                                                    std::int64_t hi) {
  std::string begin = ValuePrefix(name, lo);
  if (hi < lo) return {begin, begin};
  // Every row with value hi continues its prefix with the key element, whose
  // type code is below 0xff.
  std::string end = ValuePrefix(name, hi);
  end.push_back('\xff');
  return {std::move(begin), std::move(end)};
}

Status DecodeIndexKey(IndexName name, std::string_view bytes, IndexEntry* entry) {
  return UnpackIndexKey(IndexNameString(name), bytes, &entry->value, &entry->key);
}

std::vector<std::string> IndexKeysFor(std::string_view key, const KvMeta& meta) {
  std::vector<std::string> rows;
  rows.push_back(IndexKey(IndexName::kModRevision, meta.mod_revision, key));
  rows.push_back(IndexKey(IndexName::kCreateRevision, meta.create_revision, key));
  if (meta.expires_at_ms != 0)
    rows.push_back(IndexKey(IndexName::kExpiresAt, meta.expires_at_ms, key));
  if (meta.lease != 0) rows.push_back(IndexKey(IndexName::kLeaseId, meta.lease, key));
  return rows;
}

void AddIndexRows(Overlay* overlay, std::string_view key, const KvMeta& meta) {
  for (const std::string& row : IndexKeysFor(key, meta)) overlay->Put(storage::Cf::kIndex, row, "");
}

void RemoveIndexRows(Overlay* overlay, std::string_view key, const KvMeta& meta) {
  for (const std::string& row : IndexKeysFor(key, meta)) overlay->Delete(storage::Cf::kIndex, row);
}

}  // namespace aspen::sm
