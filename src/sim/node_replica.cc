#include "sim/node_replica.h"

#include <algorithm>
#include <utility>

#include "sim/commands.h"
#include "sm/reads.h"
#include "storage/snapshot.h"

namespace aspen::sim {
namespace {

std::string S(std::uint64_t v) {
  return std::to_string(v);
}

// The kSkipSync bug: every write is acknowledged without being made durable,
// so a crash loses votes and log entries the node has acknowledged.
class SkipSyncStore final : public storage::Store {
 public:
  explicit SkipSyncStore(storage::Store* inner) : inner_(inner) {}
  Status Write(const storage::WriteBatch& batch, bool) override {
    return inner_->Write(batch, /*sync=*/false);
  }
  std::unique_ptr<storage::Snapshot> GetSnapshot() override { return inner_->GetSnapshot(); }
  Status Get(storage::Cf cf, std::string_view key, std::string* value) override {
    return inner_->Get(cf, key, value);
  }
  storage::StoreStats stats() const override { return inner_->stats(); }

 private:
  storage::Store* inner_;
};

// Whether a failed write certainly did not take effect (node.h lists the
// answers): the client may then retry it elsewhere.
bool CertainlyNotApplied(const Status& s) {
  if (s.code() == Code::kResourceExhausted) return true;
  if (s.code() != Code::kUnavailable) return false;
  const std::string& m = s.message();
  return m == "no leader" || m.rfind("proposal dropped", 0) == 0 ||
         m.rfind("proposal lost in a leader change", 0) == 0;
}

// The adapter to node::SnapshotLoader (node.h), the one place that knows its
// shape: the receiver's batch gets every state row of the sender's view at the
// snapshot index, as the peer port's stream would carry them. `drop_kv` is the
// kSnapshotDropKv bug.
node::SnapshotLoader LoaderFor(std::shared_ptr<const storage::Snapshot> state, bool drop_kv) {
  return [state = std::move(state), drop_kv](storage::WriteBatch* batch) -> Status {
    for (storage::Cf cf : storage::StateCfs()) {
      if (drop_kv && cf == storage::Cf::kKv) continue;
      std::unique_ptr<storage::Iterator> it = state->NewIterator(cf);
      for (it->SeekToFirst(); it->Valid(); it->Next()) batch->Put(cf, it->key(), it->value());
      ASPEN_RETURN_IF_ERROR(it->status());
    }
    return Status::Ok();
  };
}

// The bytes of the state rows in `state` (what a transfer carries).
std::uint64_t StateBytes(const storage::Snapshot& state) {
  std::uint64_t bytes = 0;
  for (storage::Cf cf : storage::StateCfs()) {
    std::unique_ptr<storage::Iterator> it = state.NewIterator(cf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) bytes += it->key().size() + it->value().size();
  }
  return bytes;
}

// How long the node waits for a proposal or read before DeadlineExceeded:
// longer than any client's timeout (options.h), so clients give up first.
constexpr std::int64_t kRequestTimeoutMs = 1000;

}  // namespace

NodeReplica::NodeReplica(raft::NodeId id, const SimOptions& options, SimClock* clock,
                         SafetyChecker* checker, Trace* trace,
                         std::map<std::string, std::int64_t>* applied_values)
    : id_(id),
      options_(options),
      clock_(clock),
      checker_(checker),
      trace_(trace),
      applied_values_(applied_values) {
  if (options_.bug == SimBug::kSkipSync) skip_sync_ = std::make_unique<SkipSyncStore>(&store_);
}

NodeReplica::~NodeReplica() {
  crashing_ = true;
  node_.reset();
}

void NodeReplica::Line(const std::string& text) const {
  trace_->Line(clock_->now_ms, text);
}

Status NodeReplica::Bootstrap(const std::vector<raft::NodeId>& voters) {
  // node::Node bootstraps a new store itself from its initial cluster.
  for (raft::NodeId v : voters) initial_cluster_[v] = "";
  return Status::Ok();
}

Status NodeReplica::PrepareJoin(const std::vector<raft::NodeId>& voters) {
  // As etcd's --initial-cluster-state=existing: the joiner starts with the
  // configuration that includes it and replays the leader's log.
  return Bootstrap(voters);
}

Status NodeReplica::Start(std::uint64_t rand_seed) {
  ASPEN_ASSERT(!up());
  node::NodeOptions o;
  o.id = id_;
  o.initial_cluster = initial_cluster_;
  o.store = skip_sync_ != nullptr ? skip_sync_.get() : &store_;
  o.clock = clock_;
  o.transport = this;
  o.log = [this](std::string_view line) { Line(std::string(line)); };
  o.tick_interval_ms = options_.tick_ms;
  o.election_tick = options_.election_tick;
  o.heartbeat_tick = 1;
  o.request_timeout_ms = kRequestTimeoutMs;
  o.pre_vote = options_.pre_vote;
  o.check_quorum = options_.check_quorum;
  o.max_size_per_msg = options_.max_size_per_msg;
  o.max_inflight_msgs = 64;
  o.rand_seed = rand_seed | 1;  // 0 would mean "derive from the id"
  o.observer = this;
  o.snapshot_count = options_.snapshot_count;
  if (options_.snapshot_catchup_entries != 0) {
    o.snapshot_catchup_entries = options_.snapshot_catchup_entries;
  }
  if (options_.bug == SimBug::kRaftVoteWithoutLogCheck) {
    o.testing_bug = raft::TestingBug::kVoteWithoutLogCheck;
  }
  fatal_.reset();
  checker_->OnRestart(id_);
  auto opened = node::Node::Open(o);
  if (!opened.ok()) return opened.status();
  node_ = std::move(opened).value();
  ++incarnation_;
  return Status::Ok();
}

void NodeReplica::Crash() {
  if (up()) {
    const node::NodeStatus st = node_->GetStatus();
    installed_before_ += st.snapshots_installed;
    compactions_before_ += st.compactions;
  }
  snap_unsendable_.clear();
  crashing_ = true;
  node_.reset();  // Stop() answers every waiter; crashing_ drops the answers
  crashing_ = false;
  outbox_.clear();
  fatal_.reset();
  store_.Crash();
  checker_->OnRestart(id_);
}

void NodeReplica::Step(const raft::pb::Message& m) {
  // A full inbox drops the message (raft retransmits), as on a real node.
  const Status st = node_->Receive(m);
  (void)st;
}

void NodeReplica::StepSnapshot(const raft::pb::Message& m,
                               std::shared_ptr<const storage::Snapshot> state) {
  if (state == nullptr) return;  // not from a node runtime sender
  // A full inbox drops it; the sender was told "delivered", and raft's probe
  // after the report finds the follower still behind and retries.
  const Status st = node_->ReceiveSnapshot(
      m, LoaderFor(std::move(state), options_.bug == SimBug::kSnapshotDropKv));
  if (!st.ok()) Line("node " + S(id_) + " refused a snapshot: " + st.ToString());
}

void NodeReplica::ReportSnapshot(raft::NodeId to, bool failed) {
  if (failed) ++counters_.failed;
  node_->ReportSnapshot(to, !failed);
}

Replica::SnapshotCounters NodeReplica::snapshot_counters() const {
  SnapshotCounters c = counters_;
  c.installed = installed_before_;
  c.compactions = compactions_before_;
  if (up()) {
    const node::NodeStatus st = node_->GetStatus();
    c.installed += st.snapshots_installed;
    c.compactions += st.compactions;
  }
  return c;
}

void NodeReplica::Reply(Endpoint to, ClientReply r) {
  if (crashing_) return;
  Packet p;
  p.from = id_;
  p.to = to;
  p.kind = Packet::Kind::kReply;
  if (r.leader_hint == raft::kNone && up()) r.leader_hint = node_->GetStatus().leader;
  p.reply = std::move(r);
  outbox_.push_back(std::move(p));
}

void NodeReplica::Answer(const ClientRequest& req, Endpoint from, const Status& failure) {
  ClientReply r;
  r.request_id = req.request_id;
  r.status = CertainlyNotApplied(failure) ? ReplyStatus::kRefused : ReplyStatus::kUnknown;
  Reply(from, std::move(r));
}

void NodeReplica::HandleRequest(const ClientRequest& req, Endpoint from, std::int64_t,
                                std::vector<Packet>* out) {
  if (req.op.kind == OpKind::kGet) {
    auto serve = [this, req, from](Status st) {
      if (crashing_) return;
      ClientReply r;
      r.request_id = req.request_id;
      if (!st.ok()) {
        r.status = ReplyStatus::kRefused;  // a read never takes effect
        Reply(from, std::move(r));
        return;
      }
      auto snap = node_->GetSnapshot();
      auto resp = sm::Range(*snap, GetRequest(req.op), node_->NowMs());
      Status decoded = resp.ok() ? DecodeGetResponse(*resp, &r) : resp.status();
      if (!decoded.ok()) {
        if (!internal_) internal_ = Status::Internal("node " + S(id_) + ": " + decoded.ToString());
        return;
      }
      r.status = ReplyStatus::kOk;
      Reply(from, std::move(r));
    };
    if (options_.bug == SimBug::kStaleRead) {
      serve(Status::Ok());
    } else {
      node_->ReadBarrier(std::move(serve));
    }
  } else {
    sm::v1::Command cmd;
    const std::string data = EncodeWrite(req.op, clock_->NowMs());
    const bool parsed = cmd.ParseFromString(data);
    ASPEN_ASSERT(parsed);
    node_->Propose(std::move(cmd), [this, req, from](Result<sm::v1::Response> resp) {
      if (crashing_) return;
      if (!resp.ok()) {
        Answer(req, from, resp.status());
        return;
      }
      ClientReply r;
      r.request_id = req.request_id;
      r.status = ReplyStatus::kOk;
      const Status decoded = DecodeWriteResponse(req.op, *resp, &r);
      if (!decoded.ok()) {
        if (!internal_) internal_ = Status::Internal("node " + S(id_) + ": " + decoded.ToString());
        return;
      }
      Reply(from, std::move(r));
    });
  }
  // Answers given at submission (bounds, a stopped node) go out at once.
  for (Packet& p : outbox_) out->push_back(std::move(p));
  outbox_.clear();
}

bool NodeReplica::ProposeConfChange(const raft::pb::ConfChange& cc) {
  auto done = [this, cc](Status st) {
    if (crashing_) return;
    Line("node " + S(id_) + ": membership change of node " + S(cc.node_id()) +
         " answered: " + st.ToString());
  };
  switch (cc.type()) {
    case raft::pb::CONF_CHANGE_ADD_NODE: node_->AddMember(cc.node_id(), "", false, done); break;
    case raft::pb::CONF_CHANGE_REMOVE_NODE: node_->RemoveMember(cc.node_id(), done); break;
    default: return false;
  }
  return true;
}

Status NodeReplica::Process(std::int64_t, std::vector<Packet>* out) {
  // RunOnce handles the inbox and every Ready; answers may queue more work
  // (a callback proposing), so run until the node is idle, within a bound.
  constexpr int kMaxPasses = 64;
  for (int pass = 0; pass < kMaxPasses && up() && !fatal_; ++pass) {
    const bool worked = node_->RunOnce();
    for (raft::NodeId to : std::exchange(snap_unsendable_, {})) ReportSnapshot(to, true);
    if (!worked) break;
  }
  for (Packet& p : outbox_) out->push_back(std::move(p));
  outbox_.clear();
  if (internal_) return *internal_;
  if (fatal_) {
    if (fatal_->code() == Code::kIOError) {
      return Status::IOError("node " + S(id_) + " stopped: " + fatal_->ToString());
    }
    return Status::Internal("node " + S(id_) + " stopped: " + fatal_->ToString());
  }
  return Status::Ok();
}

std::uint64_t NodeReplica::applied_index() const {
  return up() ? node_->GetStatus().applied_index : 0;
}

std::vector<raft::NodeId> NodeReplica::voters() const {
  std::vector<raft::NodeId> out;
  if (!up()) return out;
  for (const node::Member& m : node_->Members()) {
    if (!m.learner) out.push_back(m.id);
  }
  return out;
}

void NodeReplica::OnPersist(const raft::Raft& raft, const raft::EntryVec& entries) {
  checker_->OnPersist(id_, raft, entries);
  if (trace_->enabled() && !entries.empty()) {
    Line("node " + S(id_) + " persists entries " + S(entries.front().index()) + ".." +
         S(entries.back().index()) + " (terms " + S(entries.front().term()) + ".." +
         S(entries.back().term()) + ")");
  }
}

void NodeReplica::OnApply(const raft::pb::Entry& e, const sm::v1::Response* response) {
  checker_->OnApply(id_, e);
  if (response == nullptr) return;
  std::optional<std::string> value = WrittenValue(e.data(), *response);
  if (value) applied_values_->emplace(std::move(*value), clock_->now_ms);
}

void NodeReplica::OnFatal(const Status& why) {
  if (!fatal_) fatal_ = why;
}

void NodeReplica::Send(std::vector<raft::pb::Message> messages) {
  for (raft::pb::Message& m : messages) {
    Packet p;
    p.from = id_;
    p.to = m.to();
    p.kind = Packet::Kind::kRaft;
    if (m.type() == raft::pb::MSG_SNAP) {
      std::shared_ptr<const storage::Snapshot> state =
          node_->OutgoingSnapshot(m.snapshot().metadata().index());
      if (state == nullptr) {
        snap_unsendable_.push_back(m.to());
        continue;
      }
      ++counters_.sent;
      p.transfer_ms =
          1 + static_cast<std::int64_t>(StateBytes(*state) /
                                        std::max<std::uint64_t>(1, options_.snapshot_bytes_per_ms));
      p.snap_state = std::move(state);
      p.sender_incarnation = incarnation_;
      Line("node " + S(id_) + " sends a snapshot at index " + S(m.snapshot().metadata().index()) +
           " to node " + S(m.to()) + " (" + S(static_cast<std::uint64_t>(p.transfer_ms)) + "ms)");
    }
    p.raft = std::move(m);
    outbox_.push_back(std::move(p));
  }
}

}  // namespace aspen::sim
