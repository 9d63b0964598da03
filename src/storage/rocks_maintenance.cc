// RocksStore maintenance: the size of the state and its full compaction
// (etcd's Defragment).
#include <rocksdb/db.h>

#include "storage/rocks_store.h"
#include "storage/snapshot.h"

namespace aspen::storage {

Result<std::uint64_t> RocksStore::StateBytes() const {
  std::uint64_t total = 0;
  for (Cf cf : StateCfs()) {
    rocksdb::ColumnFamilyHandle* h = handles_[static_cast<std::size_t>(cf)];
    for (const char* prop : {"rocksdb.live-sst-files-size", "rocksdb.cur-size-all-mem-tables"}) {
      std::uint64_t v = 0;
      if (!db_->GetIntProperty(h, prop, &v)) {
        return Status::Internal(std::string("rocksdb property ") + prop + " is unavailable for " +
                                std::string(CfName(cf)));
      }
      total += v;
    }
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

}  // namespace aspen::storage
