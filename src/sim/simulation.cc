#include "sim/simulation.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "sim/linearizability.h"
#include "sim/sim_node.h"
#include "sm/reads.h"

namespace aspen::sim {
namespace {

// How long the liveness phase lets replicas settle after the clients stop.
constexpr std::int64_t kSettleQuietMs = 50;
// A healthy cluster keeps a few hundred packets in flight; a cluster past this
// bound is in a message storm (each message answered by more than one), which
// fails the seed rather than exhausting memory.
constexpr std::size_t kMaxInFlight = 5'000;
// How often every running replica's lease state is audited (lease_check.h).
constexpr std::int64_t kLeaseAuditMs = 25;

}  // namespace

Simulation::Simulation(const SimOptions& base)
    : rng_(base.seed), options_(DrawSwarm(base, rng_)), trace_(base.trace), net_(options_, &rng_) {
  result_.options = options_;
  std::vector<raft::NodeId> voters;
  for (int i = 1; i <= options_.nodes; ++i) voters.push_back(static_cast<raft::NodeId>(i));
  next_node_id_ = voters.size() + 1;
  for (raft::NodeId id : voters) {
    auto node = NewReplica(id);
    const Status st = node->Bootstrap(voters);
    ASPEN_ASSERT_MSG(st.ok(), st.ToString().c_str());
    nodes_.emplace(id, std::move(node));
    tick_offset_[id] = rng_.Range(0, options_.tick_ms - 1);
  }
  for (raft::NodeId id : voters) {
    const Status st = nodes_[id]->Start(rng_.Next());
    ASPEN_ASSERT_MSG(st.ok(), st.ToString().c_str());
  }
  lease_book_.slots.resize(static_cast<std::size_t>(options_.lease_slots));
  for (int c = 0; c < options_.clients; ++c) {
    clients_.emplace_back(c, options_, &rng_, &trace_, &lease_book_);
  }
}

std::unique_ptr<Replica> Simulation::NewReplica(raft::NodeId id) {
  if (options_.runtime == Runtime::kRaw) {
    return std::make_unique<SimNode>(id, options_, &checker_, &trace_, &applied_values_);
  }
  return std::make_unique<NodeReplica>(id, options_, &clock_, &checker_, &leases_, &trace_,
                                       &applied_values_);
}

void Simulation::Fail(const std::string& why) {
  if (!result_.ok) return;
  result_.ok = false;
  result_.failure = why;
  trace_.Line(now_, "FAILURE: " + why);
}

Replica* Simulation::Leader() {
  Replica* best = nullptr;
  for (auto& [id, n] : nodes_) {
    if (!n->is_leader()) continue;
    if (best == nullptr || n->raft().term() > best->raft().term()) best = n.get();
  }
  return best;
}

std::vector<std::uint64_t> Simulation::RunningIds() const {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, n] : nodes_) {
    if (n->up()) ids.push_back(id);
  }
  return ids;
}

std::vector<std::uint64_t> Simulation::RequestTargets() const {
  std::vector<std::uint64_t> ids;
  for (const auto& [id, n] : nodes_) {
    if (decommissioned_.count(id) == 0) ids.push_back(id);
  }
  return ids;
}

void Simulation::CrashNode(std::uint64_t id, const std::string& why) {
  Replica& n = *nodes_.at(id);
  if (!n.up()) return;
  n.Crash();
  ++result_.stats.crashes;
  restart_at_[id] = now_ + rng_.Range(1, options_.down_ms_max);
  trace_.Line(now_, "node " + std::to_string(id) + " crashed (" + why + "), restart at " +
                        std::to_string(restart_at_[id]) + "ms");
}

