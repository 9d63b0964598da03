#include "storage/rocks_store.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/iterator.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/write_batch.h>

#include "storage/batch_check.h"
#include "storage/rocks_options.h"
#include "storage/scan_flush.h"
#include "storage/wal_presize_fs.h"

namespace aspen::storage {

namespace {

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}
std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Maps a RocksDB status; `what` names the operation and the directory.
Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  const std::string detail = what + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(detail);
  if (s.IsCorruption()) return Status::Corruption(detail);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(detail);
  if (s.IsIOError() && Contains(s.ToString(), "Permission denied")) {
    return Status::IOError(what + ": permission denied (" + s.ToString() + ")");
  }
  return Status::IOError(detail);
}

// Open-time errors get a message that says what to do about them.
Status OpenError(const rocksdb::Status& s, const std::string& dir) {
  const std::string msg = s.ToString();
  // RocksDB: "While lock file: D/LOCK: Resource temporarily unavailable" (another
  // process) or "lock hold by current process ... D/LOCK" (this one).
  if (s.IsIOError() && (Contains(msg, "/LOCK:") || Contains(msg, "lock hold by current process"))) {
    return Status::FailedPrecondition("data dir " + dir +
                                      " is locked by another aspen process (or already open "
                                      "in this one); stop it or use another --data-dir (" +
                                      msg + ")");
  }
  if (s.IsCorruption()) {
    return Status::Corruption("data dir " + dir + " holds a corrupt database (" + msg + ")");
  }
  return FromRocks(s, "cannot open data dir " + dir);
}

// Column families whose rows are overwritten in place, so that a scan may
// step over many hidden versions of each key (scan_flush.h).
bool ScanFlushApplies(Cf cf) {
  return cf == Cf::kKv || cf == Cf::kIndex || cf == Cf::kLease;
}

class RocksIterator final : public Iterator {
 public:
  // `scan_flush` (may be null) hears of this scan's hidden entries when the
  // iterator goes away.
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snap,
                std::string_view lower, std::optional<std::string_view> upper,
                ScanFlush* scan_flush, Cf which)
      : lower_(lower), scan_flush_(scan_flush), cf_(which) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap;
    if (!lower_.empty()) {
      lower_slice_ = ToSlice(lower_);
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (upper) {
      // An inverted range is empty: clamp upper to lower.
      upper_ = *upper < lower_ ? lower_ : std::string(*upper);
      upper_slice_ = ToSlice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));  // keeps pointers to the slices above
  }

  ~RocksIterator() override {
    it_.reset();  // its memtable references go before a flush is asked for
    if (scan_flush_ != nullptr) scan_flush_->OnScan(cf_, keys_, hidden_);
  }

  bool Valid() const override { return it_->Valid(); }
  void SeekToFirst() override {
    if (scan_flush_ == nullptr) return it_->SeekToFirst();
    HiddenEntryCounter counter;
    it_->SeekToFirst();
    Count(counter.skipped());
  }
  void SeekToLast() override { it_->SeekToLast(); }
  void Seek(std::string_view target) override {
    if (scan_flush_ == nullptr) return it_->Seek(ToSlice(target));
    HiddenEntryCounter counter;
    it_->Seek(ToSlice(target));
    Count(counter.skipped());
  }
  void SeekForPrev(std::string_view target) override { it_->SeekForPrev(ToSlice(target)); }
  void Next() override {
    ASPEN_ASSERT(Valid());
    if (scan_flush_ == nullptr) return it_->Next();
    HiddenEntryCounter counter;
    it_->Next();
    // RocksDB counts the entry Next moves off as skipped too.
    const std::uint64_t skipped = counter.skipped();
    Count(skipped > 0 ? skipped - 1 : 0);
  }
  void Prev() override {
    ASPEN_ASSERT(Valid());
    it_->Prev();
  }
  std::string_view key() const override {
    ASPEN_ASSERT(Valid());
    return ToView(it_->key());
  }
  std::string_view value() const override {
    ASPEN_ASSERT(Valid());
    return ToView(it_->value());
  }
  Status status() const override { return FromRocks(it_->status(), "iterator"); }

 private:
  void Count(std::uint64_t hidden) {
    hidden_ += hidden;
    if (it_->Valid()) ++keys_;
  }

  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
  ScanFlush* scan_flush_;
  Cf cf_;
  std::uint64_t keys_ = 0;    // positions landed on (forward moves only)
  std::uint64_t hidden_ = 0;  // hidden entries skipped to reach them
};

