// Node: one replica of Aspen. It drives a raft::RawNode from a single thread
// (the Ready loop), persists through storage::LogStore into the node's Store,
// applies committed commands with sm::StateMachine and completes clients'
// proposals and linearizable reads. Leases and TTL keys are kept alive and
// expired here (the leader proposes the deletions). docs/NODE.md describes the
// loop step by step.
//
// Lifecycle: Open() (recover or bootstrap) -> Start() (starts the loop thread)
// -> ... -> Stop() (joins it; the destructor stops too). Without Start(), a
// caller (the simulator) may drive the node itself on one thread with Tick()
// and RunOnce(); then every callback runs on that thread.
//
// Callbacks: every asynchronous request takes a callback that is invoked
// EXACTLY ONCE. A request refused at submission (node stopped, a bound
// reached) is answered inline, on the calling thread, before the method
// returns; every other answer (including "no leader") comes from the Ready
// loop thread.
// Callbacks must not block (they run on the loop) and may call any method of
// Node except Stop().
//
// Thread safety: every public method is thread-safe unless its comment says
// otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "node/env.h"
#include "node/observer.h"
#include "raft/config.h"
#include "raft/types.h"
#include "storage/store.h"

namespace aspen::node {

using NodeId = raft::NodeId;

template <typename T>
using Callback = std::function<void(T)>;

struct NodeOptions {
  // This node's id; never 0.
  NodeId id = 1;
  // The initial cluster (etcd's --initial-cluster): every voter's id and peer
  // address. The voter set is used only when the store is new (then it must
  // contain `id`; empty means a single-node cluster of `id`); a restarted node
  // uses its stored configuration. The addresses always seed Members()'s
  // address book (AddMember adds more); the transport resolves ids with them.
  std::map<NodeId, std::string> initial_cluster;
  // The node's database (log, hard state and state machine). Not owned; must
  // outlive the Node.
  storage::Store* store = nullptr;
  // Not owned; nullptr means RealClock().
  Clock* clock = nullptr;
  // Not owned; may be nullptr only for a single-node cluster (no peers).
  Transport* transport = nullptr;
  // Receives one line per notable event (recovery, leader changes, fatal
  // errors). nullptr: lines go to stderr.
  std::function<void(std::string_view)> log;

  // ----- Timing (SteadyMs) -----
  std::int64_t tick_interval_ms = 100;
  int election_tick = 10;  // election timeout = election_tick * tick_interval_ms
  int heartbeat_tick = 1;
  // A proposal or read not answered within this time fails with
  // DeadlineExceeded (a proposal's outcome is then unknown).
  std::int64_t request_timeout_ms = 5000;
  // How often the leader looks for expired leases and TTL keys.
  std::int64_t expiry_interval_ms = 500;
  // How long a lease keep-alive or time-to-live waits on the leader for an
  // expired lease's revocation to apply, or for a new leader to take over
  // the leases (node/lessor.h); then Unavailable "request timed out: ...".
  // 0: two election timeouts plus expiry_interval_ms (a leader that cannot
  // commit steps down within two election timeouts: check_quorum).
  std::int64_t lease_wait_timeout_ms = 0;

  // Called on the loop thread after every store write that applied entries
  // or advanced the physical compaction, with the applied revision. It must
  // be cheap and must not block (the watch hub only records it and wakes its
  // own thread: node/watch_hub.h). May be empty.
  std::function<void(std::int64_t revision)> on_applied;

  // ----- Bounds (crossing one is ResourceExhausted naming the bound) -----
  // Client proposals submitted and not yet answered.
  std::size_t max_pending_proposals = 4096;
  // Read barriers submitted and not yet answered.
  std::size_t max_pending_reads = 4096;
  // Peer messages received and not yet handed to raft; more are dropped.
  std::size_t max_inbox_messages = 8192;

  // ----- Raft knobs (raft/config.h) -----
  bool pre_vote = true;
  bool check_quorum = true;
  std::uint64_t max_size_per_msg = 1 << 20;
  std::size_t max_inflight_msgs = 256;
  std::uint64_t max_uncommitted_entries_size = 64 << 20;
  // Seed of raft's election-timeout randomness; 0 derives it from `id`.
  std::uint64_t rand_seed = 0;

