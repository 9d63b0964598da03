// MVCC history: Range at past revisions, event replay, prev versions and
// compaction, against the reference model (model.h) kept at every revision.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>

#include "sm/history.h"
#include "sm/model.h"
#include "sm/reads.h"
#include "sm/sm_test_util.h"
#include "sm/state_machine.h"
#include "sm/validate.h"
#include "sm/view.h"
#include "storage/mem_store.h"

namespace aspen::sm {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::Harness;
using testing::Model;
using testing::ModelKv;
using State = std::map<std::string, ModelKv>;

const std::vector<std::string>& Keys() {
  static const std::vector<std::string> keys = {
      "a", "b", "c", std::string("a\0", 2), "ab", std::string("b\0x", 3)};
  return keys;
}

std::string GenHistoryKey() {
  return *rc::gen::elementOf(Keys());
}

std::string GenEnd(const std::string& key) {
  std::string inc = key;
  inc.back() = static_cast<char>(inc.back() + 1);
  return *rc::gen::elementOf(std::vector<std::string>{"", std::string(1, '\0'), "b", "c", inc});
}

v1::Command GenCommand(const Model& model, std::int64_t now) {
  v1::Command c;
  c.set_now_ms(now);
  const int kind = *rc::gen::inRange(0, 100);
  if (kind < 45) {
    v1::PutRequest* p = c.mutable_put();
    p->set_key(GenHistoryKey());
    p->set_value(*rc::gen::elementOf(std::vector<std::string>{"", "x", "yy", "zzz"}));
    p->set_lease(*rc::gen::elementOf(std::vector<std::int64_t>{0, 0, 0, 1, 2}));
    p->set_ttl_ms(*rc::gen::elementOf(std::vector<std::int64_t>{0, 0, 0, 0, 30}));
  } else if (kind < 60) {
    c.mutable_delete_range()->set_key(GenHistoryKey());
    c.mutable_delete_range()->set_range_end(GenEnd(c.delete_range().key()));
  } else if (kind < 72) {
    v1::TxnRequest* t = c.mutable_txn();
    // Distinct keys: a txn may not write one key twice.
    std::vector<std::string> keys = Keys();
    const int n = *rc::gen::inRange(1, 4);
    for (int i = 0; i < n; ++i) {
      v1::PutRequest* p = t->add_success()->mutable_request_put();
      p->set_key(keys[static_cast<std::size_t>(i) * 2]);
      p->set_value("t" + std::to_string(i));
    }
  } else if (kind < 78) {
    c.mutable_lease_grant()->set_id(*rc::gen::inRange(1, 3));
    c.mutable_lease_grant()->set_ttl(10);
  } else if (kind < 83) {
    c.mutable_lease_revoke()->set_id(*rc::gen::inRange(1, 3));
  } else if (kind < 90) {
    for (const auto& [k, m] : model.kv) {
      if (!m.LiveAt(now)) {
        v1::ExpiringKey* x = c.mutable_expire_keys()->add_keys();
        x->set_key(k);
        x->set_mod_revision(m.mod);
      }
    }
    if (c.expire_keys().keys_size() == 0) c.mutable_expire_keys()->add_keys()->set_key("a");
  } else {
    c.mutable_compact()->set_revision(*rc::gen::inRange<std::int64_t>(0, model.revision + 2));
  }
  return c;
}

// etcd's Range over the model's rows at one revision, every option.
v1::RangeResponse ModelRange(const State& state, const v1::RangeRequest& r, std::int64_t now,
                             std::int64_t current) {
  const KeyRange range = MakeKeyRange(r.key(), r.range_end());
  struct Item {
    std::string key;
    ModelKv kv;
  };
  std::vector<Item> items;
  v1::RangeResponse out;
  out.mutable_header()->set_revision(current);
  std::int64_t count = 0;
  for (const auto& [k, m] : state) {
    if (range.Empty() || (range.single_key ? k != range.begin : !range.Contains(k))) continue;
    if (!m.LiveAt(now)) continue;
    ++count;
    if (r.max_mod_revision() != 0 && m.mod > r.max_mod_revision()) continue;
    if (r.min_mod_revision() != 0 && m.mod < r.min_mod_revision()) continue;
    if (r.max_create_revision() != 0 && m.create > r.max_create_revision()) continue;
    if (r.min_create_revision() != 0 && m.create < r.min_create_revision()) continue;
    items.push_back({k, m});
  }
  out.set_count(count);
  if (r.count_only()) return out;
  auto key_of = [&](const Item& i) -> std::tuple<std::int64_t, std::string> {
    switch (r.sort_target()) {
      case v1::RangeRequest::VERSION: return {i.kv.version, ""};
      case v1::RangeRequest::CREATE: return {i.kv.create, ""};
      case v1::RangeRequest::MOD: return {i.kv.mod, ""};
      case v1::RangeRequest::VALUE: return {0, i.kv.value};
      default: return {0, i.key};
    }
  };
  auto order = r.sort_order();
  if (r.sort_target() != v1::RangeRequest::KEY && order == v1::RangeRequest::NONE) {
    order = v1::RangeRequest::ASCEND;
  }
  if (order == v1::RangeRequest::ASCEND) {
    std::stable_sort(items.begin(), items.end(),
                     [&](const Item& a, const Item& b) { return key_of(a) < key_of(b); });
  } else if (order == v1::RangeRequest::DESCEND) {
    std::stable_sort(items.begin(), items.end(),
                     [&](const Item& a, const Item& b) { return key_of(b) < key_of(a); });
  }
  if (r.limit() > 0 && items.size() > static_cast<std::size_t>(r.limit())) {
    items.resize(static_cast<std::size_t>(r.limit()));
    out.set_more(true);
  }
  for (const Item& i : items) {
    v1::KeyValue* kv = out.add_kvs();
    kv->set_key(i.key);
    kv->set_create_revision(i.kv.create);
    kv->set_mod_revision(i.kv.mod);
    kv->set_version(i.kv.version);
    if (!r.keys_only()) kv->set_value(i.kv.value);
    kv->set_lease(i.kv.lease);
    kv->set_expires_at_ms(i.kv.expires_at);
  }
  return out;
}

v1::RangeRequest GenRangeRequest(std::int64_t revision) {
  v1::RangeRequest r;
  r.set_key(GenHistoryKey());
  r.set_range_end(GenEnd(r.key()));
  r.set_revision(revision);
  r.set_limit(*rc::gen::inRange(0, 4));
  r.set_sort_target(static_cast<v1::RangeRequest::SortTarget>(*rc::gen::inRange(0, 5)));
  r.set_sort_order(static_cast<v1::RangeRequest::SortOrder>(*rc::gen::inRange(0, 3)));
  r.set_keys_only(*rc::gen::inRange(0, 4) == 0);
  r.set_count_only(*rc::gen::inRange(0, 6) == 0);
  if (*rc::gen::inRange(0, 2) == 0) {
    r.set_min_mod_revision(*rc::gen::inRange(0, 15));
    r.set_max_mod_revision(*rc::gen::inRange(0, 30));
    r.set_min_create_revision(*rc::gen::inRange(0, 15));
    r.set_max_create_revision(*rc::gen::inRange(0, 30));
  }
  return r;
}

bool SameRow(const HistoryEvent& e, const ModelKv& m) {
  return e.value == m.value && e.meta.create_revision == m.create && e.meta.mod_revision == m.mod &&
         e.meta.version == m.version && e.meta.lease == m.lease &&
         e.meta.expires_at_ms == m.expires_at;
}

std::size_t CountRows(storage::Store& store) {
  auto snap = store.GetSnapshot();
  auto it = snap->NewIterator(storage::Cf::kHistory);
  std::size_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

void CompactSome(storage::Store* store, std::size_t max_events) {
  auto step = CompactStep(*store->GetSnapshot(), max_events);
  RC_ASSERT(step.ok());
  RC_ASSERT(store->Write(step->batch, false).ok());
}

RC_GTEST_PROP(History, PastRevisionsEventsAndCompactionMatchTheModel, ()) {
  Model model;
  std::map<std::int64_t, State> states{{1, {}}};
  storage::MemStore store;
  auto sm = StateMachine::Open(&store);
  RC_ASSERT(sm.ok());
  std::int64_t now = 1000;
  std::uint64_t index = 0;
  const int n = *rc::gen::inRange(1, 50);
  for (int i = 0; i < n; ++i) {
    now += *rc::gen::inRange(0, 20);
    const v1::Command c = GenCommand(model, now);
    const v1::Response want = model.Apply(c);
    states[model.revision] = model.kv;
    const std::string data = c.SerializeAsString();
    const Entry e{++index, data};
    auto r = (*sm)->Apply(std::span<const Entry>(&e, 1));
    RC_ASSERT(r.ok());
    RC_ASSERT(store.Write(r->batch, false).ok());
    RC_ASSERT(r->responses[0].has_error() == want.has_error());
    // Physical compaction advances in small steps between applies.
    if (*rc::gen::inRange(0, 3) == 0) CompactSome(&store, *rc::gen::inRange<std::size_t>(1, 4));
  }
  RC_ASSERT((*sm)->revision() == model.revision);
  RC_ASSERT((*sm)->compact_revision() == model.compact_revision);
  const std::int64_t current = model.revision;
  const std::int64_t compacted = model.compact_revision;

  // Compaction half done or done: the answers are the same.
  for (int pass = 0; pass < 2; ++pass) {
    auto snap = store.GetSnapshot();
    SnapshotView view(snap.get());
    for (std::int64_t rev = 1; rev <= current; ++rev) {
      for (int q = 0; q < 3; ++q) {
        const v1::RangeRequest req = GenRangeRequest(rev);
        auto got = Range(*snap, req, now);
        if (rev < compacted) {
          RC_ASSERT(got.status().code() == Code::kOutOfRange);
          RC_ASSERT(got.status().message().find("required revision has been compacted") !=
                    std::string::npos);
          continue;
        }
        RC_ASSERT(got.ok());
        const v1::RangeResponse want = ModelRange(states.at(rev), req, now, current);
        if (!MessageDifferencer::Equals(want, *got)) {
          RC_FAIL("rev " + std::to_string(rev) + " " + req.ShortDebugString() +
                  "\nwant: " + want.ShortDebugString() + "\ngot:  " + got->ShortDebugString());
        }
      }
      if (rev < std::max<std::int64_t>(compacted, 1)) continue;
      // Replaying the events after rev onto the rows at rev gives the rows now.
      std::vector<HistoryEvent> events;
      std::int64_t next = 0;
      State state = states.at(rev);
      std::int64_t from = rev + 1;
      while (from <= current) {
        events.clear();
        RC_ASSERT(ReadEvents(view, from, current, 2, &events, &next).ok());
        RC_ASSERT(next > from);
        for (const HistoryEvent& e : events) {
          RC_ASSERT(e.revision >= from && e.revision < next);
          std::optional<HistoryEvent> prev;
          RC_ASSERT(ReadPrevVersion(view, e.key, e.revision, e.sub, &prev).ok());
          const State& before = states.at(e.revision - 1);
          auto was = before.find(e.key);
          RC_ASSERT(prev.has_value() == (was != before.end()));
          if (prev.has_value()) RC_ASSERT(SameRow(*prev, was->second));
          if (e.deleted) {
            RC_ASSERT(state.erase(e.key) == 1u);
          } else {
            RC_ASSERT(e.meta.mod_revision == e.revision);
            ModelKv& row = state[e.key];
            row = ModelKv{e.value,        e.meta.create_revision, e.meta.mod_revision,
                          e.meta.version, e.meta.lease,           e.meta.expires_at_ms};
          }
        }
        from = next;
      }
      RC_ASSERT(state.size() == model.kv.size());
      for (const auto& [k, m] : model.kv) {
        RC_ASSERT(state.contains(k));
        const ModelKv& s = state.at(k);
        RC_ASSERT(s.value == m.value && s.create == m.create && s.mod == m.mod &&
                  s.version == m.version && s.lease == m.lease && s.expires_at == m.expires_at);
      }
    }
    // Finish the physical compaction.
    for (int i = 0; i < 1000; ++i) {
      auto st = ReadCompactionState(*store.GetSnapshot());
      RC_ASSERT(st.ok());
      if (!st->pending()) break;
      CompactSome(&store, 3);
    }
  }
  // What is left: every change above the compacted revision, and each key's
  // row at the compacted revision (two history rows per change).
  if (compacted > 0) {
    std::int64_t next = 0;
    std::vector<HistoryEvent> after;
    auto snap = store.GetSnapshot();
    SnapshotView v2(snap.get());
    RC_ASSERT(ReadEvents(v2, compacted + 1, current, SIZE_MAX, &after, &next).ok());
    RC_ASSERT(CountRows(store) == 2 * (after.size() + states.at(compacted).size()));
  }
}

TEST(History, CompactRefusesFutureAndAlreadyCompactedRevisions) {
  Harness h;
  for (int i = 0; i < 5; ++i) h.Apply(testing::PutCmd("k", std::to_string(i)));  // revs 2..6
  v1::Command c;
  c.mutable_compact()->set_revision(7);
  EXPECT_EQ(h.Apply(c).error().message(), "mvcc: required revision is a future revision");
  c.mutable_compact()->set_revision(4);
  v1::Response ok = h.Apply(c);
  EXPECT_FALSE(ok.has_error());
  EXPECT_EQ(ok.compact().header().revision(), 6);
  EXPECT_EQ(h.sm().revision(), 6);  // compaction does not move the revision
  EXPECT_EQ(h.Apply(c).error().message(), "mvcc: required revision has been compacted");
  c.mutable_compact()->set_revision(3);
  EXPECT_EQ(h.Apply(c).error().message(), "mvcc: required revision has been compacted");

  auto snap = h.store().GetSnapshot();
  v1::RangeRequest r;
  r.set_key("k");
  r.set_revision(3);
  Status s = Range(*snap, r, h.now_ms).status();
  EXPECT_EQ(s.code(), Code::kOutOfRange);
  EXPECT_EQ(s.message().rfind("mvcc: required revision has been compacted", 0), 0u);
  r.set_revision(4);
  auto at4 = Range(*snap, r, h.now_ms);
  ASSERT_TRUE(at4.ok());
  ASSERT_EQ(at4->kvs_size(), 1);
  EXPECT_EQ(at4->kvs(0).value(), "2");
  EXPECT_EQ(at4->header().revision(), 6);

  // Reopening keeps the compact revision.
  h.Reopen();
  EXPECT_EQ(h.sm().compact_revision(), 4);
  EXPECT_EQ(ReadAppliedState(*h.store().GetSnapshot())->compact_revision, 4);
}

TEST(History, CompactStepIsBoundedAndKeepsTheLatestVersionAtTheCompactRevision) {
  Harness h;
  for (int i = 0; i < 10; ++i) h.Apply(testing::PutCmd("k", std::to_string(i)));  // revs 2..11
  h.Apply(testing::PutCmd("gone", "x"));                                          // 12
  h.Apply(testing::DelCmd("gone"));                                               // 13
  v1::Command c;
  c.mutable_compact()->set_revision(13);
  ASSERT_FALSE(h.Apply(c).has_error());
  auto st = ReadCompactionState(*h.store().GetSnapshot());
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->pending());
  int steps = 0;
  while (true) {
    auto step = CompactStep(*h.store().GetSnapshot(), 4);
    ASSERT_TRUE(step.ok());
    ASSERT_TRUE(h.store().Write(step->batch, false).ok());
    ++steps;
    if (!step->state.pending()) break;
    ASSERT_LT(steps, 100);
  }
  EXPECT_EQ(steps, 3);  // 12 events, 4 per step
  // Left: k's put at revision 11 (event + version row).
  EXPECT_EQ(CountRows(h.store()), 2u);
  auto snap = h.store().GetSnapshot();
  SnapshotView view(snap.get());
  std::optional<HistoryEvent> at;
  ASSERT_TRUE(ReadVersionAt(view, "k", 13, &at).ok());
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(at->value, "9");
  // Nothing pending: a step writes nothing.
  auto idle = CompactStep(*snap, 4);
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->batch.count(), 0u);
}

