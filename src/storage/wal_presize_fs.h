// WalPresizeFileSystem: a RocksDB FileSystem decorator that hands RocksDB each
// new WAL file (*.log) already sized to `presize_bytes` (allocated, reading as
// zeros), so a synced append overwrites allocated space instead of growing the
// file. On ext4 an fdatasync that grows a file also commits the inode size (a
// journal commit); one that does not is about 1.8x cheaper (docs/BENCHMARKS.md,
// "Write path: pre-sized WAL"). etcd's WAL does the same with 64 MB segments.
//
// How: the file is created as <fname>.presize, sized with posix_fallocate
// (no KEEP_SIZE), then handed to the wrapped FileSystem's ReuseWritableFile,
// which renames it to <fname> and writes from offset 0 without truncating.
// RocksDB's own directory sync after creating a WAL covers the rename.
// On a clean close RocksDB truncates the file to what it wrote; after a crash
// the zero tail is read by RocksDB's log reader as padding (a zero-type,
// zero-length header ends the block), so recovery finds the same prefix as
// with a growing file (tests/storage/wal_presize_test.cc pins this).
//
// Every other file and call goes to the wrapped FileSystem unchanged. If the
// pre-sizing fails (e.g. a file system without fallocate), the WAL is created
// the ordinary way.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <rocksdb/file_system.h>

namespace aspen::storage {

class WalPresizeFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  WalPresizeFileSystem(const std::shared_ptr<rocksdb::FileSystem>& target,
                       std::uint64_t presize_bytes);

  const char* Name() const override { return "AspenWalPresizeFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

 private:
  std::uint64_t presize_bytes_;
};

}  // namespace aspen::storage