  // ----- Testing (the simulator) -----
  // Not owned; sees every persist, apply and fatal error. nullptr in
  // production.
  Observer* observer = nullptr;
  // raft::Config::testing_bug: a known raft bug switched on, to prove the
  // simulator's checkers catch it. kOff in production.
  raft::TestingBug testing_bug = raft::TestingBug::kOff;
  // ----- Joining and log compaction (docs/NODE.md) -----
  // A member joining a running cluster (etcd's --initial-cluster-state
  // existing): a new store gets no configuration; the node waits for the
  // leader, which sends it the log or a snapshot. initial_cluster then only
  // seeds the address book.
  bool join_existing = false;
  // etcd's --snapshot-count: once this many applied entries (plus the
  // catch-up entries) sit in the log, the log is compacted. 0 (the default
  // here; `aspen serve` sets 10000) disables compaction: then raft never
  // needs a snapshot, and a transport need not route MsgSnap through
  // ReceiveSnapshot.
  std::uint64_t snapshot_count = 0;
  // Applied entries kept below the compaction point's target for slow
  // followers (etcd's SnapshotCatchUpEntries). The leader also keeps every
  // entry a recently active follower still needs when that costs at most
  // snapshot_count more entries.
  std::uint64_t snapshot_catchup_entries = 5000;
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view RoleName(Role role);

struct NodeStatus {
  NodeId id = 0;
  NodeId leader = 0;  // 0: none known
  Role role = Role::kFollower;
  std::uint64_t term = 0;
  std::uint64_t commit_index = 0;
  std::uint64_t applied_index = 0;
  std::uint64_t last_index = 0;
  std::int64_t revision = 0;
  // Committed entries above the state machine's applied index at Open, applied
  // again during recovery.
  std::uint64_t replayed_entries = 0;
  // Readies handled since Open, and how many Store writes of theirs were
  // synced (at most one per Ready: log, hard state and applied state share
  // one WriteBatch).
  std::uint64_t readies = 0;
  std::uint64_t synced_writes = 0;
  // Log compaction and raft snapshots (docs/NODE.md, "Log compaction").
  std::uint64_t first_index = 0;  // the log's first index (compaction point + 1)
  std::uint64_t compactions = 0;
  std::uint64_t snapshots_installed = 0;
};

struct Member {
  NodeId id = 0;
  // Peer URLs, comma-separated ("" when unknown to this node).
  std::string peer_address;
  bool learner = false;
  // What the member published once started (etcd's attributes), through
  // raft: "" until then. client_urls comma-separated.
  std::string name;
  std::string client_urls;
};

// Fills `batch` with the rows of a received snapshot's state (the state
// column families; node/snapshot.h). Called on the Ready loop thread.
using SnapshotLoader = std::function<Status(storage::WriteBatch* batch)>;

// Installs a received snapshot's state into the store by itself, before the
// node resets its log (RocksStore::IngestStateSnapshotSst: SST files, so the
// state never sits in memory). It must set the store's ingest marker
// (storage/snapshot.h kIngestMarkerKey) to `marker`, synced, before it drops
// or replaces any state row, stage its files so Store::ResumeStagedIngest can
// finish the ingest, and leave the marker set: the node clears it in the
// synced batch that resets its log and hard state, and Open finishes an
// install a crash interrupted in between (docs/NODE.md, "Installing a
// snapshot"). Called on the Ready loop thread.
using SnapshotIngester = std::function<Status(const std::string& marker)>;

struct LeaseStatus {
  std::int64_t id = 0;
  std::int64_t granted_ttl_s = 0;
  // Seconds until the leader revokes it (rounded up), as of now.
  std::int64_t remaining_ttl_s = 0;
};

class Node {
 public:
  // Validates `options` (InvalidArgument naming the field), opens the log and
  // the state machine on options.store, bootstraps a new store with the
  // initial cluster, and prepares raft with applied = the state machine's
  // applied index (entries committed above it are re-applied once the node
  // runs). A node that is the only voter campaigns at once, so it is leader
  // after its first Ready. Corruption / IOError from storage as is.
  static Result<std::unique_ptr<Node>> Open(const NodeOptions& options);

  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Starts the Ready loop thread. FailedPrecondition if already started or
  // stopped.
  Status Start();
  // Stops the loop (joining its thread) and answers every pending request
  // with Unavailable "node stopped". Idempotent; concurrent calls are safe
  // (the second waits for the first). Must not be called from a callback.
  void Stop();

