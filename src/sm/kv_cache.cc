#include "sm/kv_cache.h"

#include <utility>

#include "base/limits.h"

namespace aspen::sm {

std::size_t KvCache::Cost(std::string_view key, const std::optional<std::string>& record) {
  constexpr std::size_t kNodeOverhead = 64;  // hash node, two strings' headers
  return key.size() + (record.has_value() ? record->size() : 0) + kNodeOverhead;
}

const std::optional<std::string>* KvCache::Find(std::string_view key) const {
  auto it = young_.map.find(key);
  if (it != young_.map.end()) return &it->second;
  it = old_.map.find(key);
  if (it != old_.map.end()) return &it->second;
  return nullptr;
}

void KvCache::Put(std::string_view key, std::optional<std::string> record) {
  const std::size_t cost = Cost(key, record);
  auto it = young_.map.find(key);
  if (it != young_.map.end()) {
    young_.bytes -= Cost(key, it->second);
    it->second = std::move(record);
  } else {
    // The young entry shadows a stale one in the old generation.
    young_.map.emplace(std::string(key), std::move(record));
  }
  young_.bytes += cost;
  if (young_.map.size() >= limits::kKvCacheEntries || young_.bytes >= limits::kKvCacheBytes) {
    old_ = std::exchange(young_, Generation{});
  }
}

void KvCache::PutWrites(const storage::WriteBatch& batch) {
  for (const storage::WriteBatch::Op& op : batch.ops()) {
    if (op.cf != storage::Cf::kKv) continue;
    switch (op.type) {
      case storage::WriteBatch::OpType::kPut: Put(op.key, op.value); break;
      case storage::WriteBatch::OpType::kDelete: Put(op.key, std::nullopt); break;
      case storage::WriteBatch::OpType::kDeleteRange: Clear(); break;  // not used by Apply
    }
  }
}

void KvCache::Clear() {
  young_ = Generation{};
  old_ = Generation{};
}

Status CachedKvView::Get(storage::Cf cf, std::string_view key, std::string* value) const {
  if (cf != storage::Cf::kKv) return base_->Get(cf, key, value);
  if (const std::optional<std::string>* hit = cache_->Find(key); hit != nullptr) {
    if (!hit->has_value()) return Status::NotFound("no kv row");
    *value = **hit;
    return Status::Ok();
  }
  Status s = base_->Get(cf, key, value);
  if (s.ok()) {
    cache_->Put(key, *value);
  } else if (s.code() == Code::kNotFound) {
    cache_->Put(key, std::nullopt);
  }
  return s;
}

}  // namespace aspen::sm
