#include "sim/lease_check.h"

#include <algorithm>
#include <utility>

#include "node/request_tag.h"
#include "sim/commands.h"
#include "sim/replica.h"
#include "sm/reads.h"
#include "sm/record.h"

namespace aspen::sim {
namespace {

// The latest time in `times` (ascending) at or before `limit`; -1 if none.
std::int64_t LatestAtOrBefore(const std::vector<std::int64_t>& times, std::int64_t limit) {
  auto it = std::upper_bound(times.begin(), times.end(), limit);
  return it == times.begin() ? -1 : *std::prev(it);
}

void AppendSorted(std::vector<std::int64_t>* times, std::int64_t t) {
  // Times arrive in order, except that a phase-0 event may follow a phase-1
  // one of the previous node in the same millisecond; keep them sorted.
  times->insert(std::upper_bound(times->begin(), times->end(), t), t);
}

// How many audited applied indexes are remembered for check 4.
constexpr std::size_t kMaxAudited = 512;

}  // namespace

void LeaseChecker::Fail(const std::string& why) {
  if (failure_.empty()) failure_ = why;
}

void LeaseChecker::OnLeader(raft::NodeId node, std::int64_t now_ms) {
  views_[node].leader_since.push_back(now_ms);
}

void LeaseChecker::OnKeepAliveOk(raft::NodeId node, std::int64_t lease, std::int64_t ttl_s,
                                 std::int64_t phased_time) {
  ++counters_.keepalives;
  AppendSorted(&views_[node].kept_alive[lease], phased_time);
  auto it = leases_.find(lease);
  if (it != leases_.end() && it->second.ttl_s != ttl_s) {
    Fail("lease check violated: node " + std::to_string(node) + " renewed lease " +
         std::to_string(lease) + " with TTL " + std::to_string(ttl_s) + "s; it was granted with " +
         std::to_string(it->second.ttl_s) + "s");
  }
}

std::int64_t LeaseChecker::GrantAppliedAt(std::int64_t lease) const {
  auto it = leases_.find(lease);
  return it == leases_.end() ? -1 : it->second.granted_at;
}

void LeaseChecker::OnApply(raft::NodeId node, const raft::pb::Entry& entry,
                           const sm::v1::Response& response, std::int64_t now_ms) {
  sm::v1::Command cmd;
  if (entry.data().empty() || !cmd.ParseFromString(entry.data())) return;
  if (!cmd.has_lease_grant() && !cmd.has_lease_revoke()) return;
  const bool ok = !response.has_error() || response.error().code() == 0;
  const bool first = seen_indexes_.insert(entry.index()).second;
  if (cmd.has_lease_grant()) {
    if (!ok) return;
    const std::int64_t id = cmd.lease_grant().id();
    Lease& l = leases_[id];
    l.ttl_s = cmd.lease_grant().ttl();
    if (l.granted_at < 0) {
      l.granted_at = now_ms;
      ++counters_.grants;
    }
    AppendSorted(&views_[node].granted[id], now_ms);
    return;
  }
  const std::int64_t id = cmd.lease_revoke().id();
  if (!ok || !first) return;
  Lease& l = leases_[id];
  if (l.revoked_at < 0) l.revoked_at = now_ms;
  if (IsClientCommand(cmd)) {
    ++counters_.revokes;
    return;
  }
  // A revocation the leader proposed because the lease expired.
  ++counters_.expiries;
  const std::int64_t proposed_ms = cmd.now_ms() - kEpochMs;
  const std::optional<node::RequestTag> tag = node::FindRequestTag(entry.data());
  if (!tag) {
    Fail("lease check violated: the expiry of lease " + std::to_string(id) + " at index " +
         std::to_string(entry.index()) + " names no proposer");
    return;
  }
  CheckExpiry(tag->proposer, id, proposed_ms, now_ms);
  Operation op;
  op.client = -1;
  op.kind = OpKind::kLeaseExpire;
  op.key = LeaseSlotPrefix(LeaseSlotOf(id));
  op.lease = id;
  op.invoke_ms = std::min(proposed_ms, now_ms);
  op.applied_by_ms = now_ms;
  op.outcome = Outcome::kUnknown;
  expiries_.push_back(std::move(op));
}

void LeaseChecker::CheckExpiry(raft::NodeId proposer, std::int64_t lease, std::int64_t proposed_ms,
                               std::int64_t applied_ms) {
  const Lease& l = leases_[lease];
  const std::int64_t ttl_ms = l.ttl_s * 1000;
  NodeView& v = views_[proposer];
  const std::string who = "node " + std::to_string(proposer);
  // What the proposer saw before its tick at proposed_ms.
  const std::int64_t since = LatestAtOrBefore(v.leader_since, proposed_ms);
  const std::int64_t granted = LatestAtOrBefore(v.granted[lease], proposed_ms);
  const std::int64_t kept = LatestAtOrBefore(v.kept_alive[lease], Phased(proposed_ms, false));
  struct Seen {
    std::int64_t at;
    const char* what;
  };
  for (const Seen& s : {Seen{since, "became leader"}, Seen{granted, "applied its grant"},
                        Seen{kept < 0 ? -1 : kept / 2, "acknowledged a keep-alive"}}) {
    if (s.at >= 0 && proposed_ms < s.at + ttl_ms) {
      Fail("lease check violated: " + who + " expired lease " + std::to_string(lease) + " (TTL " +
           std::to_string(l.ttl_s) + "s) at " + std::to_string(proposed_ms) + "ms, only " +
           std::to_string(proposed_ms - s.at) + "ms after it " + s.what + " at " +
           std::to_string(s.at) + "ms");
      return;
    }
  }
  // A keep-alive acknowledged after the revocation was proposed, and before
  // it took effect, promised the lease TTL more: by the proposer, or by a node
  // that became leader after the proposal (a new leader's log may carry the
  // revocation; it must not renew before applying it). A leader deposed
  // before the proposal that still renews is etcd's one-sided case: allowed.
  for (auto& [node, view] : views_) {
    auto& kept_alive = view.kept_alive[lease];
    auto from = std::lower_bound(kept_alive.begin(), kept_alive.end(), Phased(proposed_ms, true));
    for (auto it = from; it != kept_alive.end() && *it <= Phased(applied_ms, true); ++it) {
      const std::int64_t k = *it / 2;
      const bool counts = node == proposer || LatestAtOrBefore(view.leader_since, k) >= proposed_ms;
      if (!counts || applied_ms >= k + ttl_ms) continue;
      Fail("lease check violated: node " + std::to_string(node) +
           " acknowledged a keep-alive of lease " + std::to_string(lease) + " (TTL " +
           std::to_string(l.ttl_s) + "s) at " + std::to_string(k) + "ms, after " + who +
           " proposed its expiry at " + std::to_string(proposed_ms) +
           "ms; the lease was revoked at " + std::to_string(applied_ms) + "ms");
      return;
    }
  }
}

void LeaseChecker::OnAnswered(const Operation& op) {
  if (op.outcome != Outcome::kOk || op.kind != OpKind::kPut || op.lease == 0) return;
  if (op.flag) {
    ++counters_.refused_puts;
    return;
  }
  auto it = leases_.find(op.lease);
  if (it == leases_.end() || it->second.revoked_at < 0) return;
  if (it->second.revoked_at <= op.invoke_ms) {
    Fail("lease check violated: " + DescribeOperation(op) + " was accepted, but lease " +
         std::to_string(op.lease) + " had been revoked (applied at " +
         std::to_string(it->second.revoked_at) + "ms)");
  }
}

void LeaseChecker::Audit(raft::NodeId node, std::uint64_t applied_index,
                         const storage::Snapshot& state, std::int64_t now_ms) {
  ++counters_.audits;
  const std::string who =
      "node " + std::to_string(node) + " at applied index " + std::to_string(applied_index);
  // lease -> TTL; lease -> keys whose record names it.
  std::map<std::int64_t, std::int64_t> ttls;
  std::map<std::int64_t, std::set<std::string>> attached;
  auto leases = state.NewIterator(storage::Cf::kLease);
  for (leases->SeekToFirst(); leases->Valid(); leases->Next()) {
    std::int64_t id = 0;
    std::int64_t ttl = 0;
    Status st = sm::DecodeLeaseKey(leases->key(), &id);
    if (st.ok()) st = sm::DecodeLeaseRecord(leases->value(), &ttl);
    if (!st.ok()) {
      Fail("lease audit of " + who + ": " + st.ToString());
      return;
    }
    ttls[id] = ttl;
  }
  auto kvs = state.NewIterator(storage::Cf::kKv);
  for (kvs->SeekToFirst(); kvs->Valid(); kvs->Next()) {
    sm::KvMeta meta;
    std::string_view value;
    const Status st = sm::DecodeKvRecord(kvs->value(), &meta, &value);
    if (!st.ok()) {
      Fail("lease audit of " + who + ": " + st.ToString());
      return;
    }
    if (meta.lease == 0) continue;
    if (ttls.count(meta.lease) == 0) {
      Fail("lease check violated: " + who + " holds key '" + std::string(kvs->key()) +
           "' attached to lease " + std::to_string(meta.lease) +
           ", which no longer exists (its keys did not vanish with it)");
      return;
    }
    attached[meta.lease].insert(std::string(kvs->key()));
  }
  std::string digest;
  for (const auto& [id, ttl] : ttls) {
    auto info = sm::LeaseTimeToLive(state, id, kEpochMs + now_ms);
    if (!info.ok()) {
      Fail("lease audit of " + who + ": " + info.status().ToString());
      return;
    }
    const std::set<std::string> indexed(info->keys.begin(), info->keys.end());
    if (indexed != attached[id]) {
      Fail("lease check violated: " + who + ": the lease_id index of lease " + std::to_string(id) +
           " names " + std::to_string(indexed.size()) + " keys, the key records " +
           std::to_string(attached[id].size()));
      return;
    }
    digest += std::to_string(id) + "(ttl " + std::to_string(ttl) + "s:";
    for (const std::string& k : indexed) digest += " " + k;
    digest += ") ";
  }
  auto [it, fresh] = audited_.emplace(applied_index, std::make_pair(node, digest));
  if (!fresh && it->second.second != digest) {
    Fail("lease check violated: replicas disagree on the leases at applied index " +
         std::to_string(applied_index) + ": node " + std::to_string(it->second.first) + " has {" +
         it->second.second + "}, node " + std::to_string(node) + " has {" + digest + "}");
    return;
  }
  while (audited_.size() > kMaxAudited) audited_.erase(audited_.begin());
}

}  // namespace aspen::sim