void Simulation::RestartDue(bool all) {
  for (auto it = restart_at_.begin(); it != restart_at_.end();) {
    if (!all && it->second > now_) {
      ++it;
      continue;
    }
    const std::uint64_t id = it->first;
    it = restart_at_.erase(it);
    if (decommissioned_.count(id) != 0) continue;
    nodes_.at(id)->store().FailNextWrites(0, Status::Ok());
    const Status st = nodes_.at(id)->Start(rng_.Next());
    if (!st.ok()) {
      Fail("node " + std::to_string(id) + " failed to recover after a crash: " + st.ToString());
      return;
    }
    trace_.Line(now_, "node " + std::to_string(id) + " restarted at applied index " +
                          std::to_string(nodes_.at(id)->applied_index()));
  }
}

void Simulation::Deliver(bool faults) {
  for (Packet& p : net_.DeliverDue(now_)) {
    if (p.kind == Packet::Kind::kReply) {
      clients_.at(p.to - kClientBase).OnReply(p.reply, now_, &history_);
      continue;
    }
    auto it = nodes_.find(p.to);
    const bool snap = p.kind == Packet::Kind::kRaft && p.raft.type() == raft::pb::MSG_SNAP;
    if (snap) {
      trace_.Line(now_, "snapshot at index " +
                            std::to_string(p.raft.snapshot().metadata().index()) + " from node " +
                            std::to_string(p.from) + " arrives at node " + std::to_string(p.to));
    }
    auto from = nodes_.find(p.from);
    // A snapshot stream dies with its sender (node runtime: the state view
    // travels with the packet, so the sender must still be running).
    const bool sender_down =
        p.snap_state != nullptr && (from == nodes_.end() || !from->second->up() ||
                                    from->second->incarnation() != p.sender_incarnation);
    if (it == nodes_.end() || !it->second->up() || (snap && sender_down)) {
      if (snap) net_.RecordLoss(p);
      continue;
    }
    if (p.kind == Packet::Kind::kRaft) {
      if (snap) {
        if (faults && p.snap_state != nullptr && rng_.Chance(options_.fail_install_write)) {
          it->second->store().FailNextWrites(1, Status::IOError("injected failure of the "
                                                                "snapshot install write"));
          trace_.Line(now_, "node " + std::to_string(p.to) +
                                "'s next write (installing the snapshot) fails");
        }
        it->second->StepSnapshot(p.raft, p.snap_state);
      } else {
        it->second->Step(p.raft);
      }
      if (snap) ++result_.stats.snapshots;
      if (snap && from != nodes_.end() && from->second->up()) {
        from->second->ReportSnapshot(p.to, /*failed=*/false);
      }
    } else {
      std::vector<Packet> out;
      it->second->HandleRequest(p.request, p.from, now_, &out);
      for (Packet& o : out) net_.Send(std::move(o), now_);
    }
  }
}

void Simulation::ProcessNodes(bool faults) {
  for (const auto& [from, to] : net_.TakeLostSnapshots()) {
    auto it = nodes_.find(from);
    if (it != nodes_.end() && it->second->up()) it->second->ReportSnapshot(to, /*failed=*/true);
  }
  for (auto& [id, n] : nodes_) {
    if (!n->up()) continue;
    std::vector<Packet> out;
    const std::uint64_t installed = n->snapshot_counters().installed;
    const Status st = n->Process(now_, &out);
    for (Packet& o : out) net_.Send(std::move(o), now_);
    if (st.ok()) {
      if (faults && n->snapshot_counters().installed != installed &&
          rng_.Chance(options_.crash_after_install)) {
        CrashNode(id, "right after installing a snapshot");
      }
      continue;
    }
    if (st.code() == Code::kIOError) {
      CrashNode(id, st.message());
    } else {
      Fail("node " + std::to_string(id) + ": " + st.ToString());
      return;
    }
  }
}