class RocksSnapshot final : public Snapshot {
 public:
  RocksSnapshot(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>* handles,
                ScanFlush* scan_flush)
      : db_(db), handles_(handles), scan_flush_(scan_flush), snap_(db->GetSnapshot()) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snap_); }

  Status Get(Cf cf, std::string_view key, std::string* value) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    rocksdb::Status s = db_->Get(ro, handle(cf), ToSlice(key), value);
    if (s.IsNotFound()) return Status::NotFound("key not found in " + std::string(CfName(cf)));
    return FromRocks(s, "get from " + std::string(CfName(cf)));
  }

  std::unique_ptr<Iterator> NewIterator(Cf cf, std::string_view lower,
                                        std::optional<std::string_view> upper) const override {
    return std::make_unique<RocksIterator>(db_, handle(cf), snap_, lower, upper,
                                           ScanFlushApplies(cf) ? scan_flush_ : nullptr, cf);
  }

 private:
  rocksdb::ColumnFamilyHandle* handle(Cf cf) const {
    return (*handles_)[static_cast<std::size_t>(cf)];
  }

  rocksdb::DB* db_;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles_;
  ScanFlush* scan_flush_;
  const rocksdb::Snapshot* snap_;
};

}  // namespace

Result<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& dir,
                                                     const RocksOptions& options) {
  std::unique_ptr<RocksStore> store(new RocksStore());
  store->dir_ = dir;
  if (options.create_if_missing) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec == std::errc::permission_denied) {
      return Status::IOError("cannot create data dir " + dir + ": permission denied");
    }
    if (ec) return Status::IOError("cannot create data dir " + dir + ": " + ec.message());
  }
  std::shared_ptr<rocksdb::FileSystem> fs = rocksdb::FileSystem::Default();
  if (options.wal_presize_bytes > 0) {
    fs = std::make_shared<WalPresizeFileSystem>(fs, options.wal_presize_bytes);
  }
  if (options.count_syncs) {
    store->counting_fs_ = std::make_shared<CountingFileSystem>(fs);
    fs = store->counting_fs_;
  }
  if (fs != rocksdb::FileSystem::Default()) store->env_ = rocksdb::NewCompositeEnv(fs);
  RocksConfig config = MakeRocksConfig(options, store->env_.get());
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(config.db, dir, config.column_families, &handles, &raw);
  if (!s.ok()) return OpenError(s, dir);
  store->db_.reset(raw);
  ASPEN_ASSERT(handles.size() == kNumCfs + 1);
  // Aspen never uses "default"; the rest are in Cf order.
  rocksdb::Status destroyed = store->db_->DestroyColumnFamilyHandle(handles.back());
  ASPEN_ASSERT(destroyed.ok());
  handles.pop_back();
  store->handles_ = std::move(handles);
  for (std::size_t i = 0; i < kNumCfs; ++i) {
    ASPEN_ASSERT(store->handles_[i]->GetName() == CfName(static_cast<Cf>(i)));
  }
  if (options.scan_flush.hidden_per_key > 0) {
    store->scan_flush_ =
        std::make_unique<ScanFlush>(store->db_.get(), &store->handles_, options.scan_flush);
  }
  // One synced write now: what recovery found (unsynced writes of the last
  // run included) becomes durable before anyone acts on it, and the new WAL's
  // directory entry is synced here rather than by the first synced Write.
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::WriteBatch empty;
  s = store->db_->Write(sync, &empty);
  if (!s.ok()) return OpenError(s, dir);
  return store;
}

