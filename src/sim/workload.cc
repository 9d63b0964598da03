#include "sim/workload.h"

#include <algorithm>
#include <utility>

namespace aspen::sim {

void Client::NextLeaseOperation(int slot, Operation* op) {
  std::vector<std::int64_t>& known = leases_->slots.at(static_cast<std::size_t>(slot));
  static constexpr const char* kSlotKeys[] = {"a", "b", "c"};
  op->key = LeaseSlotPrefix(slot) + kSlotKeys[rng_->Uniform(3)];
  // A known lease: one of the two latest mostly, any of them sometimes.
  auto pick_lease = [&]() -> std::int64_t {
    if (known.empty()) return 0;
    if (rng_->Chance(0.25)) return known[rng_->Uniform(known.size())];
    return known[known.size() - 1 - rng_->Uniform(std::min<std::size_t>(2, known.size()))];
  };
  const std::uint64_t pick = rng_->Uniform(100);
  if (pick < 15 || known.empty()) {
    op->kind = OpKind::kLeaseGrant;
    op->key = LeaseSlotPrefix(slot);
    op->lease = MakeLeaseId(slot, index_, ++leases_granted_);
    op->ttl_s = rng_->Range(1, 2);
    known.push_back(op->lease);
  } else if (pick < 43) {
    op->kind = OpKind::kPut;
    op->lease = pick_lease();
  } else if (pick < 47) {
    op->kind = OpKind::kPut;
  } else if (pick < 55) {
    op->kind = OpKind::kDelete;
  } else if (pick < 73) {
    op->kind = OpKind::kRange;
    op->key = LeaseSlotPrefix(slot);
  } else if (pick < 93) {
    op->kind = OpKind::kKeepAlive;
    op->key = LeaseSlotPrefix(slot);
    op->lease = pick_lease();
  } else {
    op->kind = OpKind::kLeaseRevoke;
    op->key = LeaseSlotPrefix(slot);
    op->lease = pick_lease();
  }
}

Operation Client::NextOperation(std::int64_t now_ms) {
  Operation op;
  op.client = index_;
  op.invoke_ms = now_ms;
  op.key = "k" + std::to_string(rng_->Uniform(static_cast<std::uint64_t>(options_.keys)));
  op.value = "c" + std::to_string(index_) + "." + std::to_string(++counter_);
  if (options_.lease_slots > 0 && rng_->Chance(options_.lease_share)) {
    NextLeaseOperation(
        static_cast<int>(rng_->Uniform(static_cast<std::uint64_t>(options_.lease_slots))), &op);
    return op;
  }
  const std::uint64_t pick = rng_->Uniform(100);
  if (pick < 30) {
    op.kind = OpKind::kGet;
  } else if (pick < 60) {
    op.kind = OpKind::kPut;
  } else if (pick < 75) {
    op.kind = OpKind::kDelete;
  } else {
    op.kind = OpKind::kCas;
    auto it = seen_.find(op.key);
    op.expected = it != seen_.end() && rng_->Chance(0.8) ? it->second : "none";
  }
  return op;
}

void Client::SendCurrent(std::int64_t now_ms, const std::vector<std::uint64_t>& nodes,
                         std::vector<Packet>* out) {
  std::uint64_t target = leader_hint_;
  bool known = false;
  for (std::uint64_t n : nodes) known = known || n == target;
  if (!known || rng_->Chance(0.1)) target = nodes[rng_->Uniform(nodes.size())];
  Packet p;
  p.from = endpoint();
  p.to = target;
  p.kind = Packet::Kind::kRequest;
  p.request.request_id = request_id_;
  p.request.op = *current_;
  out->push_back(std::move(p));
  trace_->Line(now_ms, "client " + std::to_string(index_) + " sends request " +
                           std::to_string(request_id_) + " to node " + std::to_string(target));
  resend_ = false;
}

void Client::Tick(std::int64_t now_ms, bool issue, const std::vector<std::uint64_t>& nodes,
                  std::uint64_t* next_request_id, std::vector<Packet>* out, History* history) {
  if (current_) {
    if (now_ms >= deadline_ms_) {
      Finish(Outcome::kUnknown, now_ms, history);
    } else if (resend_ && now_ms >= resend_at_ms_) {
      request_id_ = (*next_request_id)++;
      SendCurrent(now_ms, nodes, out);
    }
    return;
  }
  if (!issue || now_ms < next_issue_ms_ || nodes.empty()) return;
  current_ = NextOperation(now_ms);
  request_id_ = (*next_request_id)++;
  deadline_ms_ = now_ms + options_.client_timeout_ms;
  trace_->Line(now_ms, "invoke " + DescribeOperation(*current_));
  SendCurrent(now_ms, nodes, out);
}

void Client::OnReply(const ClientReply& reply, std::int64_t now_ms, History* history) {
  if (!current_ || reply.request_id != request_id_) return;  // an old or duplicated reply
  switch (reply.status) {
    case ReplyStatus::kRefused:
      leader_hint_ = reply.leader_hint;
      resend_ = true;
      resend_at_ms_ = now_ms + rng_->Range(1, 10);
      return;
    case ReplyStatus::kUnknown: Finish(Outcome::kUnknown, now_ms, history); return;
    case ReplyStatus::kOk:
      current_->read = reply.read;
      current_->flag = reply.flag;
      current_->range = reply.range;
      leader_hint_ = reply.leader_hint != 0 ? reply.leader_hint : leader_hint_;
      Finish(Outcome::kOk, now_ms, history);
      return;
  }
}

void Client::Finish(Outcome outcome, std::int64_t now_ms, History* history) {
  Operation op = std::move(*current_);
  current_.reset();
  op.outcome = outcome;
  op.return_ms = now_ms;
  if (outcome == Outcome::kOk) {
    if (op.kind == OpKind::kGet && op.read.present) seen_[op.key] = op.read.value;
    if (op.kind == OpKind::kPut || (op.kind == OpKind::kCas && op.flag)) seen_[op.key] = op.value;
  } else if (op.kind != OpKind::kGet) {
    seen_[op.key] = op.value;  // it may have been written
  }
  trace_->Line(now_ms, "return " + DescribeOperation(op));
  // Unknown gets constrain nothing (linearizability.h); every other op is kept.
  history->push_back(std::move(op));
  next_issue_ms_ = now_ms + rng_->Range(0, options_.think_ms_max);
}

}  // namespace aspen::sim