bool Simulation::Step(bool faults, bool issue) {
  clock_.now_ms = now_;
  Deliver(faults);
  for (auto& [id, n] : nodes_) {
    if (n->up() && (now_ + tick_offset_[id]) % options_.tick_ms == 0) n->Tick();
  }
  RestartDue(false);
  if (faults) InjectFaults();
  std::vector<Packet> out;
  const std::vector<std::uint64_t> targets = RequestTargets();
  for (Client& c : clients_) c.Tick(now_, issue, targets, &next_request_id_, &out, &history_);
  for (Packet& p : out) net_.Send(std::move(p), now_);
  ProcessNodes(faults);
  Decommission();
  StartJoiners();
  for (auto& [id, n] : nodes_) {
    if (n->up()) checker_.OnStep(id, n->raft());
  }
  if (checker_.failed()) Fail(checker_.failure());
  TrackLeases();
  result_.stats.max_in_flight = std::max(result_.stats.max_in_flight, net_.in_flight());
  if (net_.in_flight() > kMaxInFlight) {
    Fail("message storm: " + std::to_string(net_.in_flight()) +
         " packets in flight, above the bound of " + std::to_string(kMaxInFlight) +
         "; in flight: " + net_.DescribeInFlight());
  }
  ++now_;
  return result_.ok;
}

void Simulation::TrackLeases() {
  if (options_.runtime != Runtime::kNode) return;
  for (auto& [id, n] : nodes_) {
    const std::uint64_t term = n->is_leader() ? n->raft().term() : 0;
    std::uint64_t& seen = leading_[id];
    if (term != 0 && term != seen) leases_.OnLeader(id, now_);
    seen = term;
  }
  for (; answered_ < history_.size(); ++answered_) leases_.OnAnswered(history_[answered_]);
  for (; expiries_traced_ < leases_.expiries().size(); ++expiries_traced_) {
    const Operation& e = leases_.expiries()[expiries_traced_];
    trace_.Line(now_, "lease " + std::to_string(e.lease) + " expired: revocation proposed at " +
                          std::to_string(e.invoke_ms) + "ms, applied by " +
                          std::to_string(e.applied_by_ms) + "ms");
  }
  if (now_ % kLeaseAuditMs == 0) {
    for (auto& [id, n] : nodes_) {
      if (n->up()) leases_.Audit(id, n->applied_index(), *n->store().GetSnapshot(), now_);
    }
  }
  if (leases_.failed()) Fail(leases_.failure());
}

bool Simulation::Converged(std::string* why) {
  Replica* leader = Leader();
  if (leader == nullptr) {
    *why = "no leader";
    return false;
  }
  const std::uint64_t commit = leader->raft().log().committed();
  std::optional<sm::KvHash> first;
  for (raft::NodeId id : leader->voters()) {
    if (nodes_.count(id) == 0) {
      *why = "node " + std::to_string(id) + " is not started yet";
      return false;
    }
    Replica& n = *nodes_.at(id);
    if (!n.up() || n.applied_index() != commit) {
      *why = "node " + std::to_string(id) + " applied " + std::to_string(n.applied_index()) +
             " of " + std::to_string(commit);
      return false;
    }
    auto snap = n.store().GetSnapshot();
    if (options_.runtime == Runtime::kNode) {
      leases_.Audit(id, commit, *snap, now_);
      if (leases_.failed()) {
        Fail(leases_.failure());
        return false;
      }
    }
    auto h = sm::HashKV(*snap);
    if (!h.ok()) {
      *why = "HashKV on node " + std::to_string(id) + ": " + h.status().ToString();
      return false;
    }
    if (first && (first->sha256 != h->sha256 || first->revision != h->revision)) {
      *why = "node " + std::to_string(id) + " has a different HashKV at applied index " +
             std::to_string(commit);
      Fail("replicas diverged: " + *why);
      return false;
    }
    first = *h;
  }
  return true;
}

