// The four built-in secondary indexes, kept in Cf::kIndex in the same batch as
// the kv rows they describe (DESIGN.md, "State machine").
//
// Layout (tuple-encoded, so the tuple layer is dogfooded and ranges of values
// are contiguous byte ranges):
//   ("idx", name, value: int, key: bytes) -> "" (empty value)
// with name one of:
//   "mod_revision"     every key, value = its mod_revision
//   "create_revision"  every key, value = its create_revision
//   "expires_at"       keys with a TTL, value = expires_at_ms
//   "lease_id"         keys attached to a lease, value = the lease id
// The names are persisted: DO NOT CHANGE them.
//
// Invariant: the index rows equal IndexKeysFor(key, meta) over every kv row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "sm/record.h"
#include "sm/view.h"

namespace aspen::sm {

enum class IndexName { kModRevision, kCreateRevision, kExpiresAt, kLeaseId };

std::string_view IndexNameString(IndexName name);

std::string IndexKey(IndexName name, std::int64_t value, std::string_view key);
// [begin, end) covering every row of `name` whose value is in [lo, hi].
std::pair<std::string, std::string> IndexValueRange(IndexName name, std::int64_t lo,
                                                    std::int64_t hi);

struct IndexEntry {
  std::int64_t value = 0;
  std::string key;
};
// Decodes a row of index `name`; Corruption when the bytes are not one.
Status DecodeIndexKey(IndexName name, std::string_view bytes, IndexEntry* entry);

// The index rows a kv row implies.
std::vector<std::string> IndexKeysFor(std::string_view key, const KvMeta& meta);

void AddIndexRows(Overlay* overlay, std::string_view key, const KvMeta& meta);
void RemoveIndexRows(Overlay* overlay, std::string_view key, const KvMeta& meta);

}  // namespace aspen::sm
