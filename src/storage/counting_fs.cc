#include "storage/counting_fs.h"

#include <string>
#include <utility>

namespace aspen::storage {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// RocksDB names WAL files <number>.log (in db_dir or wal_dir).
bool IsWalFile(const std::string& fname) {
  return fname.size() >= 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

class CountingWritableFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  CountingWritableFile(std::unique_ptr<rocksdb::FSWritableFile> target,
                       std::atomic<std::uint64_t>* counter,
                       std::shared_ptr<SyncCounters> keep_alive)
      : FSWritableFileOwnerWrapper(std::move(target)),
        counter_(counter),
        keep_alive_(std::move(keep_alive)) {}

  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    counter_->fetch_add(1);
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    counter_->fetch_add(1);
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }
  IOStatus RangeSync(std::uint64_t offset, std::uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    counter_->fetch_add(1);
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, options, dbg);
  }

 private:
  std::atomic<std::uint64_t>* counter_;  // inside *keep_alive_
  std::shared_ptr<SyncCounters> keep_alive_;
};

class CountingRandomRWFile final : public rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  CountingRandomRWFile(std::unique_ptr<rocksdb::FSRandomRWFile> target,
                       std::shared_ptr<SyncCounters> counters)
      : FSRandomRWFileOwnerWrapper(std::move(target)), counters_(std::move(counters)) {}

  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    counters_->other_files.fetch_add(1);
    return FSRandomRWFileOwnerWrapper::Sync(options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    counters_->other_files.fetch_add(1);
    return FSRandomRWFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  std::shared_ptr<SyncCounters> counters_;
};

class CountingDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  CountingDirectory(std::unique_ptr<rocksdb::FSDirectory> target,
                    std::shared_ptr<SyncCounters> counters)
      : FSDirectoryWrapper(std::move(target)), counters_(std::move(counters)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    counters_->directories.fetch_add(1);
    return FSDirectoryWrapper::Fsync(options, dbg);
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dir_options) override {
    counters_->directories.fetch_add(1);
    return FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, dir_options);
  }

 private:
  std::shared_ptr<SyncCounters> counters_;
};

}  // namespace

CountingFileSystem::CountingFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target)
    : FileSystemWrapper(target), counters_(std::make_shared<SyncCounters>()) {}

namespace {

IOStatus WrapWritable(const std::string& fname, IOStatus s,
                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                      const std::shared_ptr<SyncCounters>& counters) {
  if (!s.ok()) return s;
  std::atomic<std::uint64_t>* counter = IsWalFile(fname) ? &counters->wal : &counters->other_files;
  *result = std::make_unique<CountingWritableFile>(std::move(*result), counter, counters);
  return s;
}

}  // namespace

IOStatus CountingFileSystem::NewWritableFile(const std::string& fname,
                                             const rocksdb::FileOptions& opts,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  return WrapWritable(fname, target()->NewWritableFile(fname, opts, result, dbg), result,
                      counters_);
}

IOStatus CountingFileSystem::ReopenWritableFile(const std::string& fname,
                                                const rocksdb::FileOptions& opts,
                                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                IODebugContext* dbg) {
  return WrapWritable(fname, target()->ReopenWritableFile(fname, opts, result, dbg), result,
                      counters_);
}

IOStatus CountingFileSystem::ReuseWritableFile(const std::string& fname,
                                               const std::string& old_fname,
                                               const rocksdb::FileOptions& opts,
                                               std::unique_ptr<rocksdb::FSWritableFile>* result,
                                               IODebugContext* dbg) {
  return WrapWritable(fname, target()->ReuseWritableFile(fname, old_fname, opts, result, dbg),
                      result, counters_);
}

IOStatus CountingFileSystem::NewRandomRWFile(const std::string& fname,
                                             const rocksdb::FileOptions& opts,
                                             std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                             IODebugContext* dbg) {
  IOStatus s = target()->NewRandomRWFile(fname, opts, result, dbg);
  if (s.ok()) *result = std::make_unique<CountingRandomRWFile>(std::move(*result), counters_);
  return s;
}

IOStatus CountingFileSystem::NewDirectory(const std::string& name, const IOOptions& io_opts,
                                          std::unique_ptr<rocksdb::FSDirectory>* result,
                                          IODebugContext* dbg) {
  IOStatus s = target()->NewDirectory(name, io_opts, result, dbg);
  if (s.ok()) *result = std::make_unique<CountingDirectory>(std::move(*result), counters_);
  return s;
}

}  // namespace aspen::storage
