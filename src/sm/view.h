// Read views used inside the state machine: a storage::Snapshot, or an Overlay
// of the pending (not yet written) changes of one Apply call in front of a
// snapshot. Both are read through KvView so every command and read algorithm
// is written once.
//
// Only forward iteration is needed (descending results are sorted in memory,
// as etcd fetches everything before sorting anyway).
//
// Thread safety: none; a view belongs to the thread that made it.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/store.h"
#include "storage/write_batch.h"

namespace aspen::sm {

class ForwardIterator {
 public:
  virtual ~ForwardIterator() = default;
  virtual bool Valid() const = 0;
  virtual void Next() = 0;
  // Valid until the next move; requires Valid().
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  // Non-ok when iteration stopped on an error rather than at the end.
  virtual Status status() const = 0;
};

class KvView {
 public:
  virtual ~KvView() = default;
  // NotFound when absent.
  virtual Status Get(storage::Cf cf, std::string_view key, std::string* value) const = 0;
  // Keys in [lower, upper) in ascending byte order; nullopt upper = no bound.
  // The view must not change while the iterator is in use.
  virtual std::unique_ptr<ForwardIterator> Scan(storage::Cf cf, std::string_view lower,
                                                std::optional<std::string_view> upper) const = 0;
};

// A KvView over a snapshot it does not own (must outlive the view).
class SnapshotView final : public KvView {
 public:
  explicit SnapshotView(const storage::Snapshot* snapshot) : snapshot_(snapshot) {}
  Status Get(storage::Cf cf, std::string_view key, std::string* value) const override;
  std::unique_ptr<ForwardIterator> Scan(storage::Cf cf, std::string_view lower,
                                        std::optional<std::string_view> upper) const override;

 private:
  const storage::Snapshot* snapshot_;
};

// Pending changes in front of a base view. Every Put/Delete is recorded both
// in an ordered map (so later reads see it) and, in order, in the WriteBatch
// that Apply hands back to the caller.
//
// Invariant: reading the overlay equals reading the base after writing batch().
class Overlay final : public KvView {
 public:
  explicit Overlay(const KvView* base) : base_(base) {}

  Status Get(storage::Cf cf, std::string_view key, std::string* value) const override;
  std::unique_ptr<ForwardIterator> Scan(storage::Cf cf, std::string_view lower,
                                        std::optional<std::string_view> upper) const override;

  void Put(storage::Cf cf, std::string_view key, std::string_view value);
  void Delete(storage::Cf cf, std::string_view key);

  storage::WriteBatch& batch() { return batch_; }

 private:
  using Pending = std::map<std::string, std::optional<std::string>, std::less<>>;
  const KvView* base_;
  std::array<Pending, storage::kNumCfs> pending_;
  storage::WriteBatch batch_;
};

}  // namespace aspen::sm
