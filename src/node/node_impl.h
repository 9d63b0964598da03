// Node::Impl: the state of one node and who owns what (private to node/).
//
// Threads:
//   - the Ready loop (Start()'s thread, or the simulator's thread when driven
//     by hand) owns every field marked "loop": the RawNode, the LogStore, the
//     StateMachine and the tables of waiting requests. Only it writes to the
//     Store.
//   - any other thread (gRPC handlers, the transport) only touches the inbox
//     (under mu), the published status (under status_mu), the Lessor (its own
//     lock), the atomic counters and Store snapshots.
// Lock order: mu and status_mu are never held together; callbacks run with
// no lock held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "node/completion_runner.h"
#include "node/lessor.h"
#include "node/members_record.h"
#include "node/node.h"
#include "node/raft_storage.h"
#include "node/request_tag.h"
#include "raft/raw_node.h"
#include "sm/state_machine.h"
#include "storage/log_store.h"

namespace aspen::node {

// Received snapshots waiting to be installed, and snapshots kept for sending.
inline constexpr std::size_t kMaxStagedSnapshots = 2;
inline constexpr std::size_t kMaxOutgoingSnapshots = 2;

// The ingest marker of a follower's install (snapshot.cc): the raft snapshot
// it installs. Decode: false for another marker (`aspen snapshot restore`'s).
std::string EncodeInstallMarker(const rpb::Snapshot& snap);
bool DecodeInstallMarker(std::string_view value, rpb::Snapshot* snap);

// How a received snapshot's state gets into the store: exactly one is set.
struct StagedSnapshot {
  SnapshotLoader load;      // rows into the batch that resets the log (MemStore)
  SnapshotIngester ingest;  // the store ingests them itself first (RocksStore)
};

using ProposeDone = Callback<Result<sm::v1::Response>>;
using StatusDone = Callback<Status>;

// A callback with its argument, run once every lock is released.
using Completion = std::function<void()>;

struct QueuedProposal {
  std::uint64_t request_id = 0;
  std::string data;
  ProposeDone done;
  bool internal = false;  // the node's own (expiry) proposals: not counted
  std::int64_t deadline_ms = 0;
};

struct WaitingProposal {
  ProposeDone done;
  bool internal = false;
  std::int64_t deadline_ms = 0;
};

struct ReadWaiter {
  StatusDone done;
  std::int64_t deadline_ms = 0;
  std::int64_t issued_ms = 0;  // when its current ReadIndex request was issued
};

enum class ConfOp { kAdd, kAddLearner, kRemove, kPromote, kUpdate, kAttributes };

struct ConfRequest {
  ConfOp op = ConfOp::kAdd;
  NodeId id = 0;
  std::string address;
  StatusDone done;
  std::int64_t deadline_ms = 0;
};

struct Node::Impl {
  explicit Impl(const NodeOptions& o);

  // ----- node.cc -----
  Status Init();
  // Writes the initial configuration into a store that was never used.
  Status BootstrapIfNew();
  raft::Config RaftConfig() const;
  void Loop();
  void Shutdown(const Status& why);
  void Log(const std::string& line) const;
  void Fatal(const Status& s);
  std::int64_t Steady() const { return clock->SteadyMs(); }

  // ----- ready.cc: one pass of the Ready loop -----
  bool RunOnce();
  void DrainInbox(std::vector<Completion>* out);
  void HandleReady(raft::Ready rd, std::vector<Completion>* out);
  // Applies committed entries into *batch; fills *results for Finish.
  struct Applied;
  Status ApplyCommitted(const raft::EntryVec& entries, storage::WriteBatch* batch,
                        Applied* applied);
  void FinishApplied(Applied* applied, std::vector<Completion>* out);
  // Keeps the last of the batch's lease changes of each id.
  static void NetLeaseChanges(Applied* applied);
  // Before the batch's store write: its lease revocations into the Lessor,
  // its revision into the status (docs/NODE.md, "Leases").
  void BeforeAppliedVisible(const Applied& applied);
  // Fails this leader's proposal appended at `index` if the entry applied
  // there is another one (`tag` is the applied entry's).
  void FailOverwritten(std::uint64_t index, const std::optional<RequestTag>& tag,
                       std::vector<Completion>* out);
  void OnSoftState(const raft::SoftState& ss);
  void PublishStatus();
  void Send(std::vector<rpb::Message> msgs);

