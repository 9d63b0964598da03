// WriteBatch: an ordered list of mutations across column families, applied
// atomically by Store::Write. Both engines (RocksStore, MemStore) consume it.
//
// Thread safety: none; a batch is built and written by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/column_families.h"

namespace aspen::storage {

class WriteBatch {
 public:
  enum class OpType : std::uint8_t { kPut = 0, kDelete = 1, kDeleteRange = 2 };

  struct Op {
    OpType type;
    Cf cf;
    std::string key;    // for kDeleteRange: the inclusive start
    std::string value;  // for kDeleteRange: the exclusive end
  };

  void Put(Cf cf, std::string_view key, std::string_view value) {
    bytes_ += key.size() + value.size();
    ops_.push_back(Op{OpType::kPut, cf, std::string(key), std::string(value)});
  }
  void Delete(Cf cf, std::string_view key) {
    bytes_ += key.size();
    ops_.push_back(Op{OpType::kDelete, cf, std::string(key), {}});
  }
  // Deletes every key k with begin <= k < end.
  void DeleteRange(Cf cf, std::string_view begin, std::string_view end) {
    bytes_ += begin.size() + end.size();
    ops_.push_back(Op{OpType::kDeleteRange, cf, std::string(begin), std::string(end)});
  }
  // Appends every op of `other`, in order.
  void Append(const WriteBatch& other) {
    ops_.insert(ops_.end(), other.ops_.begin(), other.ops_.end());
    bytes_ += other.bytes_;
  }
  void Clear() {
    ops_.clear();
    bytes_ = 0;
  }

  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }
  std::size_t count() const { return ops_.size(); }
  // Sum of key and value sizes: an approximation of the batch's size on disk.
  std::size_t approximate_bytes() const { return bytes_; }

 private:
  std::vector<Op> ops_;
  std::size_t bytes_ = 0;
};

}  // namespace aspen::storage
