// RocksStore maintenance: the size of the state and its full compaction
// (etcd's Defragment).
#include <rocksdb/db.h>

#include "storage/rocks_store.h"
#include "storage/snapshot.h"

namespace aspen::storage {

Result<std::uint64_t> RocksStore::StateBytes() const {
  // Memtables are counted by the entries they hold, not by the arena memory
  // they reserve (a nearly empty memtable reserves about a megabyte).
  const std::string end(64, '\xff');
  const rocksdb::Range everything{rocksdb::Slice(), rocksdb::Slice(end)};
  std::uint64_t total = 0;
  for (Cf cf : StateCfs()) {
    rocksdb::ColumnFamilyHandle* h = handles_[static_cast<std::size_t>(cf)];
    std::uint64_t sst = 0;
    if (!db_->GetIntProperty(h, "rocksdb.live-sst-files-size", &sst)) {
      return Status::Internal("rocksdb property live-sst-files-size is unavailable for " +
                              std::string(CfName(cf)));
    }
    std::uint64_t count = 0;
    std::uint64_t mem = 0;
    db_->GetApproximateMemTableStats(h, everything, &count, &mem);
    total += sst + mem;
  }
  return total;
}

Status RocksStore::Defragment() {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  rocksdb::Status s = db_->Flush(fo, handles_);
  if (!s.ok()) return Status::IOError("defragment: flush of " + dir_ + ": " + s.ToString());
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  co.change_level = false;
  for (Cf cf : StateCfs()) {
    s = db_->CompactRange(co, handles_[static_cast<std::size_t>(cf)], nullptr, nullptr);
    if (!s.ok()) {
      return Status::IOError("defragment: compaction of " + std::string(CfName(cf)) + " in " +
                             dir_ + ": " + s.ToString());
    }
  }
  return Status::Ok();
}

Status RocksStore::PauseBackgroundWork() {
  const rocksdb::Status s = db_->PauseBackgroundWork();
  if (!s.ok()) return Status::IOError("pause background work in " + dir_ + ": " + s.ToString());
  return Status::Ok();
}

Status RocksStore::ContinueBackgroundWork() {
  const rocksdb::Status s = db_->ContinueBackgroundWork();
  if (!s.ok()) return Status::IOError("continue background work in " + dir_ + ": " + s.ToString());
  return Status::Ok();
}

}  // namespace aspen::storage
