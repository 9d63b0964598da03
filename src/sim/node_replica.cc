#include "sim/node_replica.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "sim/commands.h"
#include "sm/reads.h"
#include "sm/record.h"
#include "storage/snapshot.h"

namespace aspen::sim {
namespace {

// A store with a bug (options.h): kSkipSync acknowledges every write unsynced,
// so a crash loses votes and log entries the node has acknowledged;
// kRevokeKeepsAKey and kRevokeKeepsLeaseRow drop part of a lease revocation's
// rows from the batch (a batch that deletes a lease row is a revocation).
class BuggyStore final : public storage::Store {
 public:
  BuggyStore(storage::Store* inner, SimBug bug) : inner_(inner), bug_(bug) {}
  Status Write(const storage::WriteBatch& batch, bool sync) override {
    if (bug_ == SimBug::kSkipSync) return inner_->Write(batch, /*sync=*/false);
    std::vector<std::string> revoked;  // lease keys
    for (const storage::WriteBatch::Op& op : batch.ops()) {
      if (op.type == storage::WriteBatch::OpType::kDelete && op.cf == storage::Cf::kLease) {
        revoked.push_back(op.key);
      }
    }
    if (revoked.empty()) return inner_->Write(batch, sync);
    storage::WriteBatch out;
    bool kept_a_key = false;
    for (const storage::WriteBatch::Op& op : batch.ops()) {
      const bool del = op.type == storage::WriteBatch::OpType::kDelete;
      if (bug_ == SimBug::kRevokeKeepsLeaseRow && del && op.cf == storage::Cf::kLease) continue;
      if (bug_ == SimBug::kRevokeKeepsAKey && del && op.cf == storage::Cf::kKv && !kept_a_key &&
          AttachedToOneOf(op.key, revoked)) {
        kept_a_key = true;
        continue;
      }
      switch (op.type) {
        case storage::WriteBatch::OpType::kPut: out.Put(op.cf, op.key, op.value); break;
        case storage::WriteBatch::OpType::kDelete: out.Delete(op.cf, op.key); break;
        case storage::WriteBatch::OpType::kDeleteRange:
          out.DeleteRange(op.cf, op.key, op.value);
          break;
      }
    }
    return inner_->Write(out, sync);
  }
  std::unique_ptr<storage::Snapshot> GetSnapshot() override { return inner_->GetSnapshot(); }
  Status Get(storage::Cf cf, std::string_view key, std::string* value) override {
    return inner_->Get(cf, key, value);
  }
  storage::StoreStats stats() const override { return inner_->stats(); }

 private:
  // Whether the stored record of `key` names one of the leases in `lease_keys`.
  bool AttachedToOneOf(const std::string& key, const std::vector<std::string>& lease_keys) {
    std::string record;
    if (!inner_->Get(storage::Cf::kKv, key, &record).ok()) return false;
    sm::KvMeta meta;
    std::string_view value;
    if (!sm::DecodeKvRecord(record, &meta, &value).ok() || meta.lease == 0) return false;
    const std::string lease = sm::EncodeLeaseKey(meta.lease);
    return std::find(lease_keys.begin(), lease_keys.end(), lease) != lease_keys.end();
  }

