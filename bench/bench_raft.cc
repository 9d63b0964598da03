// Throughput of the pure Raft core: a 3-node cluster in memory (MemoryStorage,
// a vector as the network), proposals of 100 bytes committed per second. No
// I/O, so this is the ceiling the algorithm itself puts on the write path.
//
//   build-raft/bench/bench_raft --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raw_node.h"

namespace aspen::raft {
namespace {

constexpr std::size_t kPayloadBytes = 100;
constexpr std::uint64_t kCompactEvery = 20000;

class BenchCluster {
 public:
  explicit BenchCluster(std::size_t n) {
    pb::ConfState cs;
    for (NodeId id = 1; id <= n; ++id) cs.add_voters(id);
    for (NodeId id = 1; id <= n; ++id) {
      auto node = std::make_unique<Node>();
      node->storage.SetConfState(cs);
      Config c;
      c.id = id;
      c.storage = &node->storage;
      c.max_inflight_msgs = 256;
      c.rand_seed = id;
      node->raw = std::move(RawNode::Create(c)).value();
      nodes_.push_back(std::move(node));
    }
    nodes_[0]->raw->Campaign();
    Pump();
  }

  RawNode& leader() { return *nodes_[0]->raw; }
  std::uint64_t leader_applied() const { return nodes_[0]->applied; }

  // Handles every Ready and delivers every message until quiet.
  void Pump() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (auto& n : nodes_) busy |= HandleReady(*n);
      std::vector<pb::Message> msgs;
      msgs.swap(net_);
      for (const pb::Message& m : msgs) {
        const Error e = nodes_[m.to() - 1]->raw->Step(m);
        (void)e;
        busy = true;
      }
    }
  }

 private:
  struct Node {
    MemoryStorage storage;
    std::unique_ptr<RawNode> raw;
    std::uint64_t applied = 0;
    std::uint64_t compacted = 0;
  };

  bool HandleReady(Node& n) {
    if (!n.raw->HasReady()) return false;
    Ready rd = n.raw->GetReady();
    const Error e = n.storage.Append(rd.entries);
    (void)e;
    if (rd.hard_state) n.storage.SetHardState(*rd.hard_state);
    for (pb::Message& m : rd.messages) net_.push_back(std::move(m));
    if (!rd.committed_entries.empty()) n.applied = rd.committed_entries.back().index();
    n.raw->Advance();
    if (n.applied >= n.compacted + 2 * kCompactEvery) {
      // Keep memory flat: snapshot and compact well behind the applied index.
      const std::uint64_t at = n.applied - kCompactEvery;
      Result<pb::Snapshot> s =
          n.storage.CreateSnapshot(at, n.raw->raft().tracker().ConfState(), "");
      if (s.ok() && n.storage.Compact(at).ok()) n.compacted = at;
    }
    return true;
  }

  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<pb::Message> net_;
};

// One proposal at a time: propose, then drive until the leader applies it.
void BM_CommitSequential(benchmark::State& state) {
  BenchCluster c(3);
  const std::string payload(kPayloadBytes, 'x');
  for (auto _ : state) {
    const std::uint64_t want = c.leader_applied() + 1;
    if (!c.leader().Propose(payload).ok()) state.SkipWithError("proposal refused");
    c.Pump();
    if (c.leader_applied() < want) state.SkipWithError("proposal not committed");
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kPayloadBytes));
}
BENCHMARK(BM_CommitSequential)->Repetitions(5)->ReportAggregatesOnly(true);

// Batches of proposals in flight together, as under concurrent clients.
void BM_CommitBatched(benchmark::State& state) {
  BenchCluster c(3);
  const std::string payload(kPayloadBytes, 'x');
  const std::int64_t batch = state.range(0);
  for (auto _ : state) {
    const std::uint64_t want = c.leader_applied() + static_cast<std::uint64_t>(batch);
    for (std::int64_t k = 0; k < batch; ++k) {
      if (!c.leader().Propose(payload).ok()) state.SkipWithError("proposal refused");
    }
    c.Pump();
    if (c.leader_applied() < want) state.SkipWithError("proposals not committed");
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.SetBytesProcessed(state.iterations() * batch * static_cast<std::int64_t>(kPayloadBytes));
}
BENCHMARK(BM_CommitBatched)->Arg(16)->Arg(256)->Repetitions(5)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace aspen::raft

BENCHMARK_MAIN();
