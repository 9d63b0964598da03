// CountingFileSystem: a RocksDB FileSystem decorator that counts the syncs
// RocksDB asks the OS for, so tests and benchmarks can prove "one fsync per
// synced write, none per unsynced write" (DESIGN.md, "The write path").
//
// Counted calls: Sync, Fsync and RangeSync on writable and random-RW files,
// split into WAL files (*.log) and every other file (SST, MANIFEST, OPTIONS,
// ...), and Fsync/FsyncWithDirOptions on directories. Every call is forwarded
// unchanged to the wrapped FileSystem: it observes, it never alters I/O.
//
// Thread safety: the counters are atomics; RocksDB may call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <rocksdb/file_system.h>

namespace aspen::storage {

// A point-in-time copy of the counters.
struct SyncCounts {
  std::uint64_t wal = 0;          // Sync/Fsync/RangeSync on WAL files
  std::uint64_t other_files = 0;  // the same on any other file
  std::uint64_t directories = 0;  // directory fsyncs
  std::uint64_t total() const { return wal + other_files + directories; }
};

// The shared counters; outlive every file the FileSystem hands out.
struct SyncCounters {
  std::atomic<std::uint64_t> wal{0};
  std::atomic<std::uint64_t> other_files{0};
  std::atomic<std::uint64_t> directories{0};
  SyncCounts Snapshot() const {
    return SyncCounts{wal.load(), other_files.load(), directories.load()};
  }
};

class CountingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit CountingFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target);

  const char* Name() const override { return "AspenCountingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;

  SyncCounts counts() const { return counters_->Snapshot(); }

 private:
  std::shared_ptr<SyncCounters> counters_;
};

}  // namespace aspen::storage
