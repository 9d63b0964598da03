// Node: Open (recovery and bootstrap), the loop thread, Start/Stop and the
// thread-safe entry points. The Ready loop itself is in ready.cc.
#include "node/node.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <memory>

#include "base/limits.h"
#include "base/thread_name.h"
#include "node/members_record.h"
#include "node/node_impl.h"
#include "sm/history.h"
#include "sm/reads.h"

namespace aspen::node {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "unknown";
}

namespace {

Status ValidateOptions(const NodeOptions& o) {
  if (o.id == raft::kNone) return Status::InvalidArgument("node id must not be 0");
  if (o.store == nullptr) return Status::InvalidArgument("store must be set");
  if (o.tick_interval_ms <= 0) return Status::InvalidArgument("tick_interval_ms must be > 0");
  if (o.heartbeat_tick <= 0 || o.election_tick <= o.heartbeat_tick) {
    return Status::InvalidArgument("need 0 < heartbeat_tick < election_tick");
  }
  if (o.request_timeout_ms <= 0) return Status::InvalidArgument("request_timeout_ms must be > 0");
  if (o.expiry_interval_ms <= 0) return Status::InvalidArgument("expiry_interval_ms must be > 0");
  if (o.lease_wait_timeout_ms < 0) {
    return Status::InvalidArgument("lease_wait_timeout_ms must be >= 0");
  }
  if (o.max_pending_proposals == 0 || o.max_pending_reads == 0 || o.max_inbox_messages == 0) {
    return Status::InvalidArgument(
        "max_pending_proposals, max_pending_reads and "
        "max_inbox_messages must be > 0");
  }
  if (o.initial_cluster.count(raft::kNone) != 0) {
    return Status::InvalidArgument("initial_cluster contains node id 0");
  }
  if (o.transport == nullptr && o.initial_cluster.size() > 1) {
    return Status::InvalidArgument("transport must be set for a cluster of " +
                                   std::to_string(o.initial_cluster.size()) + " nodes");
  }
  return Status::Ok();
}

// NodeOptions::lease_wait_timeout_ms, 0 resolved to its default.
std::int64_t LeaseWaitMs(const NodeOptions& o) {
  if (o.lease_wait_timeout_ms > 0) return o.lease_wait_timeout_ms;
  return 2 * o.election_tick * o.tick_interval_ms + o.expiry_interval_ms;
}

}  // namespace

Node::Impl::Impl(const NodeOptions& o)
    : opts(o),
      clock(o.clock != nullptr ? o.clock : RealClock()),
      transport(o.transport),
      store(o.store),
      rng(o.rand_seed != 0 ? o.rand_seed : o.id * 0x9e3779b97f4a7c15ULL),
      lessor(clock, LeaseWaitMs(o)) {}

void Node::Impl::Log(const std::string& line) const {
  const std::string full = "node " + std::to_string(opts.id) + ": " + line;
  if (opts.log) {
    opts.log(full);
  } else {
    std::fprintf(stderr, "%s\n", full.c_str());
  }
}

Status Node::Impl::BootstrapIfNew() {
  auto initial = log->InitialState();
  if (!initial.ok()) return initial.status();
  const bool fresh = log->LastIndex() == 0 && initial->hard_state == storage::HardState{} &&
                     initial->conf_state.empty();
  if (!fresh) return Status::Ok();
  if (opts.join_existing) {
    Log("joining a running cluster: waiting for the leader");
    return Status::Ok();
  }
  rpb::ConfState cs;
  if (opts.initial_cluster.empty()) {
    cs.add_voters(opts.id);
  } else {
    if (opts.initial_cluster.count(opts.id) == 0) {
      return Status::InvalidArgument("initial_cluster does not contain this node's id " +
                                     std::to_string(opts.id));
    }
    for (const auto& [id, addr] : opts.initial_cluster) cs.add_voters(id);
  }
  storage::WriteBatch batch;
  raft_storage->SetConfState(&batch, cs);
  std::map<std::uint64_t, std::string> initial_book;
  for (const auto& [id, addr] : opts.initial_cluster) {
    if (!addr.empty()) initial_book[id] = addr;
  }
  batch.Put(storage::Cf::kMeta, kMembersKey, EncodeMembers(initial_book));
  ASPEN_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  Log("bootstrapped a new cluster of " + std::to_string(cs.voters_size()) + " voter(s)");
  return Status::Ok();
}

