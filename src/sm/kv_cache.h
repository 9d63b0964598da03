// KvCache: the current Cf::kKv record of recently read or written keys, owned
// by the StateMachine, so that applying a put (ExecPut reads the key's record
// for create_revision, version and prev_kv) skips a store Get, which in
// RocksDB searches a memtable holding every revision written
// (docs/STATE_MACHINE.md, "Apply").
//
// Exact: an entry equals what the store holds for the key once the last
// Apply's batch is written, which the StateMachine contract guarantees before
// the next Apply (a failed write discards the StateMachine, and with it the
// cache). Entries come from two places only: records read from the store
// snapshot an Apply started from, and the kv rows that Apply's batch writes
// (a deletion is cached as "absent"). Nothing else writes Cf::kKv while a
// StateMachine is open (a snapshot install reopens it).
//
// Bounded: two generations of at most limits::kKvCacheEntries entries and
// limits::kKvCacheBytes bytes each; when the young one fills, it becomes the
// old one and the previous old one is dropped.
//
// Thread safety: none; used by the thread that applies.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sm/view.h"
#include "storage/write_batch.h"

namespace aspen::sm {

class KvCache {
 public:
  // nullptr: not cached. Otherwise the record bytes, or nullopt when the
  // store holds no row for the key. Valid until the next Put.
  const std::optional<std::string>* Find(std::string_view key) const;
  void Put(std::string_view key, std::optional<std::string> record);
  // Records the Cf::kKv rows of a batch about to be written, in its order.
  void PutWrites(const storage::WriteBatch& batch);
  void Clear();

  std::size_t size() const { return young_.map.size() + old_.map.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Generation {
    std::unordered_map<std::string, std::optional<std::string>, Hash, std::equal_to<>> map;
    std::size_t bytes = 0;
  };
  static std::size_t Cost(std::string_view key, const std::optional<std::string>& record);

  Generation young_;
  Generation old_;
};

// A KvView that answers Cf::kKv Gets from a KvCache and fills the cache from
// `base` on a miss; everything else goes to `base`, which must show the store
// as of the last written batch (the snapshot an Apply starts from).
class CachedKvView final : public KvView {
 public:
  CachedKvView(const KvView* base, KvCache* cache) : base_(base), cache_(cache) {}
  Status Get(storage::Cf cf, std::string_view key, std::string* value) const override;
  std::unique_ptr<ForwardIterator> Scan(storage::Cf cf, std::string_view lower,
                                        std::optional<std::string_view> upper) const override {
    return base_->Scan(cf, lower, upper);
  }

 private:
  const KvView* base_;
  KvCache* cache_;
};

}  // namespace aspen::sm
