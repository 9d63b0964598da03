// The completion-queue event loop of `aspen bench` (see runner.h for the design).
#include <algorithm>

#include "client/bench/slot.h"
#include "client/client.h"
#include "client/grpc_status.h"

namespace aspen::client::bench {

namespace {

// txn-cas keeps at most this many remembered revisions per client.
constexpr std::size_t kMaxCasCacheEntries = 1 << 16;

}  // namespace

PhaseShared::PhaseShared(const BenchConfig& c, bool sequential)
    : config(c), sequential_keys(sequential), value(MakeValue(c.value_size, c.seed)) {}

void PhaseShared::Begin() {
  start = Clock::now();
  end = start + std::chrono::duration_cast<Clock::duration>(
                    std::chrono::duration<double>(config.duration_s));
}

void Worker::Run() {
  // With no slot nothing would ever shut the queue down.
  ASPEN_ASSERT(!slots_.empty());
  active_ = slots_.size();
  last_completion_ = shared_.start;
  for (Slot* slot : slots_) Schedule(*slot);
  void* raw_tag = nullptr;
  bool ok = false;
  while (cq_.Next(&raw_tag, &ok)) {
    Tag* tag = static_cast<Tag*>(raw_tag);
    if (tag->is_alarm) {
      ASPEN_ASSERT(ok);  // alarms are never cancelled while the slot waits
      StartOp(*tag->slot);
    } else {
      OnRpcDone(*tag->slot);
    }
  }
  shared_.finished_workers.fetch_add(1);
}

void Worker::Retire() {
  ASPEN_ASSERT(active_ > 0);
  if (--active_ == 0) cq_.Shutdown();
}

// Decides whether slot runs another op, and when; starts it or sets a timer.
void Worker::Schedule(Slot& slot) {
  const BenchConfig& config = shared_.config;
  const auto now = PhaseShared::Clock::now();
  auto when = now;
  if (config.rate > 0) {
    const double index = static_cast<double>(slot.started) * config.clients + slot.index;
    when = shared_.start + std::chrono::duration_cast<PhaseShared::Clock::duration>(
                               std::chrono::duration<double>(index / config.rate));
  }
  if (config.total == 0) {
    if (when >= shared_.end || now >= shared_.end) return Retire();
  } else {
    slot.ticket = shared_.tickets.fetch_add(1);
    if (slot.ticket >= config.total) return Retire();
  }
  ++slot.started;
  slot.op_start = when;
  if (when <= now) return StartOp(slot);
  slot.alarm = std::make_unique<grpc::Alarm>();
  slot.alarm->Set(&cq_, std::chrono::system_clock::now() + (when - now), &slot.alarm_tag);
}

void Worker::NewContext(Slot& slot) {
  slot.ctx = std::make_unique<grpc::ClientContext>();
  slot.ctx->set_deadline(std::chrono::system_clock::now() + shared_.config.request_timeout);
}

void Worker::StartOp(Slot& slot) {
  const BenchConfig& config = shared_.config;
  slot.key_index = shared_.sequential_keys ? slot.ticket : slot.rng.Below(config.keys);
  switch (config.workload) {
    case Workload::kPut: return SendPut(slot, MakeKey(slot.key_index, config.key_size), 0);
    case Workload::kGet: return SendRange(slot, MakeKey(slot.key_index, config.key_size), "");
    case Workload::kRange: {
      const std::string prefix =
          MakeRangePrefix(slot.rng.Below(RangeGroups(config.keys)), config.key_size);
      return SendRange(slot, prefix, PrefixEnd(prefix));
    }
    case Workload::kMixed:
      if (slot.rng.Unit() < config.read_ratio) {
        return SendRange(slot, MakeKey(slot.key_index, config.key_size), "");
      }
      return SendPut(slot, MakeKey(slot.key_index, config.key_size), 0);
    case Workload::kTxnCas: return SendTxnCas(slot, MakeKey(slot.key_index, config.key_size));
    case Workload::kLeasePut: return SendGrant(slot);
  }
}

void Worker::SendPut(Slot& slot, const std::string& key, std::int64_t lease) {
  NewContext(slot);
  slot.step = Step::kPut;
  slot.put_req.set_key(key);
  slot.put_req.set_value(shared_.value);
  slot.put_req.set_lease(lease);
  slot.put_reader = slot.conn->kv->AsyncPut(slot.ctx.get(), slot.put_req, &cq_);
  slot.put_reader->Finish(&slot.put_resp, &slot.status, &slot.rpc_tag);
}

void Worker::SendRange(Slot& slot, const std::string& key, const std::string& range_end) {
  NewContext(slot);
  slot.step = Step::kRange;
  slot.range_req.set_key(key);
  slot.range_req.set_range_end(range_end);
  slot.range_req.set_serializable(shared_.config.serializable);
  slot.range_reader = slot.conn->kv->AsyncRange(slot.ctx.get(), slot.range_req, &cq_);
  slot.range_reader->Finish(&slot.range_resp, &slot.status, &slot.rpc_tag);
}

// if mod_revision(key) == last seen: put key; else: range key (to learn it).
void Worker::SendTxnCas(Slot& slot, const std::string& key) {
  NewContext(slot);
  slot.step = Step::kTxn;
  slot.txn_req.Clear();
  auto it = slot.cas_revision.find(slot.key_index);
  etcdserverpb::Compare* compare = slot.txn_req.add_compare();
  compare->set_result(etcdserverpb::Compare::EQUAL);
  compare->set_target(etcdserverpb::Compare::MOD);
  compare->set_key(key);
  compare->set_mod_revision(it == slot.cas_revision.end() ? 0 : it->second);
  etcdserverpb::PutRequest* put = slot.txn_req.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(shared_.value);
  slot.txn_req.add_failure()->mutable_request_range()->set_key(key);
  slot.txn_reader = slot.conn->kv->AsyncTxn(slot.ctx.get(), slot.txn_req, &cq_);
  slot.txn_reader->Finish(&slot.txn_resp, &slot.status, &slot.rpc_tag);
}

void Worker::SendGrant(Slot& slot) {
  NewContext(slot);
  slot.step = Step::kGrant;
  slot.grant_req.set_ttl(shared_.config.lease_ttl_s);
  slot.grant_reader = slot.conn->lease->AsyncLeaseGrant(slot.ctx.get(), slot.grant_req, &cq_);
  slot.grant_reader->Finish(&slot.grant_resp, &slot.status, &slot.rpc_tag);
}

void Worker::OnRpcDone(Slot& slot) {
  switch (slot.step) {
    case Step::kPut:
    case Step::kRange: return Complete(slot, slot.status);
    case Step::kTxn:
      if (slot.status.ok()) OnTxnDone(slot);
      return Complete(slot, slot.status);
    case Step::kGrant:
      if (!slot.status.ok()) return Complete(slot, slot.status);
      return SendPut(slot, MakeKey(slot.key_index, shared_.config.key_size), slot.grant_resp.id());
  }
}

void Worker::OnTxnDone(Slot& slot) {
  if (slot.cas_revision.size() >= kMaxCasCacheEntries) slot.cas_revision.clear();
  if (slot.txn_resp.succeeded()) {
    ++txn_succeeded_;
    slot.cas_revision[slot.key_index] = slot.txn_resp.header().revision();
    return;
  }
  ++txn_failed_;
  std::int64_t revision = 0;
  if (slot.txn_resp.responses_size() == 1 &&
      slot.txn_resp.responses(0).response_range().kvs_size() == 1) {
    revision = slot.txn_resp.responses(0).response_range().kvs(0).mod_revision();
  }
  slot.cas_revision[slot.key_index] = revision;
}

void Worker::Complete(Slot& slot, const grpc::Status& status) {
  const auto now = PhaseShared::Clock::now();
  last_completion_ = std::max(last_completion_, now);
  if (status.ok()) {
    const auto latency = std::chrono::duration_cast<std::chrono::nanoseconds>(now - slot.op_start);
    latency_ns_.Record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, latency.count())));
    ++ops_;
    shared_.done_ops.fetch_add(1, std::memory_order_relaxed);
  } else {
    ++errors_;
    const std::string code(GrpcCodeName(status.error_code()));
    ++errors_by_code_[code];
    first_error_.emplace(code, status.error_message());
    shared_.done_errors.fetch_add(1, std::memory_order_relaxed);
  }
  Schedule(slot);
}

void Worker::MergeInto(BenchResult* result) const {
  result->latency_ns.Merge(latency_ns_);
  result->ops += ops_;
  result->errors += errors_;
  result->txn_succeeded += txn_succeeded_;
  result->txn_failed += txn_failed_;
  for (const auto& [code, n] : errors_by_code_) result->errors_by_code[code] += n;
  for (const auto& [code, message] : first_error_) result->first_error.emplace(code, message);
}

}  // namespace aspen::client::bench
