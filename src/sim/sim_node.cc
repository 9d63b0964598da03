#include "sim/sim_node.h"

#include <utility>

#include "aspen/sm/v1/command.pb.h"
#include "sim/commands.h"
#include "sm/reads.h"

namespace aspen::sim {
namespace {

Status FromRaft(const raft::Error& e) {
  return e.ok() ? Status::Ok() : Status::Internal("raft: " + e.ToString());
}

}  // namespace

SimNode::SimNode(raft::NodeId id, const SimOptions& options, SafetyChecker* checker, Trace* trace,
                 std::map<std::string, std::int64_t>* applied_values)
    : id_(id),
      options_(options),
      checker_(checker),
      trace_(trace),
      applied_values_(applied_values) {}

void SimNode::RecordAppliedValue(std::string_view data, const sm::v1::Response& response) {
  std::optional<std::string> value = WrittenValue(data, response);
  if (value) applied_values_->emplace(std::move(*value), now_ms_);
}

Status SimNode::Bootstrap(const std::vector<raft::NodeId>& voters) {
  // As etcd bootstraps a new cluster: the initial configuration is a
  // committed prefix of the log (one add-node entry per voter, term 1), so a
  // node added later learns it by replaying the log like any other entry.
  auto log = storage::LogStore::Open(&store_);
  if (!log.ok()) return log.status();
  node::RaftStorage rs(log->get());
  raft::Ready rd;
  for (std::size_t i = 0; i < voters.size(); ++i) {
    raft::pb::ConfChange cc;
    cc.set_type(raft::pb::CONF_CHANGE_ADD_NODE);
    cc.set_node_id(voters[i]);
    raft::pb::Entry& e = rd.entries.emplace_back();
    e.set_term(1);
    e.set_index(i + 1);
    e.set_type(raft::pb::ENTRY_CONF_CHANGE);
    e.set_data(cc.SerializeAsString());
  }
  raft::pb::HardState hs;
  hs.set_term(1);
  hs.set_commit(voters.size());
  rd.hard_state = hs;
  storage::WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(rs.PersistReady(rd, &batch));
  return store_.Write(batch, /*sync=*/true);
}

Status SimNode::Start(std::uint64_t rand_seed) {
  ASPEN_ASSERT(!up());
  auto log = storage::LogStore::Open(&store_);
  if (!log.ok()) return log.status();
  log_ = std::move(log).value();
  raft_storage_ = std::make_unique<node::RaftStorage>(log_.get());
  sim_storage_ = std::make_unique<SimStorage>(raft_storage_.get(), log_.get(), &store_);
  auto sm = sm::StateMachine::Open(&store_);
  if (!sm.ok()) return sm.status();
  sm_ = std::move(sm).value();
  auto initial = raft_storage_->InitialState();
  if (!initial.ok()) return FromRaft(initial.error());
  voters_.assign(initial->conf_state.voters().begin(), initial->conf_state.voters().end());

  raft::Config c;
  c.id = id_;
  c.election_tick = options_.election_tick;
  c.heartbeat_tick = 1;
  c.storage = sim_storage_.get();
  c.applied = sm_->applied_index();
  c.check_quorum = options_.check_quorum;
  c.pre_vote = options_.pre_vote;
  c.disable_proposal_forwarding = true;
  c.max_size_per_msg = options_.max_size_per_msg;
  c.max_inflight_msgs = 64;
  c.rand_seed = rand_seed;
  if (options_.bug == SimBug::kRaftVoteWithoutLogCheck) {
    c.testing_bug = raft::TestingBug::kVoteWithoutLogCheck;
  }
  auto raw = raft::RawNode::Create(c);
  if (!raw.ok()) return FromRaft(raw.error());
  raw_ = std::move(raw).value();
  checker_->OnRestart(id_);
  return Status::Ok();
}

void SimNode::Crash() {
  raw_.reset();
  sm_.reset();
  sim_storage_.reset();
  raft_storage_.reset();
  log_.reset();
  pending_writes_.clear();
  pending_reads_.clear();
  ready_reads_.clear();
  store_.Crash();
  checker_->OnRestart(id_);
}

void SimNode::Step(const raft::pb::Message& m) {
  const raft::Error e = raw_->Step(m);
  (void)e;  // a stale or foreign message; a real node logs and drops it
}

bool SimNode::ProposeConfChange(const raft::pb::ConfChange& cc) {
  return raw_->ProposeConfChange(cc).ok();
}

Packet SimNode::Reply(Endpoint to, const ClientReply& r) const {
  Packet p;
  p.from = id_;
  p.to = to;
  p.kind = Packet::Kind::kReply;
  p.reply = r;
  if (p.reply.leader_hint == raft::kNone && up()) p.reply.leader_hint = raft().lead();
  return p;
}

void SimNode::HandleRequest(const ClientRequest& req, Endpoint from, std::int64_t now_ms,
                            std::vector<Packet>* out) {
  ClientReply refused;
  refused.request_id = req.request_id;
  refused.status = ReplyStatus::kRefused;
  refused.leader_hint = raft().lead();
  // The raw runtime has no lessor: its seeds draw no lease slots.
  ASPEN_ASSERT(req.op.kind != OpKind::kKeepAlive);
  if (!is_leader()) {
    out->push_back(Reply(from, refused));
    return;
  }
  if (req.op.kind == OpKind::kGet || req.op.kind == OpKind::kRange) {
    const std::string ctx = "r" + std::to_string(req.request_id);
    if (!raw_->ReadIndex(ctx).ok()) {
      out->push_back(Reply(from, refused));
      return;
    }
    pending_reads_[ctx] = PendingRead{from, req};
    return;
  }
  if (!raw_->Propose(EncodeWrite(req.op, kEpochMs + now_ms)).ok()) {
    out->push_back(Reply(from, refused));
    return;
  }
  // The leader appended the proposal at its last index, in its term.
  const std::uint64_t index = raft().log().LastIndex();
  pending_writes_[index] = PendingWrite{raft().term(), from, req};
}

void SimNode::FailPending(std::vector<Packet>* out) {
  for (auto& [index, w] : pending_writes_) {
    ClientReply r;
    r.request_id = w.request.request_id;
    r.status = ReplyStatus::kUnknown;
    out->push_back(Reply(w.client, r));
  }
  pending_writes_.clear();
  for (auto& [ctx, rd] : pending_reads_) {
    ClientReply r;
    r.request_id = rd.request.request_id;
    out->push_back(Reply(rd.client, r));
  }
  pending_reads_.clear();
  for (auto& [index, rd] : ready_reads_) {
    ClientReply r;
    r.request_id = rd.request.request_id;
    out->push_back(Reply(rd.client, r));
  }
  ready_reads_.clear();
}

Status SimNode::InstallSnapshot(const raft::Ready& rd) {
  checker_->OnPersist(id_, raft(), rd.entries);
  auto chain = BlobChainHash(rd.snapshot->data());
  if (!chain.ok())
    return Status::Internal("node " + std::to_string(id_) + ": " + chain.status().ToString());
  storage::WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(raft_storage_->PersistReady(rd, &batch, *chain));
  auto current = store_.GetSnapshot();
  ASPEN_RETURN_IF_ERROR(RestoreToBatch(*current, rd.snapshot->data(), &batch));
  current.reset();
  Status st = store_.Write(batch, options_.bug != SimBug::kSkipSync);
  if (!st.ok())
    return Status::IOError("node " + std::to_string(id_) +
                           " snapshot write failed: " + st.ToString());
  auto sm = sm::StateMachine::Open(&store_);
  if (!sm.ok())
    return Status::Internal("node " + std::to_string(id_) + ": " + sm.status().ToString());
  sm_ = std::move(sm).value();
  const raft::pb::ConfState& cs = rd.snapshot->metadata().conf_state();
  voters_.assign(cs.voters().begin(), cs.voters().end());
  if (sm_->applied_index() != rd.snapshot->metadata().index()) {
    return Status::Internal("node " + std::to_string(id_) + " restored a snapshot of index " +
                            std::to_string(rd.snapshot->metadata().index()) +
                            " but its state is at " + std::to_string(sm_->applied_index()));
  }
  trace_->Line(now_ms_, "node " + std::to_string(id_) + " installed a snapshot at index " +
                            std::to_string(rd.snapshot->metadata().index()));
  return Status::Ok();
}

Result<bool> SimNode::Compact(std::uint64_t keep) {
  const std::uint64_t applied = sm_->applied_index();
  if (applied < log_->FirstIndex() + keep) return false;
  // The log keeps `keep` applied entries for followers slightly behind;
  // followers further behind get a snapshot (SimStorage::Snapshot).
  storage::WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(log_->CompactTo(&batch, applied - keep));
  Status st = store_.Write(batch, /*sync=*/true);
  // A failed write leaves the LogStore's cache ahead of the store; the caller
  // crashes the node, which drops that cache.
  if (!st.ok())
    return Status::IOError("node " + std::to_string(id_) +
                           " compaction write failed: " + st.ToString());
  return true;
}

void SimNode::ReportSnapshot(raft::NodeId to, bool failed) {
  if (!is_leader() || raft().tracker().progress().count(to) == 0) return;
  raw_->ReportSnapshot(to, failed);
}

Status SimNode::Persist(const raft::Ready& rd) {
  if (rd.snapshot) return InstallSnapshot(rd);
  checker_->OnPersist(id_, raft(), rd.entries);
  storage::WriteBatch batch;
  ASPEN_RETURN_IF_ERROR(raft_storage_->PersistReady(rd, &batch));
  const bool sync = rd.must_sync && options_.bug != SimBug::kSkipSync;
  if (trace_->enabled() && (!rd.entries.empty() || rd.hard_state)) {
    std::string what = "node " + std::to_string(id_) + " persists";
    if (!rd.entries.empty()) {
      what += " entries " + std::to_string(rd.entries.front().index()) + ".." +
              std::to_string(rd.entries.back().index()) + " (terms " +
              std::to_string(rd.entries.front().term()) + ".." +
              std::to_string(rd.entries.back().term()) + ")";
    }
    if (rd.hard_state) {
      what += " hard state term=" + std::to_string(rd.hard_state->term()) +
              " vote=" + std::to_string(rd.hard_state->vote()) +
              " commit=" + std::to_string(rd.hard_state->commit());
    }
    trace_->Line(now_ms_, what + (sync ? " synced" : " unsynced"));
  }
  Status st = store_.Write(batch, sync);
  if (!st.ok())
    return Status::IOError("node " + std::to_string(id_) + " log write failed: " + st.ToString());
  return Status::Ok();
}

Status SimNode::Process(std::int64_t now_ms, std::vector<Packet>* out) {
  while (up() && raw_->HasReady()) {
    raft::Ready rd = raw_->GetReady();
    if (rd.soft_state) {
      if (rd.soft_state->role != raft::Role::kLeader) FailPending(out);
      if (rd.soft_state->role == raft::Role::kLeader) {
        trace_->Line(now_ms, "node " + std::to_string(id_) + " became leader of term " +
                                 std::to_string(raft().term()));
      }
    }
    now_ms_ = now_ms;
    ASPEN_RETURN_IF_ERROR(Persist(rd));
    for (raft::pb::Message& m : rd.messages) {
      Packet p;
      p.from = id_;
      p.to = m.to();
      p.kind = Packet::Kind::kRaft;
      p.raft = std::move(m);
      out->push_back(std::move(p));
    }
    ASPEN_RETURN_IF_ERROR(Apply(rd.committed_entries, out));
    for (const raft::ReadState& rs : rd.read_states) {
      auto it = pending_reads_.find(rs.request_ctx);
      if (it == pending_reads_.end()) continue;
      ready_reads_.emplace(rs.index, std::move(it->second));
      pending_reads_.erase(it);
    }
    ASPEN_RETURN_IF_ERROR(ServeReads(now_ms, out));
    raw_->Advance();
  }
  return Status::Ok();
}

Status SimNode::Apply(const raft::EntryVec& entries, std::vector<Packet>* out) {
  if (entries.empty()) return Status::Ok();
  std::vector<sm::Entry> sm_entries;
  sm_entries.reserve(entries.size());
  std::optional<raft::pb::ConfState> conf;
  for (const raft::pb::Entry& e : entries) {
    checker_->OnApply(id_, e);
    if (e.type() == raft::pb::ENTRY_CONF_CHANGE) {
      raft::pb::ConfChange cc;
      if (!cc.ParseFromString(e.data())) {
        return Status::Internal("node " + std::to_string(id_) + ": undecodable conf change at " +
                                std::to_string(e.index()));
      }
      auto cs = raw_->ApplyConfChange(cc);
      if (cs.ok()) conf = *cs;
      sm_entries.push_back(sm::Entry{e.index(), {}});
    } else {
      sm_entries.push_back(sm::Entry{e.index(), e.data()});
    }
  }
  auto applied = sm_->Apply(sm_entries);
  if (!applied.ok()) return applied.status();
  if (conf) {
    raft_storage_->SetConfState(&applied->batch, *conf);
    voters_.assign(conf->voters().begin(), conf->voters().end());
  }
  Status st = store_.Write(applied->batch, /*sync=*/false);
  if (!st.ok())
    return Status::IOError("node " + std::to_string(id_) + " apply write failed: " + st.ToString());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].type() == raft::pb::ENTRY_NORMAL) {
      RecordAppliedValue(entries[i].data(), applied->responses[i]);
    }
    auto it = pending_writes_.find(entries[i].index());
    if (it == pending_writes_.end()) continue;
    PendingWrite w = std::move(it->second);
    pending_writes_.erase(it);
    ClientReply r;
    r.request_id = w.request.request_id;
    if (w.term != entries[i].term()) {
      r.status = ReplyStatus::kUnknown;  // another leader's entry took the slot
    } else {
      r.status = ReplyStatus::kOk;
      ASPEN_RETURN_IF_ERROR(DecodeWriteResponse(w.request.op, applied->responses[i], &r));
    }
    out->push_back(Reply(w.client, r));
  }
  return Status::Ok();
}

Status SimNode::ServeReads(std::int64_t now_ms, std::vector<Packet>* out) {
  while (!ready_reads_.empty() && ready_reads_.begin()->first <= sm_->applied_index()) {
    PendingRead rd = std::move(ready_reads_.begin()->second);
    ready_reads_.erase(ready_reads_.begin());
    auto snap = store_.GetSnapshot();
    auto resp = sm::Range(*snap, GetRequest(rd.request.op), kEpochMs + now_ms);
    if (!resp.ok()) return resp.status();
    ClientReply r;
    r.request_id = rd.request.request_id;
    r.status = ReplyStatus::kOk;
    ASPEN_RETURN_IF_ERROR(DecodeGetResponse(rd.request.op, *resp, &r));
    out->push_back(Reply(rd.client, r));
  }
  return Status::Ok();
}

}  // namespace aspen::sim