raft::Config Node::Impl::RaftConfig() const {
  raft::Config cfg;
  cfg.id = opts.id;
  cfg.election_tick = opts.election_tick;
  cfg.heartbeat_tick = opts.heartbeat_tick;
  cfg.storage = raft_storage.get();
  cfg.applied = sm->applied_index();
  cfg.max_size_per_msg = opts.max_size_per_msg;
  cfg.max_inflight_msgs = opts.max_inflight_msgs;
  cfg.max_uncommitted_entries_size = opts.max_uncommitted_entries_size;
  cfg.max_pending_read_requests = opts.max_pending_reads;
  cfg.check_quorum = opts.check_quorum;
  cfg.pre_vote = opts.pre_vote;
  cfg.rand_seed = opts.rand_seed != 0 ? opts.rand_seed : opts.id;
  cfg.testing_bug = opts.testing_bug;
  // HandleReady persists entries and applies committed ones in one write, so
  // a sole voter commits and applies its batch in the Ready that appends it.
  cfg.sole_voter_commits_in_ready = true;
  return cfg;
}

Status Node::Impl::Init() {
  auto opened = storage::LogStore::Open(store);
  if (!opened.ok()) return opened.status();
  log = std::move(opened).value();
  ASPEN_RETURN_IF_ERROR(FinishInterruptedInstall());
  raft_storage = std::make_unique<RaftStorage>(log.get());
  raft_storage->SetSnapshotProvider([this] { return TakeSnapshot(); });
  ASPEN_RETURN_IF_ERROR(BootstrapIfNew());

  auto machine = sm::StateMachine::Open(store);
  if (!machine.ok()) return machine.status();
  sm = std::move(machine).value();
  auto leases = sm::Leases(*store->GetSnapshot());
  if (!leases.ok()) return leases.status();
  for (const sm::LeaseInfo& l : *leases) lessor.Grant(l.id, l.granted_ttl_s);
  lessor.Applied(sm->applied_index());
  auto compaction = sm::ReadCompactionState(*store->GetSnapshot());
  if (!compaction.ok()) return compaction.status();
  compact_done = compaction->done_revision();

  const raft::Config cfg = RaftConfig();
  auto hs = log->InitialState();
  if (!hs.ok()) return hs.status();
  if (cfg.applied > hs->hard_state.commit) {
    return Status::Corruption("applied index " + std::to_string(cfg.applied) +
                              " is past the stored commit index " +
                              std::to_string(hs->hard_state.commit));
  }
  auto created = raft::RawNode::Create(cfg);
  if (!created.ok()) return Status::InvalidArgument("raft: " + created.error().ToString());
  raw = std::move(created).value();

  // Request ids must never repeat across restarts of this node: an entry its
  // previous incarnation proposed (or forwarded) may still commit after the
  // restart, tagged with that incarnation's ids (request_tag.h), and must not
  // answer a new request. As etcd's id generator: the wall time in ms at Open
  // in the high 40 bits, a counter in the low 24.
  constexpr int kCounterBits = 24;
  const auto open_ms = static_cast<std::uint64_t>(clock->NowMs()) & ((1ULL << 40) - 1);
  next_request_id.store((open_ms << kCounterBits) + 1);

  replay_until = hs->hard_state.commit;
  Log("opened: applied index " + std::to_string(cfg.applied) + ", commit index " +
      std::to_string(replay_until) + ", last index " + std::to_string(log->LastIndex()) +
      (replay_until > cfg.applied
           ? ", replaying " + std::to_string(replay_until - cfg.applied) + " committed entries"
           : ""));
  if (replay_until <= cfg.applied) replay_logged = true;

  auto cs = DecodeConfState(hs->conf_state);
  if (!cs.ok()) return cs.status();
  {
    std::lock_guard lock(status_mu);
    conf = *cs;
    for (const auto& [id, addr] : opts.initial_cluster) book.members[id].peer_urls = addr;
  }
  ASPEN_RETURN_IF_ERROR(LoadMembers());
  PublishStatus();
  // A node that is the only voter need not wait an election timeout.
  if (cs->voters_size() == 1 && cs->voters(0) == opts.id) raw->Campaign();
  return Status::Ok();
}