  // ----- proposals.cc -----
  void SubmitProposal(QueuedProposal p, std::vector<Completion>* out);
  void ProposeInternal(sm::v1::Command cmd, ProposeDone done);
  void ExpireRequests(std::vector<Completion>* out);
  void FailAll(const Status& why, std::vector<Completion>* out);
  std::int64_t NewLeaseId();

  // ----- reads.cc -----
  void SubmitReads(std::vector<ReadWaiter> waiters, std::vector<Completion>* out);
  void OnReadStates(const std::vector<raft::ReadState>& states);
  void CompleteAppliedReads(std::vector<Completion>* out);
  void RetryStaleReads(std::vector<Completion>* out);

  // ----- members.cc -----
  void EnqueueConf(ConfRequest req);
  void SubmitConf(ConfRequest req, std::vector<Completion>* out);
  // A committed conf change entry: applies it to raft, records the new
  // configuration into *batch.
  void ApplyConfEntry(const rpb::Entry& e, storage::WriteBatch* batch,
                      std::vector<Completion>* out);
  // Loads the address book persisted in the state (members record) over the
  // initial cluster's addresses.
  Status LoadMembers();
  // FailedPrecondition "the member has been permanently removed from the
  // cluster" for a message from a removed member (dropped).
  Status CheckSender(NodeId from) const;
  bool RemovedId(NodeId id) const;
  // FailedPrecondition (etcd's message) while learner `id` lags the leader.
  Status CheckLearnerReady(NodeId id) const;

  // ----- snapshot.cc: log compaction and raft snapshots -----
  // raft::Storage's Snapshot(): the state as applied now, kept for the sender.
  raft::Result<rpb::Snapshot> TakeSnapshot();
  // Replaces the state by a received snapshot's rows inside *batch.
  Status InstallSnapshot(const rpb::Snapshot& snap, storage::WriteBatch* batch);
  // Reopens the state machine and reloads leases and members after an install.
  Status AfterInstall(std::uint64_t index);
  // Open: a store whose ingest marker is set holds a state installed (or half
  // installed) by a SnapshotIngester whose log reset never happened; finishes
  // it (snapshot.cc explains why that is safe). Before raft_storage exists.
  Status FinishInterruptedInstall();
  // Node::ReceiveSnapshot*: queues the state beside its MsgSnap.
  Status QueueSnapshot(Node* node, raft::pb::Message message, StagedSnapshot staged);
  // Compacts the log when the policy says so (an unsynced write).
  Status MaybeCompact();

  // ----- watch_compaction.cc: physical history compaction, every node -----
  // One bounded CompactStep when a compaction is pending; true if it wrote.
  bool RunCompactionStep();

  // Answers `*done` (emptied): a batch of more than one reply, or any while
  // earlier ones are still queued, goes to `replies`; a lone reply goes out
  // at once (a hand-off would only add latency for one waiting client).
  void RunCompletions(std::vector<Completion>* done);

  // ----- expiry.cc (leader timers) -----
  void RunExpiry();
  void TickTimers(std::vector<Completion>* out);

  // ----- configuration (immutable after Open) -----
  NodeOptions opts;
  Clock* clock = nullptr;
  Transport* transport = nullptr;
  storage::Store* store = nullptr;

