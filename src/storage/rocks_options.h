// The RocksDB options of RocksStore, in one place (why each: rocks_options.cc
// and docs/STORAGE.md). Internal to storage/.
#pragma once

#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "storage/rocks_store.h"

namespace aspen::storage {

struct RocksConfig {
  rocksdb::DBOptions db;
  // One descriptor per Cf, in Cf order, plus RocksDB's mandatory "default"
  // column family last (Aspen never writes to it).
  std::vector<rocksdb::ColumnFamilyDescriptor> column_families;
};

// `env` may be null (RocksDB's default Env).
RocksConfig MakeRocksConfig(const RocksOptions& options, rocksdb::Env* env);

}  // namespace aspen::storage