Result<std::unique_ptr<Node>> Node::Open(const NodeOptions& options) {
  ASPEN_RETURN_IF_ERROR(ValidateOptions(options));
  auto impl = std::make_unique<Impl>(options);
  ASPEN_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  Stop();
}

Status Node::Start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->started) return Status::FailedPrecondition("node already started");
  if (impl_->stopped.load()) return Status::FailedPrecondition("node is stopped");
  impl_->started = true;
  impl_->replies = std::make_unique<CompletionRunner>(limits::kMaxQueuedCompletionBatches);
  impl_->thread = std::thread([this] {
    SetThreadName("aspen-raft");
    impl_->Loop();
  });
  return Status::Ok();
}

void Node::Impl::Loop() {
  std::int64_t next_tick = Steady() + opts.tick_interval_ms;
  while (true) {
    {
      std::unique_lock lock(mu);
      const std::int64_t wait_ms = std::max<std::int64_t>(0, next_tick - Steady());
      cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
        return stopping || !inbox_msgs.empty() || !inbox_props.empty() || !inbox_reads.empty() ||
               !inbox_conf.empty() || !inbox_unreachable.empty() || !inbox_snap_reports.empty() ||
               inbox_transfer.has_value();
      });
      if (stopping) break;
    }
    const std::int64_t now = Steady();
    if (now >= next_tick) {
      std::vector<Completion> done;
      raw->Tick();
      TickTimers(&done);
      for (Completion& c : done) c();
      next_tick += opts.tick_interval_ms;
      if (next_tick <= now) next_tick = now + opts.tick_interval_ms;
    }
    RunOnce();
  }
  // After a fatal error nobody may be left waiting until Stop(): fail the
  // loop's tables now (RunOnce does that once stopping is set).
  RunOnce();
}

void Node::Impl::Fatal(const Status& s) {
  Log("stopping after a fatal error: " + s.ToString());
  if (opts.observer != nullptr) opts.observer->OnFatal(s);
  std::lock_guard lock(mu);
  if (!stopping) {
    stopping = true;
    stop_reason = Status::Unavailable("node stopped after a storage failure: " + s.ToString());
  }
}

void Node::Impl::Shutdown(const Status& why) {
  std::vector<Completion> done;
  {
    std::lock_guard lock(mu);
    stopping = true;
    if (stop_reason.ok()) stop_reason = why;
  }
  cv.notify_all();
  if (thread.joinable()) thread.join();
  // Replies the loop handed off go out before the failures below.
  if (replies != nullptr) replies->Stop();
  stopped.store(true);
  Status reason;
  {
    std::lock_guard lock(mu);
    reason = stop_reason;
  }
  FailAll(reason, &done);
  lessor.Demote();
  for (Completion& c : done) c();
}

void Node::Stop() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->stopped.load()) return;
  impl_->Shutdown(Status::Unavailable("node stopped"));
}

void Node::Tick() {
  std::vector<Completion> done;
  impl_->raw->Tick();
  impl_->TickTimers(&done);
  for (Completion& c : done) c();
}

bool Node::RunOnce() {
  return impl_->RunOnce();
}

const raft::Raft& Node::RaftForTesting() const {
  return impl_->raw->raft();
}

Status Node::Receive(raft::pb::Message message) {
  if (message.to() != impl_->opts.id) {
    return Status::InvalidArgument("message for node " + std::to_string(message.to()) +
                                   " delivered to node " + std::to_string(impl_->opts.id));
  }
  if (Status s = impl_->CheckSender(message.from()); !s.ok()) return s;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return Status::Unavailable("node stopped");
    if (impl_->inbox_msgs.size() >= impl_->opts.max_inbox_messages) {
      return Status::ResourceExhausted("node inbox full (max_inbox_messages " +
                                       std::to_string(impl_->opts.max_inbox_messages) + ")");
    }
    impl_->inbox_msgs.push_back(std::move(message));
  }
  impl_->cv.notify_one();
  return Status::Ok();
}

