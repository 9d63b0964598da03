#include "storage/wal_presize_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace aspen::storage {

namespace {

bool IsWal(const std::string& fname) {
  return fname.size() >= 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

// Creates `path` with `bytes` allocated (reads as zeros); false on any failure
// (the caller then creates the WAL the ordinary way).
bool CreatePresized(const std::string& path, std::uint64_t bytes) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  ::close(fd);
  if (err != 0) {
    ::unlink(path.c_str());
    return false;
  }
  return true;
}

}  // namespace

WalPresizeFileSystem::WalPresizeFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target,
                                           std::uint64_t presize_bytes)
    : FileSystemWrapper(target), presize_bytes_(presize_bytes) {}

rocksdb::IOStatus WalPresizeFileSystem::NewWritableFile(
    const std::string& fname, const rocksdb::FileOptions& opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  if (presize_bytes_ == 0 || !IsWal(fname) || opts.use_mmap_writes || opts.use_direct_writes) {
    return target()->NewWritableFile(fname, opts, result, dbg);
  }
  const std::string tmp = fname + ".presize";
  if (!CreatePresized(tmp, presize_bytes_)) {
    return target()->NewWritableFile(fname, opts, result, dbg);
  }
  rocksdb::IOStatus s = target()->ReuseWritableFile(fname, tmp, opts, result, dbg);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return target()->NewWritableFile(fname, opts, result, dbg);
  }
  return s;
}

}  // namespace aspen::storage
