// SimNode: the raw runtime (--runtime=raw, replica.h): the real raft/ core
// (RawNode), the real log store (storage::LogStore through node::RaftStorage)
// and the real state machine (sm::StateMachine), all on one storage::MemStore.
//
// The node follows raft/ready.h to the letter: it persists each Ready into one
// WriteBatch (synced when must_sync), then sends its messages, then applies
// committed entries in one unsynced batch (with the new configuration when a
// conf change is applied), then serves read states, then calls Advance().
//
// Crash() is MemStore::Crash(): every write since the last synced one is lost,
// and all volatile state (raft, pending client requests) is dropped.
// Start() after a crash recovers like a real node: it reopens the LogStore and
// the StateMachine from the store and restarts raft with applied = the state
// machine's applied_index, so raft re-delivers committed entries above it.
//
// Client requests: only the leader serves them. A write is proposed and
// answered when it is applied at the index it was appended at (and with the
// term it was appended with); a get goes through ReadIndex and is served from
// the state machine once it has applied up to the read index. When the node
// stops being leader it answers every pending write kUnknown.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "node/raft_storage.h"
#include "raft/raw_node.h"
#include "sim/network.h"
#include "sim/options.h"
#include "sim/raft_safety.h"
#include "sim/replica.h"
#include "sim/snapshot.h"
#include "sim/trace.h"
#include "sm/state_machine.h"
#include "storage/log_store.h"
#include "storage/mem_store.h"

namespace aspen::sim {

class SimNode final : public Replica {
 public:
  // Values written by applied puts and successful CAS are recorded in
  // `applied_values` with the first time any node applied them (see
  // history.h). Not owned; all must outlive the node.
  SimNode(raft::NodeId id, const SimOptions& options, SafetyChecker* checker, Trace* trace,
          std::map<std::string, std::int64_t>* applied_values);

  // Writes the initial configuration (synced) for a node of a new cluster: a
  // committed log prefix of add-node entries, as etcd bootstraps. A node
  // joining later skips this: it learns the configuration from the log.
  Status Bootstrap(const std::vector<raft::NodeId>& voters) override;
  // A joining node learns the configuration from the leader's log.
  Status PrepareJoin(const std::vector<raft::NodeId>&) override { return Status::Ok(); }
  // Opens the log store, the state machine and raft from the store.
  Status Start(std::uint64_t rand_seed) override;
  // Loses unsynced writes and all volatile state.
  void Crash() override;
  bool up() const override { return raw_ != nullptr; }

  void Tick() override { raw_->Tick(); }
  // Steps a message from a peer (errors are the sender's problem, as on a
  // real node they would be logged and dropped).
  void Step(const raft::pb::Message& m) override;
  void Campaign() { raw_->Campaign(); }
  // Serves a client request; replies go to `out`.
  void HandleRequest(const ClientRequest& req, Endpoint from, std::int64_t now_ms,
                     std::vector<Packet>* out) override;
  // Proposes a membership change (leader only); answers whether raft took it.
  bool ProposeConfChange(const raft::pb::ConfChange& cc) override;
  // Compacts the log to `keep` entries below the applied index (snapshots
  // are built on demand, snapshot.h). Answers whether it compacted (false
  // when there is too little log). Errors as Process.
  Result<bool> Compact(std::uint64_t keep) override;
  // The outcome of sending a snapshot to `to` (raft's ReportSnapshot); a
  // no-op unless this node leads with `to` in its configuration.
  void ReportSnapshot(raft::NodeId to, bool failed) override;

  // Carries out every pending Ready. A failed store write is returned (the
  // caller crashes the node, as a real node stops on a failed log write);
  // an internal error (a refused command, a broken invariant) is Internal.
  Status Process(std::int64_t now_ms, std::vector<Packet>* out) override;

  raft::NodeId id() const override { return id_; }
  const raft::Raft& raft() const override { return raw_->raft(); }
  storage::MemStore& store() override { return store_; }
  std::uint64_t applied_index() const override { return sm_ ? sm_->applied_index() : 0; }
  // The voters of the configuration this node last applied.
  std::vector<raft::NodeId> voters() const override { return voters_; }

 private:
  struct PendingWrite {
    std::uint64_t term = 0;
    Endpoint client = 0;
    ClientRequest request;
  };
  struct PendingRead {
    Endpoint client = 0;
    ClientRequest request;
  };

  Status Persist(const raft::Ready& rd);
  // Rule 1 and 3 for a received snapshot: log and state in one synced batch.
  Status InstallSnapshot(const raft::Ready& rd);
  Status Apply(const raft::EntryVec& entries, std::vector<Packet>* out);
  Status ServeReads(std::int64_t now_ms, std::vector<Packet>* out);
  void FailPending(std::vector<Packet>* out);
  Packet Reply(Endpoint to, const ClientReply& r) const;
  void RecordAppliedValue(std::string_view data, const sm::v1::Response& response);

  const raft::NodeId id_;
  const SimOptions& options_;
  SafetyChecker* checker_;
  Trace* trace_;
  std::map<std::string, std::int64_t>* applied_values_;
  storage::MemStore store_;
  std::unique_ptr<storage::LogStore> log_;
  std::unique_ptr<node::RaftStorage> raft_storage_;
  std::unique_ptr<SimStorage> sim_storage_;
  std::unique_ptr<sm::StateMachine> sm_;
  std::unique_ptr<raft::RawNode> raw_;
  std::vector<raft::NodeId> voters_;
  std::int64_t now_ms_ = 0;  // for trace lines

  std::map<std::uint64_t, PendingWrite> pending_writes_;   // by log index
  std::map<std::string, PendingRead> pending_reads_;       // by read ctx
  std::multimap<std::uint64_t, PendingRead> ready_reads_;  // by read index
};

}  // namespace aspen::sim