std::size_t Node::ReceiveBatch(std::vector<raft::pb::Message> messages) {
  std::size_t queued = 0;
  // Messages from removed members are refused as Receive refuses them (one
  // check per sender; a batch usually has one).
  std::map<NodeId, bool> refused;
  for (const raft::pb::Message& m : messages) {
    if (refused.count(m.from()) == 0) refused[m.from()] = !impl_->CheckSender(m.from()).ok();
  }
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return 0;
    for (raft::pb::Message& m : messages) {
      if (m.to() != impl_->opts.id || refused[m.from()]) continue;
      if (impl_->inbox_msgs.size() >= impl_->opts.max_inbox_messages) break;
      impl_->inbox_msgs.push_back(std::move(m));
      ++queued;
    }
  }
  if (queued > 0) impl_->cv.notify_one();
  return queued;
}

void Node::ReportUnreachable(NodeId peer) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->inbox_unreachable.insert(peer);
  }
  impl_->cv.notify_one();
}

Status Node::ReceiveSnapshot(raft::pb::Message message, SnapshotLoader load) {
  return impl_->QueueSnapshot(this, std::move(message), StagedSnapshot{std::move(load), nullptr});
}

Status Node::ReceiveSnapshotIngest(raft::pb::Message message, SnapshotIngester ingest) {
  return impl_->QueueSnapshot(this, std::move(message), StagedSnapshot{nullptr, std::move(ingest)});
}

Status Node::Impl::QueueSnapshot(Node* node, raft::pb::Message message, StagedSnapshot staged) {
  ASPEN_ASSERT((staged.load != nullptr) != (staged.ingest != nullptr));
  if (message.type() != rpb::MSG_SNAP || !message.has_snapshot()) {
    return Status::InvalidArgument("ReceiveSnapshot needs a snapshot message");
  }
  if (Status s = CheckSender(message.from()); !s.ok()) return s;
  const std::uint64_t index = message.snapshot().metadata().index();
  {
    std::lock_guard lock(mu);
    if (stopping) return Status::Unavailable("node stopped");
    // Keep the newest few; an older snapshot raft still installs would find
    // no loader and be refused (see InstallSnapshot).
    inbox_snap_loaders[index] = std::move(staged);
    while (inbox_snap_loaders.size() > kMaxStagedSnapshots) {
      inbox_snap_loaders.erase(inbox_snap_loaders.begin());
    }
  }
  return node->Receive(std::move(message));
}

void Node::ReportSnapshot(NodeId peer, bool ok) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return;
    impl_->inbox_snap_reports.emplace_back(peer, ok);
  }
  impl_->cv.notify_one();
}

std::shared_ptr<storage::Snapshot> Node::OutgoingSnapshot(std::uint64_t index) const {
  std::lock_guard lock(impl_->status_mu);
  auto it = impl_->outgoing_snaps.find(index);
  return it == impl_->outgoing_snaps.end() ? nullptr : it->second;
}

namespace {

// A view shared with the node (Impl::install_view).
class SharedView final : public storage::Snapshot {
 public:
  explicit SharedView(std::shared_ptr<storage::Snapshot> view) : view_(std::move(view)) {}
  Status Get(storage::Cf cf, std::string_view key, std::string* value) const override {
    return view_->Get(cf, key, value);
  }
  std::unique_ptr<storage::Iterator> NewIterator(
      storage::Cf cf, std::string_view lower,
      std::optional<std::string_view> upper) const override {
    return view_->NewIterator(cf, lower, upper);
  }

 private:
  std::shared_ptr<storage::Snapshot> view_;
};

}  // namespace

std::unique_ptr<storage::Snapshot> Node::GetSnapshot() const {
  {
    std::lock_guard lock(impl_->status_mu);
    if (impl_->install_view != nullptr) return std::make_unique<SharedView>(impl_->install_view);
  }
  return impl_->store->GetSnapshot();
}

std::int64_t Node::NowMs() const {
  return impl_->clock->NowMs();
}

NodeStatus Node::GetStatus() const {
  NodeStatus out;
  {
    std::lock_guard lock(impl_->status_mu);
    out = impl_->status;
  }
  // Set before the batch's write, so never behind what a reader sees.
  out.revision = std::max(out.revision, impl_->visible_revision.load());
  return out;
}

Status Node::NotLeader() const {
  return Status::Unavailable("not leader (leader is " + std::to_string(GetStatus().leader) + ")");
}

