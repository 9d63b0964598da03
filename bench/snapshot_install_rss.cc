// Not a Google Benchmark program: the time and peak RSS of installing one
// snapshot of N kv rows of V bytes, by each install path (docs/BENCHMARKS.md).
//   snapshot_install_rss N V sst|batches|one-batch
// sst: RocksStore::IngestStateSnapshotSst (restore; bounded SST files);
// batches: IngestStateSnapshot (4 MiB WriteBatches);
// one-batch: every row in one WriteBatch (the follower's install before).
// The snapshot file is built by a child process and the peak RSS is reset
// (/proc/self/clear_refs) before the install, so it counts the install alone.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "storage/coding.h"
#include "storage/rocks_store.h"
#include "storage/snapshot.h"

namespace {

using namespace aspen;
using namespace aspen::storage;

long PeakRssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s ROWS VALUE_BYTES sst|batches|one-batch\n", argv[0]);
    return 2;
  }
  const long rows = std::strtol(argv[1], nullptr, 10);
  const std::size_t value_bytes = std::strtoul(argv[2], nullptr, 10);
  const std::string mode = argv[3];
  char pattern[] = "/tmp/aspen-install-rss-XXXXXX";
  const std::string dir = ::mkdtemp(pattern);
  const std::string file = dir + "/snap";
  // The source is built in a child process, so its memory is not in ours.
  const pid_t child = ::fork();
  if (child == 0) {
    auto src = RocksStore::Open(dir + "/src/db");
    Check(src.status(), "open source");
    WriteBatch b;
    for (long i = 0; i < rows; ++i) {
      std::string key = "key";
      PutBigEndian32(&key, static_cast<std::uint32_t>(i));
      b.Put(Cf::kKv, key, std::string(value_bytes, static_cast<char>('a' + i % 26)));
      if (b.approximate_bytes() >= (4u << 20)) {
        Check((*src)->Write(b, false), "fill");
        b.Clear();
      }
    }
    Check((*src)->Write(b, true), "fill");
    auto sink = FileSink::Create(file);
    Check(sink.status(), "sink");
    SnapshotHeader h;
    h.applied_index = 1;
    Check(WriteStateSnapshot(*(*src)->GetSnapshot(), h, sink->get()).status(), "write");
    Check((*sink)->Finish(), "finish");
    src->reset();
    std::_Exit(0);
  }
  int wstatus = 0;
  if (child < 0 || ::waitpid(child, &wstatus, 0) != child || !WIFEXITED(wstatus) ||
      WEXITSTATUS(wstatus) != 0) {
    std::fprintf(stderr, "building the snapshot failed\n");
    return 1;
  }
  std::filesystem::remove_all(dir + "/src");
  auto dst = RocksStore::Open(dir + "/dst/db");
  Check(dst.status(), "open destination");
  auto source = FileSource::Open(file);
  Check(source.status(), "open snapshot");
  { std::ofstream("/proc/self/clear_refs") << "5"; }
  const long rss_before = PeakRssKb();
  const auto start = std::chrono::steady_clock::now();
  if (mode == "sst") {
    Check((*dst)->IngestStateSnapshotSst(source->get()).status(), "sst");
  } else if (mode == "batches") {
    Check(IngestStateSnapshot(source->get(), dst->get()).status(), "batches");
  } else {
    WriteBatch all;
    Check(ReadStateSnapshotRows(source->get(),
                                [&](Cf cf, std::string_view k, std::string_view v) {
                                  all.Put(cf, k, v);
                                  return Status::Ok();
                                })
              .status(),
          "read");
    Check((*dst)->Write(all, true), "one-batch");
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "mode=%s rows=%ld value=%zu file_mb=%.1f install_s=%.2f rss_before_mb=%.1f "
      "peak_rss_mb=%.1f\n",
      mode.c_str(), rows, value_bytes,
      static_cast<double>(std::filesystem::file_size(file)) / (1 << 20), secs, rss_before / 1024.0,
      PeakRssKb() / 1024.0);
  dst->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