  // ----- Driving by hand (no thread; the simulator). Not thread-safe: one
  // caller thread, and only when Start() was never called. -----

  // Advances raft's logical clock by one tick and runs the timers (request
  // deadlines, lease and TTL expiry) against the Clock.
  void Tick();
  // Handles the inbox and every Ready raft has. False when nothing was done.
  // A storage failure is fatal: the node logs it and stops (Unavailable
  // afterwards).
  bool RunOnce();
  // The raft core, for the simulator's safety checker (read-only; valid until
  // the next Tick/RunOnce).
  const raft::Raft& RaftForTesting() const;

  // ----- Network (called by the Transport) -----

  // Queues a message from a peer for the loop. InvalidArgument if it is not
  // addressed to this node; ResourceExhausted "node inbox full" when
  // max_inbox_messages are queued (the message is dropped; raft retransmits);
  // Unavailable when stopped.
  Status Receive(raft::pb::Message message);
  // Receive for a whole batch from one peer: one inbox lock and one wake-up.
  // Messages not addressed to this node, or from a removed member, are
  // skipped; when the inbox fills up
  // the rest are dropped (raft retransmits). Returns how many were queued.
  std::size_t ReceiveBatch(std::vector<raft::pb::Message> messages);
  // The transport could not deliver to `peer` (raft slows down its probes).
  void ReportUnreachable(NodeId peer);
  // A snapshot message (MsgSnap) whose state arrived out of band (the peer
  // port's snapshot stream): `load` fills a batch with the state rows when the
  // node installs it. Errors as Receive; InvalidArgument if `message` is not
  // a MsgSnap.
  Status ReceiveSnapshot(raft::pb::Message message, SnapshotLoader load);
  // The same, for a state installed by `ingest` (see SnapshotIngester).
  Status ReceiveSnapshotIngest(raft::pb::Message message, SnapshotIngester ingest);
  // The transport finished sending a snapshot to `peer` (ok: delivered).
  void ReportSnapshot(NodeId peer, bool ok);
  // The consistent store view a MsgSnap this node sent at `index` describes
  // (its state column families hold exactly the state at that applied index);
  // nullptr when no longer kept (the sender then reports failure and raft
  // retries with a fresh snapshot). The node keeps the last few.
  std::shared_ptr<storage::Snapshot> OutgoingSnapshot(std::uint64_t index) const;

  // ----- Writes -----

  // Proposes `command` through raft. Sets command.now_ms from the Clock (wall
  // time). A LeaseGrant with ID 0 gets a fresh non-zero id. The callback gets:
  //   - the Response once the command is committed and applied on THIS node
  //     (a Response may itself carry an sm error, e.g. "lease not found": the
  //     command was applied and failed deterministically on every replica);
  //   - Unavailable "no leader" / "node stopped";
  //   - ResourceExhausted "too many pending proposals (limit N)", or when
  //     raft's uncommitted bytes are at their bound;
  //   - Unavailable "proposal lost in a leader change ... it was not applied":
  //     this node, as leader, appended it, and a later leader committed another
  //     entry at its index (safe to retry);
  //   - DeadlineExceeded after request_timeout_ms: the command may or may not
  //     be applied later.
  // A follower forwards the proposal to the leader and answers when it
  // applies the entry itself.
  void Propose(sm::v1::Command command, Callback<Result<sm::v1::Response>> done);

  // ----- Reads -----

  // Linearizable read barrier (raft ReadIndex, one request for every caller
  // waiting at the same time). OK once this node has applied everything the
  // cluster had committed when the barrier was submitted: a GetSnapshot()
  // taken after that sees every write acknowledged before. Unavailable "no
  // leader" / "node stopped"; ResourceExhausted "too many pending reads (limit
  // N)"; DeadlineExceeded after request_timeout_ms.
  void ReadBarrier(Callback<Status> done);
  // A consistent view of the applied state, for sm/reads.h (owned by the
  // caller; valid while the Node's store lives).
  std::unique_ptr<storage::Snapshot> GetSnapshot() const;
  // The Clock's wall time, for reads that hide expired TTL keys.
  std::int64_t NowMs() const;

  // ----- Leases (etcd semantics; kept alive on the leader only) -----