void Node::KeepAlive(std::int64_t lease_id, Callback<Result<std::int64_t>> done) {
  KeepAliveAfter(lease_id, /*caught_up=*/false, std::move(done));
}

void Node::LeaseTimeToLive(std::int64_t lease_id, Callback<Result<LeaseStatus>> done) {
  TimeToLiveAfter(lease_id, /*caught_up=*/false, std::move(done));
}

// A lease granted through another member may be committed, and acknowledged
// there, before this leader has applied it: the leader's apply can trail its
// commit index. Before a lease lookup on the leader answers "not found", it
// waits until it has applied everything committed so far (one read barrier,
// as etcd's waitAppliedIndex; only on the miss path, and only for an answer
// given at once: a NotFound after a wait is a revocation just applied).
void Node::KeepAliveAfter(std::int64_t lease_id, bool caught_up,
                          Callback<Result<std::int64_t>> done) {
  auto answer = [this, done](Result<std::int64_t> r) {
    if (!r.ok() && r.status().code() == Code::kFailedPrecondition) r = NotLeader();
    done(std::move(r));
  };
  std::optional<Result<std::int64_t>> now = impl_->lessor.KeepAliveOrWait(lease_id, answer);
  if (!now.has_value()) return;  // the Lessor answers once the wait is over
  if (!caught_up && !now->ok() && now->status().code() == Code::kNotFound) {
    ReadBarrier([this, lease_id, done, answer, miss = now->status()](Status s) {
      if (!s.ok()) return answer(miss);
      KeepAliveAfter(lease_id, /*caught_up=*/true, done);
    });
    return;
  }
  answer(std::move(*now));
}

void Node::TimeToLiveAfter(std::int64_t lease_id, bool caught_up,
                           Callback<Result<LeaseStatus>> done) {
  auto answer = [this, lease_id, done](Result<Lessor::Remaining> r) {
    if (!r.ok()) {
      done(r.status().code() == Code::kFailedPrecondition ? NotLeader() : r.status());
      return;
    }
    LeaseStatus out;
    out.id = lease_id;
    out.granted_ttl_s = r->granted_ttl_s;
    out.remaining_ttl_s = r->remaining_ttl_s;
    done(out);
  };
  std::optional<Result<Lessor::Remaining>> now = impl_->lessor.TimeToLiveOrWait(lease_id, answer);
  if (!now.has_value()) return;
  if (!caught_up && !now->ok() && now->status().code() == Code::kNotFound) {
    ReadBarrier([this, lease_id, done, answer, miss = now->status()](Status s) {
      if (!s.ok()) return answer(miss);
      TimeToLiveAfter(lease_id, /*caught_up=*/true, done);
    });
    return;
  }
  answer(std::move(*now));
}

namespace {

// Blocks until an asynchronous lease call answers (bounded: the Ready loop
// answers every waiting call within lease_wait_timeout_ms, a read barrier
// within request_timeout_ms).
template <typename T, typename Start>
Result<T> WaitFor(std::int64_t bound_ms, Start start) {
  auto answered = std::make_shared<std::promise<Result<T>>>();
  std::future<Result<T>> f = answered->get_future();
  start([answered](Result<T> r) { answered->set_value(std::move(r)); });
  if (f.wait_for(std::chrono::milliseconds(bound_ms)) != std::future_status::ready) {
    return Status::Unavailable("request timed out: no answer within " + std::to_string(bound_ms) +
                               " ms (lease_wait_timeout_ms + request_timeout_ms + 1 s)");
  }
  return f.get();
}

}  // namespace

Result<std::int64_t> Node::KeepAlive(std::int64_t lease_id) {
  const std::int64_t bound = LeaseWaitMs(impl_->opts) + impl_->opts.request_timeout_ms + 1000;
  return WaitFor<std::int64_t>(
      bound, [&](Callback<Result<std::int64_t>> done) { KeepAlive(lease_id, std::move(done)); });
}

Result<LeaseStatus> Node::LeaseTimeToLive(std::int64_t lease_id) {
  const std::int64_t bound = LeaseWaitMs(impl_->opts) + impl_->opts.request_timeout_ms + 1000;
  return WaitFor<LeaseStatus>(bound, [&](Callback<Result<LeaseStatus>> done) {
    LeaseTimeToLive(lease_id, std::move(done));
  });
}

}  // namespace aspen::node
