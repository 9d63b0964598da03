#include "storage/mem_store.h"

#include <atomic>
#include <iterator>
#include <thread>
#include <utility>

#include "storage/batch_check.h"

namespace aspen::storage {

namespace {

// Iterates one immutable map (shared with the snapshot that made it) within
// [lower, upper).
class MemIterator final : public Iterator {
 public:
  MemIterator(std::shared_ptr<const MemStore::Map> map, std::string lower,
              std::optional<std::string> upper)
      : map_(std::move(map)), lower_(std::move(lower)), upper_(std::move(upper)) {
    begin_ = map_->lower_bound(lower_);
    end_ = upper_ ? map_->lower_bound(*upper_) : map_->end();
    if (upper_ && *upper_ < lower_) end_ = begin_;  // an inverted range is empty
    it_ = end_;
  }

  bool Valid() const override { return it_ != end_; }
  void SeekToFirst() override { it_ = begin_; }
  void SeekToLast() override { it_ = begin_ == end_ ? end_ : std::prev(end_); }
  void Seek(std::string_view target) override {
    if (target < lower_) {  // clamp to the lower bound, as RocksDB does
      it_ = begin_;
      return;
    }
    it_ = map_->lower_bound(std::string(target));
    if (it_ == map_->end() || (upper_ && it_->first >= *upper_)) it_ = end_;
  }
  void SeekForPrev(std::string_view target) override {
    if (upper_ && target >= *upper_) {  // clamp to the upper bound, as RocksDB does
      SeekToLast();
      return;
    }
    auto next = map_->upper_bound(std::string(target));  // first key > target
    if (next == map_->begin()) {
      it_ = end_;
      return;
    }
    it_ = std::prev(next);
    if (it_->first < lower_) it_ = end_;
  }
  void Next() override {
    ASPEN_ASSERT(Valid());
    ++it_;
  }
  void Prev() override {
    ASPEN_ASSERT(Valid());
    it_ = it_ == begin_ ? end_ : std::prev(it_);
  }
  std::string_view key() const override {
    ASPEN_ASSERT(Valid());
    return it_->first;
  }
  std::string_view value() const override {
    ASPEN_ASSERT(Valid());
    return it_->second;
  }
  Status status() const override { return Status::Ok(); }

 private:
  std::shared_ptr<const MemStore::Map> map_;
  std::string lower_;
  std::optional<std::string> upper_;
  MemStore::Map::const_iterator begin_;  // first key >= lower
  MemStore::Map::const_iterator end_;    // first key >= upper (or end)
  MemStore::Map::const_iterator it_;     // == end_ when not valid
};

class MemSnapshot final : public Snapshot {
 public:
  explicit MemSnapshot(const MemStore::Maps& maps) {
    for (std::size_t i = 0; i < kNumCfs; ++i) maps_[i] = maps[i];
  }

  Status Get(Cf cf, std::string_view key, std::string* value) const override {
    const MemStore::Map& map = *maps_[static_cast<std::size_t>(cf)];
    auto it = map.find(std::string(key));
    if (it == map.end()) return Status::NotFound("key not found in " + std::string(CfName(cf)));
    *value = it->second;
    return Status::Ok();
  }

  std::unique_ptr<Iterator> NewIterator(Cf cf, std::string_view lower,
                                        std::optional<std::string_view> upper) const override {
    std::optional<std::string> up;
    if (upper) up.emplace(*upper);
    return std::make_unique<MemIterator>(maps_[static_cast<std::size_t>(cf)], std::string(lower),
                                         std::move(up));
  }

 private:
  std::array<std::shared_ptr<const MemStore::Map>, kNumCfs> maps_;
};

}  // namespace

MemStore::MemStore() {
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    live_[i] = std::make_shared<Map>();
    durable_[i] = live_[i];
  }
}

void MemStore::Apply(const WriteBatch& batch, Maps* maps) {
  for (const WriteBatch::Op& op : batch.ops()) {
    std::shared_ptr<Map>& slot = (*maps)[static_cast<std::size_t>(op.cf)];
    // Shared with a snapshot or with the other state: copy before writing.
    if (slot.use_count() > 1) {
      slot = std::make_shared<Map>(*slot);
    } else {
      // Pairs with the release in the last other owner's decrement, so its
      // reads happen before our writes.
      std::atomic_thread_fence(std::memory_order_acquire);
    }
    Map& map = *slot;
    switch (op.type) {
      case WriteBatch::OpType::kPut: map.insert_or_assign(op.key, op.value); break;
      case WriteBatch::OpType::kDelete: map.erase(op.key); break;
      case WriteBatch::OpType::kDeleteRange:
        ASPEN_ASSERT(op.key <= op.value);  // CheckWriteBatch ran
        map.erase(map.lower_bound(op.key), map.lower_bound(op.value));
        break;
    }
  }
}

Status MemStore::Write(const WriteBatch& batch, bool sync) {
  if (const std::int64_t us = delay_us_.load(); us > 0) {
    std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_writes_ > 0) {
    --fail_writes_;
    return fail_status_;
  }
  ASPEN_RETURN_IF_ERROR(CheckWriteBatch(batch));
  Apply(batch, &live_);
  if (sync) {
    for (const WriteBatch& earlier : unsynced_) Apply(earlier, &durable_);
    Apply(batch, &durable_);
    unsynced_.clear();
    ++stats_.synced_writes;
  } else {
    unsynced_.push_back(batch);
  }
  ++stats_.writes;
  return Status::Ok();
}

std::unique_ptr<Snapshot> MemStore::GetSnapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::make_unique<MemSnapshot>(live_);
}

Status MemStore::Get(Cf cf, std::string_view key, std::string* value) {
  std::lock_guard<std::mutex> lock(mu_);
  const Map& map = *live_[static_cast<std::size_t>(cf)];
  auto it = map.find(std::string(key));
  if (it == map.end()) return Status::NotFound("key not found in " + std::string(CfName(cf)));
  *value = it->second;
  return Status::Ok();
}

StoreStats MemStore::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void MemStore::Crash() {
  std::lock_guard<std::mutex> lock(mu_);
  live_ = durable_;
  unsynced_.clear();
}

void MemStore::FailNextWrites(int n, Status status) {
  ASPEN_ASSERT(n >= 0);
  ASPEN_ASSERT(n == 0 || !status.ok());
  std::lock_guard<std::mutex> lock(mu_);
  fail_writes_ = n;
  fail_status_ = std::move(status);
}

std::size_t MemStore::unsynced_writes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unsynced_.size();
}

}  // namespace aspen::storage