  // ----- loop -----
  std::unique_ptr<storage::LogStore> log;
  std::unique_ptr<RaftStorage> raft_storage;
  std::unique_ptr<sm::StateMachine> sm;
  std::unique_ptr<raft::RawNode> raw;
  std::map<std::uint64_t, WaitingProposal> proposals;  // request id -> waiter
  // Leader only: the log index each of its own proposals was appended at. If
  // a different entry is applied at that index, the proposal was overwritten
  // by a later leader (Raft 5.3) and can never apply: it fails at once.
  std::map<std::uint64_t, std::uint64_t> proposed_at;              // log index -> request id
  std::map<std::string, std::vector<ReadWaiter>> reads_in_flight;  // read ctx -> waiters
  std::multimap<std::uint64_t, ReadWaiter> reads_to_apply;         // read index -> waiter
  std::uint64_t next_read_ctx = 1;
  // Read contexts are matched by the LEADER across all members' requests, so
  // they carry this member's id and a per-start nonce (reads.cc).
  std::uint64_t read_ctx_nonce = std::random_device{}();
  std::optional<ConfRequest> pending_conf;
  std::optional<std::pair<ConfOp, NodeId>> pending_conf_change;  // what pending_conf proposed
  // Loaders of the snapshots stepped into raft in this pass, by index.
  std::map<std::uint64_t, StagedSnapshot> staged_loaders;
  rpb::ConfChangeType pending_conf_type = rpb::CONF_CHANGE_ADD_NODE;
  std::uint64_t compactions = 0;
  std::uint64_t snapshots_installed = 0;
  // Atomic: the expire-keys proposal's callback sets them from the
  // completion runner's thread.
  std::atomic<std::int64_t> next_expiry_ms{0};
  std::atomic<bool> expire_keys_in_flight{false};
  std::int64_t compact_done = 0;   // history compacted physically up to here
  std::uint64_t replay_until = 0;  // commit index at Open; entries <= it are replays
  std::uint64_t replayed = 0;
  bool replay_logged = false;
  bool is_leader = false;
  // A new leader takes over the leases (Lessor::Promote) only once it has
  // applied an entry of its own term: every entry of earlier terms, such as a
  // revocation an earlier leader proposed for an expired lease, is applied by
  // then, so none can revoke a lease this leader has just renewed.
  bool lessor_promote_pending = false;
  // The commit index last given to Lessor::Committed.
  std::uint64_t lessor_committed = 0;
  std::mt19937_64 rng;
  std::uint64_t readies = 0;
  std::uint64_t synced_writes = 0;

  // ----- inbox (mu) -----
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<rpb::Message> inbox_msgs;
  std::deque<QueuedProposal> inbox_props;
  std::vector<ReadWaiter> inbox_reads;
  std::vector<ConfRequest> inbox_conf;
  std::set<NodeId> inbox_unreachable;
  // Loaders of received snapshots, by snapshot index (at most a few).
  std::map<std::uint64_t, StagedSnapshot> inbox_snap_loaders;
  std::vector<std::pair<NodeId, bool>> inbox_snap_reports;  // peer, ok
  std::optional<NodeId> inbox_transfer;
  bool stopping = false;  // no new requests; the loop exits
  Status stop_reason;

  // ----- published (status_mu) -----
  // While a snapshot replaces the state (its batch, or a SnapshotIngester
  // before the log reset that makes it this member's state, until the Lessor
  // holds its leases), Node::GetSnapshot answers this view of the state as
  // it was, so no reader sees the dropped or half-made state.
  std::shared_ptr<storage::Snapshot> install_view;
  // The revision of the state a reader can see, set before each apply
  // batch's write (no lock: GetStatus answers the larger of it and
  // status.revision; the revision only grows).
  std::atomic<std::int64_t> visible_revision{0};
  mutable std::mutex status_mu;
  NodeStatus status;
  rpb::ConfState conf;
  // The address book (peer URLs, published names and client URLs, removed
  // ids); persisted as the members record.
  MembersBook book;
  bool self_removed = false;                           // applied its own removal, or told so
  std::map<NodeId, Node::PeerProgress> peer_progress;  // leader only
  std::map<NodeId, std::int64_t> peer_active_at;       // leader only: last seen active (steady ms)
  // Store views of the snapshots this node sent, by index (the last few).
  std::map<std::uint64_t, std::shared_ptr<storage::Snapshot>> outgoing_snaps;

  // ----- thread-safe on their own -----
  Lessor lessor;
  std::atomic<std::size_t> pending_proposals{0};
  std::atomic<std::size_t> pending_reads{0};
  std::atomic<std::uint64_t> next_request_id{1};
  std::atomic<bool> stopped{false};

  // ----- lifecycle (lifecycle_mu: Start and Stop may race) -----
  std::mutex lifecycle_mu;
  std::thread thread;
  // Runs the loop's replies when the node has its own thread (Start); a
  // node driven by hand (the simulator) answers inline.
  std::unique_ptr<CompletionRunner> replies;
  bool started = false;
};

}  // namespace aspen::node