  storage::Store* inner_;
  const SimBug bug_;
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
// snapshot index, as the peer port's stream would carry them. `bug` may be
// kSnapshotDropKv (no kv rows) or kSnapshotDropIdleLeases (no rows of leases
// without keys).
node::SnapshotLoader LoaderFor(std::shared_ptr<const storage::Snapshot> state, SimBug bug) {
  return [state = std::move(state), bug](storage::WriteBatch* batch) -> Status {
    std::set<std::string> busy;  // lease keys of leases some key is attached to
    if (bug == SimBug::kSnapshotDropIdleLeases) {
      std::unique_ptr<storage::Iterator> it = state->NewIterator(storage::Cf::kKv);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        sm::KvMeta meta;
        std::string_view value;
        ASPEN_RETURN_IF_ERROR(sm::DecodeKvRecord(it->value(), &meta, &value));
        if (meta.lease != 0) busy.insert(sm::EncodeLeaseKey(meta.lease));
      }
    }
    for (storage::Cf cf : storage::StateCfs()) {
      if (bug == SimBug::kSnapshotDropKv && cf == storage::Cf::kKv) continue;
      std::unique_ptr<storage::Iterator> it = state->NewIterator(cf);
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        if (bug == SimBug::kSnapshotDropIdleLeases && cf == storage::Cf::kLease &&
            busy.count(std::string(it->key())) == 0) {
          continue;
        }
        batch->Put(cf, it->key(), it->value());
      }
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
                         SafetyChecker* checker, LeaseChecker* leases, Trace* trace,
                         std::map<std::string, std::int64_t>* applied_values)
    : id_(id),
      options_(options),
      clock_(clock),
      checker_(checker),
      leases_(leases),
      trace_(trace),
      applied_values_(applied_values) {
  if (options_.bug == SimBug::kSkipSync || options_.bug == SimBug::kRevokeKeepsAKey ||
      options_.bug == SimBug::kRevokeKeepsLeaseRow) {
    buggy_store_ = std::make_unique<BuggyStore>(&store_, options_.bug);
  }
  if (options_.bug == SimBug::kFastLeaseClock)
    fast_clock_ = std::make_unique<FastSteadyClock>(clock_);
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
  o.store = buggy_store_ != nullptr ? buggy_store_.get() : &store_;
  o.clock = fast_clock_ != nullptr ? fast_clock_.get() : static_cast<node::Clock*>(clock_);
  o.expiry_interval_ms = options_.expiry_interval_ms;
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
  ReloadLessorMirror();
  return Status::Ok();
}

bool NodeReplica::MirrorHas(std::int64_t lease) {
  if (node_->GetStatus().snapshots_installed != mirror_installs_) ReloadLessorMirror();
  return lessor_mirror_.count(lease) != 0;
}

void NodeReplica::ReloadLessorMirror() {
  lessor_mirror_.clear();
  mirror_installs_ = node_->GetStatus().snapshots_installed;
  auto leases = sm::Leases(*node_->GetSnapshot());
  if (!leases.ok()) {
    if (!internal_)
      internal_ =
          Status::Internal("node " + std::to_string(id_) + ": " + leases.status().ToString());
    return;
  }
  for (const sm::LeaseInfo& l : *leases) lessor_mirror_.insert(l.id);
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
  const Status st = node_->ReceiveSnapshot(m, LoaderFor(std::move(state), options_.bug));
  if (!st.ok()) Line("node " + std::to_string(id_) + " refused a snapshot: " + st.ToString());
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

void NodeReplica::ServeRead(const ClientRequest& req, Endpoint from) {
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
    Status decoded = resp.ok() ? DecodeGetResponse(req.op, *resp, &r) : resp.status();
    if (!decoded.ok()) {
      if (!internal_)
        internal_ = Status::Internal("node " + std::to_string(id_) + ": " + decoded.ToString());
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
}

void NodeReplica::ServeWrite(const ClientRequest& req, Endpoint from) {
  sm::v1::Command cmd;
  const std::string data = EncodeWrite(req.op, clock_->NowMs());
  const bool parsed = cmd.ParseFromString(data);
  ASPEN_ASSERT(parsed);
  if (options_.bug == SimBug::kRevokeAckedBeforeApplied && req.op.kind == OpKind::kLeaseRevoke) {
    ClientReply r;
    r.request_id = req.request_id;
    r.status = ReplyStatus::kOk;
    r.flag = true;
    Reply(from, std::move(r));
    node_->Propose(std::move(cmd), [](Result<sm::v1::Response>) {});
    return;
  }
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
      if (!internal_)
        internal_ = Status::Internal("node " + std::to_string(id_) + ": " + decoded.ToString());
      return;
    }
    Reply(from, std::move(r));
  });
}

void NodeReplica::ServeKeepAlive(const ClientRequest& req, Endpoint from) {
  // The gRPC server forwards a follower's keep-alive to the leader; here the
  // client retries there (the refusal carries the leader hint).
  if (node_->GetStatus().role != node::Role::kLeader) {
    ClientReply r;
    r.request_id = req.request_id;
    r.status = ReplyStatus::kRefused;
    Reply(from, std::move(r));
    return;
  }
  // As the gRPC server: Node::KeepAlive's callback form. It answers at once,
  // after its read barrier on a miss, or after a wait (an expired lease until
  // its revocation applies, a new leader until it takes over the leases), all
  // driven by this replica's Tick and Process.
  // A lease the Lessor holds is answered at once or after a wait in the
  // Lessor (another one only after the miss's read barrier).
  auto at_once = std::make_shared<bool>(true);
  const bool held = MirrorHas(req.op.lease);
  node_->KeepAlive(req.op.lease, [this, req, from, at_once, held](Result<std::int64_t> ttl) {
    if (crashing_) return;
    if (held && !*at_once) leases_->OnKeepAliveWaited();
    ClientReply r;
    r.request_id = req.request_id;
    if (ttl.ok()) {
      leases_->OnKeepAliveOk(id_, req.op.lease, *ttl,
                             LeaseChecker::Phased(clock_->now_ms, processing_));
      r.status = ReplyStatus::kOk;
      r.flag = true;
    } else if (ttl.status().code() == Code::kNotFound) {
      // Answered after the catch-up (or the revocation): the applied state
      // must not hold the lease then.
      if (MirrorHas(req.op.lease)) {
        if (!internal_) {
          internal_ = Status::Internal("node " + std::to_string(id_) + ": KeepAlive answered " +
                                       ttl.status().ToString() + " for lease " +
                                       std::to_string(req.op.lease) + ", which it has applied");
        }
        return;
      }
      r.status = ReplyStatus::kOk;
      r.flag = false;
    } else {
      // "not leader", "request timed out", stopped: certainly not renewed.
      r.status = ReplyStatus::kRefused;
    }
    Reply(from, std::move(r));
  });
  *at_once = false;  // an answer from now on came later
}

void NodeReplica::HandleRequest(const ClientRequest& req, Endpoint from, std::int64_t,
                                std::vector<Packet>* out) {
  switch (req.op.kind) {
    case OpKind::kGet:
    case OpKind::kRange: ServeRead(req, from); break;
    case OpKind::kKeepAlive: ServeKeepAlive(req, from); break;
    default: ServeWrite(req, from); break;
  }
  // Answers given at submission (bounds, a stopped node) go out at once.
  for (Packet& p : outbox_) out->push_back(std::move(p));
  outbox_.clear();
}

bool NodeReplica::ProposeConfChange(const raft::pb::ConfChange& cc) {
  auto done = [this, cc](Status st) {
    if (crashing_) return;
    Line("node " + std::to_string(id_) + ": membership change of node " +
         std::to_string(cc.node_id()) + " answered: " + st.ToString());
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
  processing_ = true;
  for (int pass = 0; pass < kMaxPasses && up() && !fatal_; ++pass) {
    const bool worked = node_->RunOnce();
    // An install replaced the Lessor's leases with the snapshot's.
    if (up() && node_->GetStatus().snapshots_installed != mirror_installs_) ReloadLessorMirror();
    for (raft::NodeId to : std::exchange(snap_unsendable_, {})) ReportSnapshot(to, true);
    if (!worked) break;
  }
  processing_ = false;
  for (Packet& p : outbox_) out->push_back(std::move(p));
  outbox_.clear();
  if (internal_) return *internal_;
  if (fatal_) {
    if (fatal_->code() == Code::kIOError) {
      return Status::IOError("node " + std::to_string(id_) + " stopped: " + fatal_->ToString());
    }
    return Status::Internal("node " + std::to_string(id_) + " stopped: " + fatal_->ToString());
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
    Line("node " + std::to_string(id_) + " persists entries " +
         std::to_string(entries.front().index()) + ".." + std::to_string(entries.back().index()) +
         " (terms " + std::to_string(entries.front().term()) + ".." +
         std::to_string(entries.back().term()) + ")");
  }
}

void NodeReplica::OnApply(const raft::pb::Entry& e, const sm::v1::Response* response) {
  checker_->OnApply(id_, e);
  if (response == nullptr) return;
  leases_->OnApply(id_, e, *response, clock_->now_ms);
  // The Lessor's view, as node/ready.cc updates it.
  sm::v1::Command cmd;
  if (!e.data().empty() && cmd.ParseFromString(e.data())) {
    const int code = response->has_error() ? response->error().code() : 0;
    if (cmd.has_lease_grant() && code == 0) lessor_mirror_.insert(cmd.lease_grant().id());
    if (cmd.has_lease_revoke() && (code == 0 || code == static_cast<int>(Code::kNotFound))) {
      lessor_mirror_.erase(cmd.lease_revoke().id());
    }
  }
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
      Line("node " + std::to_string(id_) + " sends a snapshot at index " +
           std::to_string(m.snapshot().metadata().index()) + " to node " + std::to_string(m.to()) +
           " (" + std::to_string(p.transfer_ms) + "ms)");
    }
    p.raft = std::move(m);
    outbox_.push_back(std::move(p));
  }
}

}  // namespace aspen::sim
