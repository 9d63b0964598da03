// Test support for storage/: temporary directories and the two engines behind
// one interface, so the contract and log-store suites run against both.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/mem_store.h"
#include "storage/rocks_store.h"

namespace aspen::storage::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/aspen-storage-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp " << pattern;
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The RocksDB engine. Crash() closes the DB without flushing and reopens it:
// the process did not die, so unsynced writes may survive (the contract
// promises only that synced ones do).
class RocksEngine {
 public:
  static constexpr bool kCrashDropsUnsynced = false;
  static constexpr const char* kName = "RocksStore";

  RocksEngine() { Open(); }
  Store* store() { return store_.get(); }
  void Crash() {
    store_.reset();
    Open();
  }

 private:
  void Open() {
    auto opened = RocksStore::Open(dir_.Sub("db"));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }

  TempDir dir_;
  std::unique_ptr<RocksStore> store_;
};

// The in-memory engine. Crash() drops every write since the last synced one.
class MemEngine {
 public:
  static constexpr bool kCrashDropsUnsynced = true;
  static constexpr const char* kName = "MemStore";

  Store* store() { return &store_; }
  void Crash() { store_.Crash(); }

 private:
  MemStore store_;
};

using Engines = ::testing::Types<RocksEngine, MemEngine>;

struct EngineNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};

}  // namespace aspen::storage::testing