RocksStore::~RocksStore() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    rocksdb::Status s = db_->DestroyColumnFamilyHandle(h);
    ASPEN_ASSERT(s.ok());
  }
  handles_.clear();
  // Close reports a failure to release files; there is no one to tell in a
  // destructor, and the WAL already holds every write.
  db_->Close().PermitUncheckedError();
  db_.reset();
}

namespace {

// The order in which a batch's ops go into RocksDB's WriteBatch, and so into
// the memtables. A memtable insert is a skip-list search from the top unless
// the key lands right after the memtable's previous insert (RocksDB keeps
// that position per memtable), which is what appends of ascending keys do:
// raft log entries, history event rows ('r' revision), new mod_revision index
// rows. An apply batch interleaves them with rows at random keys (kv, history
// version rows, old index rows), which breaks every run; sorting each column
// family's ops by key makes the ascending ones consecutive again. Reordering
// keeps the batch's result: ops on different keys commute, the stable sort
// keeps the order of ops on one key, and a batch with a DeleteRange (which
// covers other keys) keeps its order.
void InsertOrder(const WriteBatch& batch, std::vector<const WriteBatch::Op*>* order) {
  order->clear();
  order->reserve(batch.count());
  bool sortable = true;
  for (const WriteBatch::Op& op : batch.ops()) {
    sortable = sortable && op.type != WriteBatch::OpType::kDeleteRange;
    order->push_back(&op);
  }
  if (!sortable || order->size() < 2) return;
  std::stable_sort(order->begin(), order->end(),
                   [](const WriteBatch::Op* a, const WriteBatch::Op* b) {
                     if (a->cf != b->cf) return a->cf < b->cf;
                     return a->key < b->key;
                   });
}

}  // namespace

Status RocksStore::Write(const WriteBatch& batch, bool sync) {
  ASPEN_RETURN_IF_ERROR(CheckWriteBatch(batch));
  std::vector<const WriteBatch::Op*> order;
  InsertOrder(batch, &order);
  rocksdb::WriteBatch wb(/*reserved_bytes=*/batch.approximate_bytes() + 16 * batch.count() + 64);
  for (const WriteBatch::Op* op_ptr : order) {
    const WriteBatch::Op& op = *op_ptr;
    rocksdb::ColumnFamilyHandle* h = handles_[static_cast<std::size_t>(op.cf)];
    rocksdb::Status s;
    switch (op.type) {
      case WriteBatch::OpType::kPut: s = wb.Put(h, ToSlice(op.key), ToSlice(op.value)); break;
      case WriteBatch::OpType::kDelete: s = wb.Delete(h, ToSlice(op.key)); break;
      case WriteBatch::OpType::kDeleteRange:
        if (op.key == op.value) continue;  // empty range
        s = wb.DeleteRange(h, ToSlice(op.key), ToSlice(op.value));
        break;
    }
    ASPEN_RETURN_IF_ERROR(FromRocks(s, "build write batch"));
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  ASPEN_RETURN_IF_ERROR(FromRocks(db_->Write(wo, &wb), "write to " + dir_));
  writes_.fetch_add(1);
  if (sync) synced_writes_.fetch_add(1);
  return Status::Ok();
}

std::unique_ptr<Snapshot> RocksStore::GetSnapshot() {
  return std::make_unique<RocksSnapshot>(db_.get(), &handles_, scan_flush_.get());
}

Status RocksStore::Get(Cf cf, std::string_view key, std::string* value) {
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), handles_[static_cast<std::size_t>(cf)], ToSlice(key), value);
  if (s.IsNotFound()) return Status::NotFound("key not found in " + std::string(CfName(cf)));
  return FromRocks(s, "get from " + std::string(CfName(cf)));
}

StoreStats RocksStore::stats() const {
  return StoreStats{writes_.load(), synced_writes_.load()};
}

std::uint64_t RocksStore::scan_flushes() const {
  return scan_flush_ ? scan_flush_->flushes() : 0;
}

SyncCounts RocksStore::sync_counts() const {
  return counting_fs_ ? counting_fs_->counts() : SyncCounts{};
}

}  // namespace aspen::storage
