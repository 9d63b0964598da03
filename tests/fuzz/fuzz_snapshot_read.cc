// libFuzzer target for storage's state snapshot reader (outside bytes: backup
// files, a leader's InstallSnapshot stream).
//
// Asserted for every input x, ingested into an empty MemStore:
//  1. IngestStateSnapshot(x) succeeds or fails with a Status; it never
//     crashes, reads out of bounds or allocates past the frame bound.
//  2. On failure nothing was written: every state column family is empty and
//     no ingest marker is left (the source does not change between passes).
//  3. On success, writing the store's state back out gives a file that
//     verifies with the same row count and header.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "storage/mem_store.h"
#include "storage/snapshot.h"

namespace {

using namespace aspen::storage;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_snapshot_read: property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  MemStore store;
  StringSource source(std::string(reinterpret_cast<const char*>(data), size));
  auto r = IngestStateSnapshot(&source, &store);
  if (!r.ok()) {
    auto snap = store.GetSnapshot();
    for (Cf cf : StateCfs()) {
      auto it = snap->NewIterator(cf);
      it->SeekToFirst();
      Check(!it->Valid(), "a failed ingest wrote rows");
    }
    auto marker = IngestIncomplete(&store);
    Check(marker.ok() && !*marker, "a failed ingest left its marker");
    return 0;
  }
  StringSink sink;
  auto written = WriteStateSnapshot(*store.GetSnapshot(), r->header, &sink);
  Check(written.ok(), "re-writing an ingested snapshot failed");
  StringSource again(std::move(sink.data()));
  auto verified = VerifyStateSnapshot(&again);
  Check(verified.ok() && verified->rows == r->rows && verified->header == r->header,
        "re-written snapshot differs");
  return 0;
}
