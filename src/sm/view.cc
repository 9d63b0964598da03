#include "sm/view.h"

namespace aspen::sm {
namespace {

// Adapts a storage::Iterator (already positioned) to ForwardIterator.
class StorageForwardIterator final : public ForwardIterator {
 public:
  explicit StorageForwardIterator(std::unique_ptr<storage::Iterator> it) : it_(std::move(it)) {}
  bool Valid() const override { return it_->Valid(); }
  void Next() override { it_->Next(); }
  std::string_view key() const override { return it_->key(); }
  std::string_view value() const override { return it_->value(); }
  Status status() const override { return it_->status(); }

 private:
  std::unique_ptr<storage::Iterator> it_;
};

class EmptyIterator final : public ForwardIterator {
 public:
  bool Valid() const override { return false; }
  void Next() override { ASPEN_ASSERT(false); }
  std::string_view key() const override {
    ASPEN_ASSERT(false);
    return {};
  }
  std::string_view value() const override {
    ASPEN_ASSERT(false);
    return {};
  }
  Status status() const override { return Status::Ok(); }
};

// Merges a base iterator with a range of pending changes. A pending entry
// shadows the base entry with the same key; a pending deletion hides it.
class MergingIterator final : public ForwardIterator {
 public:
  using PendingIt = std::map<std::string, std::optional<std::string>, std::less<>>::const_iterator;

  MergingIterator(std::unique_ptr<ForwardIterator> base, PendingIt pos, PendingIt end)
      : base_(std::move(base)), pos_(pos), end_(end) {
    Settle();
  }
  bool Valid() const override { return current_ != Source::kNone; }
  void Next() override {
    ASPEN_ASSERT(Valid());
    if (current_ == Source::kPending) {
      // The base entry with the same key (if any) was already skipped by Settle.
      ++pos_;
    } else {
      base_->Next();
    }
    Settle();
  }
  std::string_view key() const override {
    ASPEN_ASSERT(Valid());
    return current_ == Source::kPending ? std::string_view(pos_->first) : base_->key();
  }
  std::string_view value() const override {
    ASPEN_ASSERT(Valid());
    return current_ == Source::kPending ? std::string_view(*pos_->second) : base_->value();
  }
  Status status() const override { return base_->status(); }

 private:
  enum class Source { kNone, kBase, kPending };

  // Positions on the smallest visible key of the two sources.
  void Settle() {
    for (;;) {
      const bool has_base = base_->Valid();
      const bool has_pending = pos_ != end_;
      if (!has_base && !has_pending) {
        current_ = Source::kNone;
        return;
      }
      if (has_pending && (!has_base || pos_->first <= base_->key())) {
        if (has_base && pos_->first == base_->key()) base_->Next();  // shadowed
        if (!pos_->second.has_value()) {
          ++pos_;  // a pending deletion
          continue;
        }
        current_ = Source::kPending;
        return;
      }
      current_ = Source::kBase;
      return;
    }
  }

  std::unique_ptr<ForwardIterator> base_;
  PendingIt pos_;
  PendingIt end_;
  Source current_ = Source::kNone;
};

}  // namespace

Status SnapshotView::Get(storage::Cf cf, std::string_view key, std::string* value) const {
  return snapshot_->Get(cf, key, value);
}

std::unique_ptr<ForwardIterator> SnapshotView::Scan(storage::Cf cf, std::string_view lower,
                                                    std::optional<std::string_view> upper) const {
  if (upper.has_value() && *upper <= lower) return std::make_unique<EmptyIterator>();
  auto it = snapshot_->NewIterator(cf, lower, upper);
  it->Seek(lower);
  return std::make_unique<StorageForwardIterator>(std::move(it));
}

Status Overlay::Get(storage::Cf cf, std::string_view key, std::string* value) const {
  const Pending& p = pending_[static_cast<std::size_t>(cf)];
  auto it = p.find(key);
  if (it == p.end()) return base_->Get(cf, key, value);
  if (!it->second.has_value()) return Status::NotFound("deleted in this batch");
  *value = *it->second;
  return Status::Ok();
}

std::unique_ptr<ForwardIterator> Overlay::Scan(storage::Cf cf, std::string_view lower,
                                               std::optional<std::string_view> upper) const {
  const Pending& p = pending_[static_cast<std::size_t>(cf)];
  auto begin = p.lower_bound(lower);
  auto end = upper.has_value() ? p.lower_bound(*upper) : p.end();
  if (upper.has_value() && *upper <= lower) end = begin;
  return std::make_unique<MergingIterator>(base_->Scan(cf, lower, upper), begin, end);
}

void Overlay::Put(storage::Cf cf, std::string_view key, std::string_view value) {
  pending_[static_cast<std::size_t>(cf)].insert_or_assign(std::string(key), std::string(value));
  batch_.Put(cf, key, value);
}

void Overlay::Delete(storage::Cf cf, std::string_view key) {
  pending_[static_cast<std::size_t>(cf)].insert_or_assign(std::string(key), std::nullopt);
  batch_.Delete(cf, key);
}

}  // namespace aspen::sm
