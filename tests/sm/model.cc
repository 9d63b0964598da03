#include "sm/model.h"

#include <vector>

namespace aspen::sm::testing {
namespace {

v1::Response Error(Code code) {
  v1::Response r;
  r.mutable_error()->set_code(static_cast<int>(code));
  return r;
}

}  // namespace

bool Model::InRange(const std::string& k, const std::string& key, const std::string& end) const {
  if (end.empty()) return k == key;
  if (end == std::string(1, '\0')) return k >= key;
  return k >= key && k < end;
}

const ModelKv* Model::Live(const std::string& k, std::int64_t now) const {
  auto it = kv.find(k);
  return it != kv.end() && it->second.LiveAt(now) ? &it->second : nullptr;
}

void Model::Fill(const std::string& k, const ModelKv& m, v1::KeyValue* out) const {
  out->set_key(k);
  out->set_value(m.value);
  out->set_create_revision(m.create);
  out->set_mod_revision(m.mod);
  out->set_version(m.version);
  out->set_lease(m.lease);
  out->set_expires_at_ms(m.expires_at);
}

v1::RangeResponse Model::Range(const std::string& key, const std::string& end, std::int64_t limit,
                               std::int64_t now) const {
  v1::RangeResponse r;
  r.mutable_header()->set_revision(revision);
  std::int64_t count = 0;
  for (const auto& [k, m] : kv) {
    if (!InRange(k, key, end) || !m.LiveAt(now)) continue;
    ++count;
    if (limit > 0 && r.kvs_size() == limit) {
      r.set_more(true);
      continue;
    }
    Fill(k, m, r.add_kvs());
  }
  r.set_count(count);
  return r;
}

Status Model::CheckPut(const v1::PutRequest& p, std::int64_t now, bool lease_first) const {
  const bool key_missing = (p.ignore_value() || p.ignore_lease()) && Live(p.key(), now) == nullptr;
  const bool lease_missing = p.lease() != 0 && !leases.contains(p.lease());
  if (lease_first && lease_missing) return Status::NotFound("lease not found");
  if (key_missing) return Status::InvalidArgument("key not found");
  if (lease_missing) return Status::NotFound("lease not found");
  return Status::Ok();
}

void Model::Put(const v1::PutRequest& p, std::int64_t now, std::int64_t rev, v1::PutResponse* out) {
  const ModelKv* old = Live(p.key(), now);
  ModelKv m;
  m.value = p.ignore_value() ? old->value : p.value();
  m.lease = p.ignore_lease() ? old->lease : p.lease();
  m.create = old != nullptr ? old->create : rev;
  m.version = old != nullptr ? old->version + 1 : 1;
  m.mod = rev;
  m.expires_at = p.ttl_ms() > 0 ? now + p.ttl_ms() : 0;
  if (p.prev_kv() && old != nullptr) Fill(p.key(), *old, out->mutable_prev_kv());
  kv[p.key()] = m;
}

std::int64_t Model::Delete(const v1::DeleteRangeRequest& d, std::int64_t now,
                           v1::DeleteRangeResponse* out) {
  std::vector<std::string> victims;
  for (const auto& [k, m] : kv) {
    if (InRange(k, d.key(), d.range_end()) && m.LiveAt(now)) victims.push_back(k);
  }
  for (const std::string& k : victims) {
    if (d.prev_kv()) Fill(k, kv[k], out->add_prev_kvs());
    kv.erase(k);
  }
  out->set_deleted(static_cast<std::int64_t>(victims.size()));
  return out->deleted();
}

bool Model::Compare(const v1::Compare& c, std::int64_t now) const {
  std::vector<const ModelKv*> hits;
  for (const auto& [k, m] : kv) {
    if (InRange(k, c.key(), c.range_end()) && m.LiveAt(now)) hits.push_back(&m);
  }
  if (hits.empty() && c.target() == v1::Compare::VALUE) return false;
  static const ModelKv kZero;
  if (hits.empty()) hits.push_back(&kZero);
  for (const ModelKv* m : hits) {
    int r = 0;
    auto cmp = [](auto a, auto b) { return a < b ? -1 : (a > b ? 1 : 0); };
    switch (c.target()) {
      case v1::Compare::VALUE: r = cmp(m->value, c.value()); break;
      case v1::Compare::VERSION: r = cmp(m->version, c.version()); break;
      case v1::Compare::CREATE: r = cmp(m->create, c.create_revision()); break;
      case v1::Compare::MOD: r = cmp(m->mod, c.mod_revision()); break;
      default: r = cmp(m->lease, c.lease()); break;
    }
    const bool ok = c.result() == v1::Compare::EQUAL       ? r == 0
                    : c.result() == v1::Compare::NOT_EQUAL ? r != 0
                    : c.result() == v1::Compare::GREATER   ? r > 0
                                                           : r < 0;
    if (!ok) return false;
  }
  return true;
}

v1::Response Model::Txn(const v1::TxnRequest& t, std::int64_t now) {
  // Duplicate keys: two puts of one key, or a put inside a delete range, in
  // one branch.
  for (const auto* branch : {&t.success(), &t.failure()}) {
    std::set<std::string> puts;
    for (const auto& op : *branch) {
      if (!op.has_request_put()) continue;
      if (!puts.insert(op.request_put().key()).second) return Error(Code::kInvalidArgument);
      for (const auto& d : *branch) {
        if (d.has_request_delete_range() &&
            InRange(op.request_put().key(), d.request_delete_range().key(),
                    d.request_delete_range().range_end())) {
          return Error(Code::kInvalidArgument);
        }
      }
    }
  }
  bool succeeded = true;
  for (const auto& c : t.compare()) succeeded = succeeded && Compare(c, now);
  const auto& ops = succeeded ? t.success() : t.failure();
  for (const auto& op : ops) {
    if (!op.has_request_put()) continue;
    Status s = CheckPut(op.request_put(), now, /*lease_first=*/false);
    if (!s.ok()) return Error(s.code());
  }
  v1::Response resp;
  v1::TxnResponse* tr = resp.mutable_txn();
  tr->set_succeeded(succeeded);
  bool changed = false;
  // Inner headers carry the revision as of each op, as in etcd.
  for (const auto& op : ops) {
    v1::ResponseOp* out = tr->add_responses();
    if (op.has_request_put()) {
      Put(op.request_put(), now, revision + 1, out->mutable_response_put());
      changed = true;
      out->mutable_response_put()->mutable_header()->set_revision(revision + 1);
    } else if (op.has_request_delete_range()) {
      auto* d = out->mutable_response_delete_range();
      if (Delete(op.request_delete_range(), now, d) > 0) changed = true;
      d->mutable_header()->set_revision(changed ? revision + 1 : revision);
    } else {
      const auto& rr = op.request_range();
      const std::int64_t saved = revision;
      revision = changed ? revision + 1 : revision;
      *out->mutable_response_range() = Range(rr.key(), rr.range_end(), rr.limit(), now);
      revision = saved;
    }
  }
  if (changed) ++revision;
  tr->mutable_header()->set_revision(revision);
  return resp;
}

v1::Response Model::Apply(const v1::Command& c) {
  const std::int64_t now = c.now_ms();
  v1::Response resp;
  switch (c.op_case()) {
    case v1::Command::kPut: {
      Status s = CheckPut(c.put(), now, /*lease_first=*/true);
      if (!s.ok()) return Error(s.code());
      Put(c.put(), now, revision + 1, resp.mutable_put());
      ++revision;
      resp.mutable_put()->mutable_header()->set_revision(revision);
      return resp;
    }
    case v1::Command::kDeleteRange: {
      if (Delete(c.delete_range(), now, resp.mutable_delete_range()) > 0) ++revision;
      resp.mutable_delete_range()->mutable_header()->set_revision(revision);
      return resp;
    }
    case v1::Command::kTxn: return Txn(c.txn(), now);
    case v1::Command::kLeaseGrant: {
      const auto& g = c.lease_grant();
      if (leases.contains(g.id())) return Error(Code::kFailedPrecondition);
      leases[g.id()] = g.ttl();
      resp.mutable_lease_grant()->set_id(g.id());
      resp.mutable_lease_grant()->set_ttl(g.ttl());
      resp.mutable_lease_grant()->mutable_header()->set_revision(revision);
      return resp;
    }
    case v1::Command::kLeaseRevoke: {
      const std::int64_t id = c.lease_revoke().id();
      if (!leases.erase(id)) return Error(Code::kNotFound);
      bool any = false;
      for (auto it = kv.begin(); it != kv.end();) {
        if (it->second.lease == id) {
          it = kv.erase(it);
          any = true;
        } else {
          ++it;
        }
      }
      if (any) ++revision;
      resp.mutable_lease_revoke()->mutable_header()->set_revision(revision);
      return resp;
    }
    case v1::Command::kExpireKeys: {
      std::int64_t deleted = 0;
      for (const auto& k : c.expire_keys().keys()) {
        auto it = kv.find(k.key());
        if (it == kv.end() || it->second.mod != k.mod_revision() || it->second.LiveAt(now))
          continue;
        kv.erase(it);
        ++deleted;
      }
      if (deleted > 0) ++revision;
      resp.mutable_expire_keys()->set_deleted(deleted);
      resp.mutable_expire_keys()->mutable_header()->set_revision(revision);
      return resp;
    }
    case v1::Command::kCompact: {
      const std::int64_t r = c.compact().revision();
      if (r > revision || r <= compact_revision) return Error(Code::kOutOfRange);
      compact_revision = r;
      resp.mutable_compact()->mutable_header()->set_revision(revision);
      return resp;
    }
    case v1::Command::kAlarm:  // not modelled: the model's workload has no alarms
    case v1::Command::OP_NOT_SET: break;
  }
  return Error(Code::kInvalidArgument);
}

}  // namespace aspen::sm::testing