bool Simulation::RunLiveness() {
  const std::int64_t healed = now_;
  const std::int64_t deadline = healed + options_.liveness_ms;
  net_.HealAll();
  net_.SetCalm();
  partition_until_ = -1;
  RestartDue(/*all=*/true);
  trace_.Line(now_, "liveness phase: network healed, all nodes up");
  auto write_done = [&] {
    for (const Operation& op : history_) {
      if (op.kind != OpKind::kGet && op.outcome == Outcome::kOk && op.invoke_ms >= healed) {
        return true;
      }
    }
    return false;
  };
  while (!write_done()) {
    if (now_ >= deadline) {
      Fail("liveness: no write invoked after healing (at " + std::to_string(healed) +
           "ms) completed within " + std::to_string(options_.liveness_ms) + "ms");
      return false;
    }
    if (!Step(false, true)) return false;
  }
  std::string why;
  std::int64_t quiet_since = -1;
  while (true) {
    if (now_ >= deadline) {
      Fail("liveness: replicas did not converge within " + std::to_string(options_.liveness_ms) +
           "ms of healing: " + why);
      return false;
    }
    if (!Step(false, false)) return false;
    const bool idle =
        std::all_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.idle(); });
    if (!idle) continue;
    if (quiet_since < 0) quiet_since = now_;
    if (now_ - quiet_since < kSettleQuietMs) continue;
    if (Converged(&why)) return true;
    if (!result_.ok) return false;
  }
}

History Simulation::ResolveUnknownWrites() const {
  History out;
  out.reserve(history_.size() + leases_.expiries().size());
  for (const Operation& op : history_) {
    if (op.outcome == Outcome::kUnknown && op.kind == OpKind::kLeaseGrant) {
      // Applied somewhere (by then), or never taken effect.
      const std::int64_t at = leases_.GrantAppliedAt(op.lease);
      if (at < 0) continue;
      Operation resolved = op;
      resolved.applied_by_ms = std::max(at, op.invoke_ms);
      out.push_back(std::move(resolved));
      continue;
    }
    const bool resolvable =
        op.outcome == Outcome::kUnknown && (op.kind == OpKind::kPut || op.kind == OpKind::kCas);
    if (!resolvable) {
      out.push_back(op);
      continue;
    }
    auto it = applied_values_.find(op.value);
    if (it == applied_values_.end()) continue;  // never applied: never took effect
    Operation resolved = op;
    resolved.applied_by_ms = it->second;
    out.push_back(std::move(resolved));
  }
  for (const Operation& op : leases_.expiries()) out.push_back(op);
  return out;
}

RunResult Simulation::Run() {
  trace_.Line(0, DescribeOptions(options_));
  while (now_ < options_.safety_ms) {
    if (!Step(true, true)) break;
  }
  if (result_.ok) RunLiveness();
  RunStats& s = result_.stats;
  s.leaders = checker_.leaders_seen();
  s.committed = checker_.max_committed();
  s.messages = net_.sent();
  s.end_ms = now_;
  for (const Operation& op : history_) {
    (op.outcome == Outcome::kOk ? s.ops_ok : s.ops_unknown)++;
  }
  const LeaseChecker::Counters& lc = leases_.counters();
  s.lease_grants = lc.grants;
  s.lease_revokes = lc.revokes;
  s.lease_expiries = lc.expiries;
  s.lease_keepalives = lc.keepalives;
  s.lease_keepalives_waited = lc.keepalives_waited;
  s.lease_refused_puts = lc.refused_puts;
  for (const auto& [id, n] : nodes_) {
    const Replica::SnapshotCounters c = n->snapshot_counters();
    s.snapshots_sent += c.sent;
    s.snapshots_installed += c.installed;
    s.snapshots_failed += c.failed;
    s.compactions += c.compactions;
  }
  if (!result_.ok) return result_;
  LinearizabilityOptions lo;
  lo.max_states_per_key = options_.lin_states;
  const LinearizabilityResult lin = CheckLinearizable(ResolveUnknownWrites(), lo);
  s.lin_states = lin.states;
  if (!lin.ok()) Fail(lin.message);
  return result_;
}

}  // namespace aspen::sim