TEST(History, VersionKeysSortByKeyThenNewestFirstAndDecode) {
  const std::string nul("a\0", 2);
  EXPECT_LT(HistoryVersionKey("a", 1, 0), HistoryVersionKey(nul, 9, 0));
  EXPECT_LT(HistoryVersionKey(nul, 9, 0), HistoryVersionKey("a\x01", 9, 0));
  EXPECT_LT(HistoryVersionKey("a", 9, 0), HistoryVersionKey("a", 8, 0));
  EXPECT_LT(HistoryVersionKey("a", 9, 1), HistoryVersionKey("a", 9, 0));
  for (const std::string& k : {std::string("a"), nul, std::string("\0\0", 2), std::string()}) {
    HistoryVersion v;
    ASSERT_TRUE(DecodeHistoryVersion(HistoryVersionKey(k, 42, 3), "\x01", &v).ok());
    EXPECT_EQ(v.key, k);
    EXPECT_EQ(v.revision, 42);
    EXPECT_EQ(v.sub, 3u);
    EXPECT_TRUE(v.deleted);
  }
  HistoryVersion v;
  EXPECT_EQ(DecodeHistoryVersion("k\x01", "\x00", &v).code(), Code::kCorruption);
  std::string bad = HistoryVersionKey("a", 1, 0);
  EXPECT_EQ(DecodeHistoryVersion(bad, "\x07", &v).code(), Code::kCorruption);
  HistoryEvent e;
  EXPECT_EQ(DecodeHistoryEvent("\x01\x00\x05"
                               "ab",
                               &e)
                .code(),
            Code::kCorruption);
  EXPECT_EQ(DecodeHistoryEvent("\x02\x01\x00", &e).code(), Code::kCorruption);
}

}  // namespace
}  // namespace aspen::sm
