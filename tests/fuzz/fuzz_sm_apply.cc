// libFuzzer target for sm::StateMachine::Apply (outside bytes: the data of a
// committed Raft log entry, written by any proposer, read back from disk).
//
// For every input x, on a fresh StateMachine over MemStore that already holds
// a few keys, a lease and a TTL key:
//  1. Apply([x]) and Apply([x, x]) (the second copy reads the first one's
//     pending changes through the overlay) return OK with one response per
//     entry; a bad command is an error response, never a crash.
//  2. applied_index advances to the last entry; the revision never decreases.
//  3. After writing the batch, every index row matches a kv row and every kv
//     row has its index rows, and Range/HashKV/ExpiredKeys still succeed.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "sm/index.h"
#include "sm/reads.h"
#include "sm/record.h"
#include "sm/state_machine.h"
#include "storage/mem_store.h"

namespace {

using aspen::sm::Entry;
using aspen::sm::StateMachine;
namespace v1 = aspen::sm::v1;
namespace storage = aspen::storage;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz_sm_apply: property violated: %s\n", what);
    std::abort();
  }
}

std::string Put(const std::string& key, std::int64_t lease, std::int64_t ttl_ms) {
  v1::Command c;
  c.set_now_ms(1000);
  c.mutable_put()->set_key(key);
  c.mutable_put()->set_value("v-" + key);
  c.mutable_put()->set_lease(lease);
  c.mutable_put()->set_ttl_ms(ttl_ms);
  return c.SerializeAsString();
}

void Seed(StateMachine* sm) {
  v1::Command grant;
  grant.set_now_ms(1000);
  grant.mutable_lease_grant()->set_id(1);
  grant.mutable_lease_grant()->set_ttl(10);
  const std::string data[] = {grant.SerializeAsString(), Put("a", 0, 0), Put("b", 1, 0),
                              Put(std::string("c\0", 2), 0, 50)};
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < 4; ++i) entries.push_back({i + 1, data[i]});
  Check(sm->ApplyAndWrite(entries).ok(), "seeding applies");
}

void CheckIndexes(storage::Store& store) {
  auto snap = store.GetSnapshot();
  std::set<std::string> want, have;
  auto kv = snap->NewIterator(storage::Cf::kKv);
  for (kv->SeekToFirst(); kv->Valid(); kv->Next()) {
    aspen::sm::KvMeta meta;
    std::string_view value;
    Check(aspen::sm::DecodeKvRecord(kv->value(), &meta, &value).ok(), "kv rows decode");
    for (std::string& row : aspen::sm::IndexKeysFor(kv->key(), meta)) want.insert(row);
  }
  auto idx = snap->NewIterator(storage::Cf::kIndex);
  for (idx->SeekToFirst(); idx->Valid(); idx->Next()) have.insert(std::string(idx->key()));
  Check(want == have, "index rows equal what the kv rows imply");
}

void Run(const std::string& input, std::size_t copies) {
  storage::MemStore store;
  auto opened = StateMachine::Open(&store);
  Check(opened.ok(), "open");
  StateMachine* sm = opened->get();
  Seed(sm);
  const std::int64_t before = sm->revision();
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < copies; ++i) entries.push_back({10 + i, input});
  auto out = sm->Apply(entries);
  Check(out.ok(), "apply returns OK for any entry bytes");
  Check(out->responses.size() == copies, "one response per entry");
  Check(sm->applied_index() == 9 + copies, "applied_index advances");
  Check(sm->revision() >= before, "revision never decreases");
  Check(store.Write(out->batch, false).ok(), "batch writes");
  CheckIndexes(store);
  auto snap = store.GetSnapshot();
  v1::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  Check(aspen::sm::Range(*snap, all, 2000).ok(), "range after apply");
  Check(aspen::sm::HashKV(*snap).ok(), "hash after apply");
  Check(aspen::sm::ExpiredKeys(*snap, 1 << 30, 100).ok(), "expired keys after apply");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  Run(input, 1);
  Run(input, 2);
  return 0;
}