  // Refreshes the lease's deadline to now + its TTL and answers the TTL in
  // seconds. Unavailable "not leader (leader is N)" on any other node (the
  // server forwards to the leader); NotFound "lease not found".
  // It WAITS where etcd's Renew waits, holding no thread: on a lease whose
  // deadline has passed until its revocation is applied (then NotFound) or
  // this node stops leading ("not leader"); on a node elected leader that has
  // not yet applied an entry of its term (it has not taken over the leases)
  // until it has (then it renews) or stops leading. At most
  // lease_wait_timeout_ms: then Unavailable "request timed out: ... waited
  // lease_wait_timeout_ms (N ms) ..."; at most limits::kMaxLeaseWaiters calls
  // wait at once (ResourceExhausted "too many requests: ..." past that).
  // Unavailable "node stopped" (or the fatal error) when the node stops.
  // Before answering NotFound, the leader waits (one read barrier) until it has
  // applied every entry committed when it was called (a lease granted through
  // another member is found even if this leader's apply trails its commit).
  // `done` runs on the Ready loop or the reply thread (after a wait or the
  // read barrier) or inline on the caller's thread.
  void KeepAlive(std::int64_t lease_id, Callback<Result<std::int64_t>> done);
  // The lease's granted TTL and remaining time (0 once expired: no wait for
  // the revocation). Otherwise as KeepAlive, waits included.
  void LeaseTimeToLive(std::int64_t lease_id, Callback<Result<LeaseStatus>> done);
  // Synchronous forms: block the calling thread until `done` would run. Not
  // for a node driven by hand (no loop would answer a waiting call; the wait
  // then ends after lease_wait_timeout_ms + request_timeout_ms + 1 s).
  Result<std::int64_t> KeepAlive(std::int64_t lease_id);
  Result<LeaseStatus> LeaseTimeToLive(std::int64_t lease_id);

  // ----- Cluster -----

  NodeStatus GetStatus() const;
  // Voters then learners, in id order, from the applied configuration.
  std::vector<Member> Members() const;
  // Membership changes (one at a time, raft's rule). The callback gets OK once
  // the change is applied on this node; FailedPrecondition when another
  // change is pending or the change is invalid (adding an existing member,
  // promoting a voter, removing the last voter); NotFound when removing or
  // promoting an unknown member; InvalidArgument for id 0; plus Propose's
  // Unavailable/DeadlineExceeded. The peer address is recorded in the conf
  // change and enters every node's address book when applied.
  void AddMember(NodeId id, std::string peer_address, bool learner, Callback<Status> done);
  void RemoveMember(NodeId id, Callback<Status> done);
  // Promotion is refused on the leader with FailedPrecondition "can only
  // promote a learner member which is in sync with leader" while the
  // learner's match index is below 90% of the leader's (etcd's rule).
  void PromoteMember(NodeId id, Callback<Status> done);
  // Replaces a member's peer URLs (comma-separated); its role is unchanged.
  void UpdateMember(NodeId id, std::string peer_address, Callback<Status> done);
  // Asks raft to hand leadership to voter `id` (raft's leadership transfer).
  // OK means "asked"; the caller watches GetStatus().leader. FailedPrecondition
  // "not leader" on a non-leader; NotFound / FailedPrecondition when `id` is
  // not a member / not a voter.
  Status TransferLeadership(NodeId id);
  // As TransferLeadership, from any member: a follower forwards the request
  // to the leader it knows (Unavailable "no leader" when it knows none).
  Status RequestLeadershipTransfer(NodeId id);
  // Publishes this member's name and client URLs (comma-separated) through
  // raft (a no-op conf change of itself carrying them), so every member's
  // Members() shows them. Errors as UpdateMember.
  void PublishAttributes(std::string name, std::string client_urls, Callback<Status> done);
  // True once this member applied its own removal from the cluster.
  bool Removed() const;
  // The leader's view of each member's replication (empty on a follower).
  struct PeerProgress {
    std::uint64_t match = 0;
    bool active = false;  // raft saw it active within the last two election timeouts
  };
  std::map<NodeId, PeerProgress> Progress() const;

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  // KeepAlive / LeaseTimeToLive; `caught_up`: the read barrier of a miss was
  // taken already.
  void KeepAliveAfter(std::int64_t lease_id, bool caught_up, Callback<Result<std::int64_t>> done);
  void TimeToLiveAfter(std::int64_t lease_id, bool caught_up, Callback<Result<LeaseStatus>> done);
  Status NotLeader() const;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aspen::node
