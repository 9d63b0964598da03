// Property tests: the StateMachine against the reference model (model.h), on
// MemStore, with random commands split into random apply batches; plus
// restart, determinism across replicas and index consistency.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <set>

#include "sm/index.h"
#include "sm/model.h"
#include "sm/reads.h"
#include "sm/record.h"
#include "sm/state_machine.h"
#include "storage/mem_store.h"

namespace aspen::sm {
namespace {

using testing::Model;

const std::vector<std::string>& KeyPool() {
  static const std::vector<std::string> keys = {
      "a", "b", "c", std::string("a\0", 2), "ab", std::string("b\0x", 3)};
  return keys;
}

std::string GenKey() {
  return *rc::gen::elementOf(KeyPool());
}

std::string GenValue() {
  return *rc::gen::elementOf(std::vector<std::string>{"", "x", "yy", std::string("\0z", 2)});
}

std::string GenRangeEnd(const std::string& key) {
  std::string inc = key;
  inc.back() = static_cast<char>(inc.back() + 1);  // keys in the pool never end in 0xff
  return *rc::gen::elementOf(std::vector<std::string>{"", std::string(1, '\0'), "b", "c", inc});
}

v1::PutRequest GenPut(bool allow_flags) {
  v1::PutRequest p;
  p.set_key(GenKey());
  p.set_value(GenValue());
  p.set_lease(*rc::gen::elementOf(std::vector<std::int64_t>{0, 0, 0, 1, 2, 3}));
  p.set_ttl_ms(*rc::gen::elementOf(std::vector<std::int64_t>{0, 0, 0, 30, 100}));
  p.set_prev_kv(*rc::gen::arbitrary<bool>());
  if (allow_flags && *rc::gen::inRange(0, 10) == 0) {
    p.set_ignore_value(true);
    p.clear_value();
  }
  if (allow_flags && *rc::gen::inRange(0, 10) == 0) {
    p.set_ignore_lease(true);
    p.set_lease(0);
  }
  return p;
}

v1::DeleteRangeRequest GenDelete() {
  v1::DeleteRangeRequest d;
  d.set_key(GenKey());
  d.set_range_end(GenRangeEnd(d.key()));
  d.set_prev_kv(*rc::gen::arbitrary<bool>());
  return d;
}

v1::RequestOp GenOp() {
  v1::RequestOp op;
  switch (*rc::gen::inRange(0, 3)) {
    case 0: *op.mutable_request_put() = GenPut(true); break;
    case 1: *op.mutable_request_delete_range() = GenDelete(); break;
    default: {
      v1::RangeRequest* r = op.mutable_request_range();
      r->set_key(GenKey());
      r->set_range_end(GenRangeEnd(r->key()));
      r->set_limit(*rc::gen::inRange(0, 3));
    }
  }
  return op;
}

v1::TxnRequest GenTxn() {
  v1::TxnRequest t;
  for (int i = *rc::gen::inRange(0, 3); i > 0; --i) {
    v1::Compare* c = t.add_compare();
    c->set_key(GenKey());
    if (*rc::gen::inRange(0, 4) == 0) c->set_range_end(GenRangeEnd(c->key()));
    c->set_result(static_cast<v1::Compare::CompareResult>(*rc::gen::inRange(0, 4)));
    c->set_target(static_cast<v1::Compare::CompareTarget>(*rc::gen::inRange(0, 5)));
    switch (c->target()) {
      case v1::Compare::VALUE: c->set_value(GenValue()); break;
      case v1::Compare::VERSION: c->set_version(*rc::gen::inRange(0, 3)); break;
      case v1::Compare::LEASE: c->set_lease(*rc::gen::inRange(0, 3)); break;
      default:
        c->set_mod_revision(*rc::gen::inRange(0, 20));
        c->set_create_revision(c->mod_revision());
    }
  }
  for (int i = *rc::gen::inRange(0, 4); i > 0; --i) *t.add_success() = GenOp();
  for (int i = *rc::gen::inRange(0, 3); i > 0; --i) *t.add_failure() = GenOp();
  return t;
}

// The leader's view: keys expired at now with the revision seen, plus noise.
v1::ExpireKeysRequest GenExpire(const Model& model, std::int64_t now) {
  v1::ExpireKeysRequest e;
  for (const auto& [k, m] : model.kv) {
    if (!m.LiveAt(now) && *rc::gen::inRange(0, 4) != 0) {
      v1::ExpiringKey* x = e.add_keys();
      x->set_key(k);
      x->set_mod_revision(m.mod);
    } else if (*rc::gen::inRange(0, 5) == 0) {
      v1::ExpiringKey* x = e.add_keys();  // live, or stale revision: must survive
      x->set_key(k);
      x->set_mod_revision(m.LiveAt(now) ? m.mod : m.mod - 1);
    }
  }
  if (e.keys_size() == 0) e.add_keys()->set_key(GenKey());
  return e;
}

// One entry's bytes; `expected` gets the model's answer (the model applies it).
std::string GenEntry(Model* model, std::int64_t now, v1::Response* expected) {
  const int kind = *rc::gen::inRange(0, 100);
  if (kind < 2) {
    *expected = v1::Response();
    return "";  // Raft's no-op entry
  }
  if (kind < 5) {
    expected->Clear();
    expected->mutable_error()->set_code(static_cast<int>(Code::kInvalidArgument));
    return "\xff";  // not a protobuf message
  }
  v1::Command c;
  c.set_now_ms(now);
  if (kind < 40) {
    *c.mutable_put() = GenPut(true);
  } else if (kind < 52) {
    *c.mutable_delete_range() = GenDelete();
  } else if (kind < 72) {
    *c.mutable_txn() = GenTxn();
  } else if (kind < 80) {
    c.mutable_lease_grant()->set_id(*rc::gen::inRange(1, 4));
    c.mutable_lease_grant()->set_ttl(10);
  } else if (kind < 86) {
    c.mutable_lease_revoke()->set_id(*rc::gen::inRange(1, 5));
  } else {
    *c.mutable_expire_keys() = GenExpire(*model, now);
  }
  *expected = model->Apply(c);
  return c.SerializeAsString();
}

std::string Dump(storage::Store& store) {
  auto snap = store.GetSnapshot();
  std::string out;
  for (std::size_t cf = 0; cf < storage::kNumCfs; ++cf) {
    auto it = snap->NewIterator(static_cast<storage::Cf>(cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out +=
          std::to_string(cf) + ":" + std::string(it->key()) + "=" + std::string(it->value()) + ";";
    }
  }
  return out;
}

void CheckIndexesMatchKv(storage::Store& store) {
  auto snap = store.GetSnapshot();
  std::set<std::string> want, have;
  auto kv = snap->NewIterator(storage::Cf::kKv);
  for (kv->SeekToFirst(); kv->Valid(); kv->Next()) {
    KvMeta meta;
    std::string_view value;
    RC_ASSERT(DecodeKvRecord(kv->value(), &meta, &value).ok());
    for (std::string& row : IndexKeysFor(kv->key(), meta)) want.insert(std::move(row));
  }
  auto idx = snap->NewIterator(storage::Cf::kIndex);
  for (idx->SeekToFirst(); idx->Valid(); idx->Next()) {
    RC_ASSERT(idx->value().empty());
    have.insert(std::string(idx->key()));
  }
  RC_ASSERT(want == have);
}

void CheckRangeMatchesModel(storage::Store& store, const Model& model, std::int64_t now) {
  auto snap = store.GetSnapshot();
  const std::string all(1, '\0');
  for (const std::string& key : {all, std::string("a"), std::string("b")}) {
    for (const std::string& end : {all, std::string("b"), std::string()}) {
      v1::RangeRequest req;
      req.set_key(key);
      req.set_range_end(end);
      auto got = Range(*snap, req, now);
      RC_ASSERT(got.ok());
      const v1::RangeResponse want = model.Range(key, end, 0, now);
      RC_ASSERT(google::protobuf::util::MessageDifferencer::Equals(want, *got));
    }
  }
}

// Applies `entries` in random batches; returns the responses in order.
std::vector<v1::Response> ApplyInBatches(StateMachine* sm, storage::Store* store,
                                         const std::vector<Entry>& entries) {
  std::vector<v1::Response> out;
  std::size_t i = 0;
  while (i < entries.size()) {
    const std::size_t n = std::min<std::size_t>(*rc::gen::inRange(1, 8), entries.size() - i);
    auto r = sm->Apply(std::span<const Entry>(entries.data() + i, n));
    RC_ASSERT(r.ok());
    RC_ASSERT(store->Write(r->batch, false).ok());
    for (auto& resp : r->responses) out.push_back(std::move(resp));
    i += n;
  }
  return out;
}

RC_GTEST_PROP(StateMachineModel, MatchesTheReferenceModelInAnyBatching, ()) {
  Model model;
  std::vector<std::string> data;
  std::vector<v1::Response> expected;
  std::int64_t now = 1000;
  const int n = *rc::gen::inRange(1, 60);
  for (int i = 0; i < n; ++i) {
    now += *rc::gen::inRange(0, 40);
    data.push_back(GenEntry(&model, now, &expected.emplace_back()));
  }
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < data.size(); ++i) entries.push_back({i + 1, data[i]});

  storage::MemStore store;
  auto sm = StateMachine::Open(&store);
  RC_ASSERT(sm.ok());
  std::vector<v1::Response> got = ApplyInBatches(sm->get(), &store, entries);
  RC_ASSERT(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (expected[i].has_error()) {
      RC_ASSERT(got[i].has_error());
      RC_ASSERT(got[i].error().code() == expected[i].error().code());
    } else if (!google::protobuf::util::MessageDifferencer::Equals(expected[i], got[i])) {
      RC_FAIL("entry " + std::to_string(i) + "\nwant: " + expected[i].ShortDebugString() +
              "\ngot:  " + got[i].ShortDebugString());
    }
  }
  RC_ASSERT((*sm)->revision() == model.revision);
  CheckRangeMatchesModel(store, model, now);
  CheckRangeMatchesModel(store, model, now + 1000);
  CheckIndexesMatchKv(store);

  // Restart: a synced write makes every earlier apply durable; after a crash
  // a reopened state machine sees the same state.
  RC_ASSERT(store.Write(storage::WriteBatch(), true).ok());
  store.Crash();
  auto reopened = StateMachine::Open(&store);
  RC_ASSERT(reopened.ok());
  RC_ASSERT((*reopened)->revision() == model.revision);
  RC_ASSERT((*reopened)->applied_index() == entries.size());
  CheckRangeMatchesModel(store, model, now);

  // Determinism: a replica fed the same entries in other batches holds the
  // same bytes in every column family and the same HashKV.
  storage::MemStore replica_store;
  auto replica = StateMachine::Open(&replica_store);
  RC_ASSERT(replica.ok());
  ApplyInBatches(replica->get(), &replica_store, entries);
  RC_ASSERT(Dump(store) == Dump(replica_store));
  auto h1 = HashKV(*store.GetSnapshot());
  auto h2 = HashKV(*replica_store.GetSnapshot());
  RC_ASSERT(h1.ok() && h2.ok());
  RC_ASSERT(h1->sha256 == h2->sha256);
}

RC_GTEST_PROP(StateMachineModel, IndexPlanAndScanPlanAgree, ()) {
  Model model;
  storage::MemStore store;
  auto sm = StateMachine::Open(&store);
  RC_ASSERT(sm.ok());
  std::int64_t now = 1000;
  std::vector<std::string> data;
  v1::Response ignored;
  for (int i = *rc::gen::inRange(1, 40); i > 0; --i)
    data.push_back(GenEntry(&model, now, &ignored));
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < data.size(); ++i) entries.push_back({i + 1, data[i]});
  ApplyInBatches(sm->get(), &store, entries);
  auto snap = store.GetSnapshot();
  v1::RangeRequest req;
  req.set_key(GenKey());
  req.set_range_end(GenRangeEnd(req.key()));
  req.set_min_mod_revision(*rc::gen::inRange(0, 30));
  req.set_max_mod_revision(*rc::gen::inRange(0, 30));
  req.set_min_create_revision(*rc::gen::inRange(0, 30));
  req.set_max_create_revision(*rc::gen::inRange(0, 30));
  req.set_limit(*rc::gen::inRange(0, 4));
  req.set_sort_target(static_cast<v1::RangeRequest::SortTarget>(*rc::gen::inRange(0, 5)));
  req.set_sort_order(static_cast<v1::RangeRequest::SortOrder>(*rc::gen::inRange(0, 3)));
  req.set_keys_only(*rc::gen::arbitrary<bool>());
  auto by_index = Range(*snap, req, now);
  auto by_scan = Range(*snap, req, now, RangeOptions{.allow_index = false});
  RC_ASSERT(by_index.ok() && by_scan.ok());
  RC_ASSERT(google::protobuf::util::MessageDifferencer::Equals(*by_index, *by_scan));
}

}  // namespace
}  // namespace aspen::sm
