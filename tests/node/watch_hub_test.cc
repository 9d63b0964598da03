// WatchHub on an in-memory store driven by hand (RunOnce, no thread): order,
// no gaps, no duplicates across the synced/unsynced groups with tiny
// buffers, filters, prev_kv, compaction cancels, bounds, progress.
#include "node/watch_hub.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "base/limits.h"
#include "sm/history.h"
#include "sm/reads.h"
#include "sm/state_machine.h"
#include "storage/mem_store.h"

namespace aspen::node {
namespace {

WatchSpec Spec(std::string key, std::string range_end = "", std::int64_t start = 0) {
  WatchSpec s;
  s.key = std::move(key);
  s.range_end = std::move(range_end);
  s.start_revision = start;
  return s;
}

WatchHubOptions Opts(storage::Store* store) {
  WatchHubOptions o;
  o.store = store;
  return o;
}

struct Fixture {
  storage::MemStore store;
  std::unique_ptr<sm::StateMachine> sm;
  std::uint64_t index = 0;

  Fixture() {
    auto opened = sm::StateMachine::Open(&store);
    ASPEN_ASSERT(opened.ok());
    sm = std::move(opened).value();
  }
  sm::v1::Response Apply(const sm::v1::Command& c) {
    const std::string data = c.SerializeAsString();
    const sm::Entry e{++index, data};
    auto r = sm->ApplyAndWrite(std::span<const sm::Entry>(&e, 1));
    ASPEN_ASSERT(r.ok());
    return (*r)[0];
  }
  void Put(const std::string& k, const std::string& v) {
    sm::v1::Command c;
    c.mutable_put()->set_key(k);
    c.mutable_put()->set_value(v);
    Apply(c);
  }
  void Del(const std::string& k, const std::string& end = "") {
    sm::v1::Command c;
    c.mutable_delete_range()->set_key(k);
    c.mutable_delete_range()->set_range_end(end);
    Apply(c);
  }
  bool Compact(std::int64_t rev) {
    sm::v1::Command c;
    c.mutable_compact()->set_revision(rev);
    return !Apply(c).has_error();
  }
  void CompactAllPhysically() {
    for (int i = 0; i < 1000; ++i) {
      auto step = sm::CompactStep(*store.GetSnapshot(), 2);
      ASPEN_ASSERT(step.ok());
      ASPEN_ASSERT(store.Write(step->batch, false).ok());
      if (!step->state.pending()) return;
    }
  }
  // key -> (value, mod_revision) of the live keys in the range at `rev` (0: now).
  std::map<std::string, std::pair<std::string, std::int64_t>> State(const WatchSpec& w,
                                                                    std::int64_t rev) {
    sm::v1::RangeRequest r;
    r.set_key(w.key);
    r.set_range_end(w.range_end);
    r.set_revision(rev);
    auto got = sm::Range(*store.GetSnapshot(), r, 0);
    ASPEN_ASSERT(got.ok());
    std::map<std::string, std::pair<std::string, std::int64_t>> out;
    for (const auto& kv : got->kvs()) out[kv.key()] = {kv.value(), kv.mod_revision()};
    return out;
  }
};

std::vector<WatchMessage> Drain(WatchStream* s, std::size_t max = SIZE_MAX) {
  std::vector<WatchMessage> out;
  WatchMessage m;
  while (out.size() < max && s->Next(&m)) out.push_back(std::move(m));
  return out;
}

void RunUntilIdle(WatchHub* hub, const std::vector<WatchStream*>& streams,
                  std::map<WatchStream*, std::vector<WatchMessage>>* got) {
  for (int i = 0; i < 10000; ++i) {
    bool did = hub->RunOnce();
    for (WatchStream* s : streams) {
      for (WatchMessage& m : Drain(s)) {
        (*got)[s].push_back(std::move(m));
        did = true;
      }
    }
    if (!did) return;
  }
  FAIL() << "hub never went idle";
}

TEST(WatchHub, DeliversCreatedThenEventsInOrderWithPrevKvAndFilters) {
  Fixture f;
  f.Put("a", "0");  // 2
  WatchHub hub(Opts(&f.store));
  auto stream = hub.OpenStream(nullptr);
  ASSERT_TRUE(stream.ok());
  WatchSpec all = Spec("a", "b");
  all.prev_kv = true;
  WatchSpec no_put = Spec("a", "b");
  no_put.no_put = true;
  EXPECT_EQ((*stream)->Create(all, 0, true), 0);
  EXPECT_EQ((*stream)->Create(no_put, 0, true), 1);
  EXPECT_EQ((*stream)->Create(all, 7, false), 7);
  f.Put("a", "1");   // 3
  f.Put("ab", "2");  // 4
  f.Put("c", "3");   // 5 (outside)
  f.Del("a");        // 6
  hub.Notify(6);
  std::map<WatchStream*, std::vector<WatchMessage>> got;
  RunUntilIdle(&hub, {stream->get()}, &got);
  std::map<std::int64_t, std::vector<WatchEvent>> by_id;
  int created = 0;
  for (const WatchMessage& m : got[stream->get()]) {
    if (m.created) {
      ++created;
      EXPECT_EQ(m.revision, 2);
      EXPECT_TRUE(by_id[m.watch_id].empty()) << "created must come first";
    }
    for (const WatchEvent& e : m.events) by_id[m.watch_id].push_back(e);
  }
  EXPECT_EQ(created, 3);
  ASSERT_EQ(by_id[0].size(), 3u);
  EXPECT_EQ(by_id[0][0].kv.value(), "1");
  ASSERT_TRUE(by_id[0][0].prev_kv.has_value());
  EXPECT_EQ(by_id[0][0].prev_kv->value(), "0");
  EXPECT_EQ(by_id[0][1].kv.key(), "ab");
  EXPECT_FALSE(by_id[0][1].prev_kv.has_value());
  EXPECT_TRUE(by_id[0][2].deleted);
  EXPECT_EQ(by_id[0][2].kv.mod_revision(), 6);
  EXPECT_EQ(by_id[0][2].prev_kv->value(), "1");
  ASSERT_EQ(by_id[1].size(), 1u);  // NOPUT: the deletion only
  EXPECT_TRUE(by_id[1][0].deleted);
  EXPECT_FALSE(by_id[1][0].prev_kv.has_value());
  EXPECT_EQ(by_id[7].size(), 3u);
}

TEST(WatchHub, DuplicateIdAndBoundsAreCanceledWithAReason) {
  Fixture f;
  WatchHubOptions o = Opts(&f.store);
  o.max_watchers_per_stream = 2;
  WatchHub hub(o);
  auto stream = hub.OpenStream(nullptr);
  ASSERT_TRUE(stream.ok());
  (*stream)->Create(Spec("a"), 5, false);
  (*stream)->Create(Spec("a"), 5, false);
  (*stream)->Create(Spec("b"), 0, true);
  (*stream)->Create(Spec("c"), 0, true);
  (*stream)->Create(Spec(std::string(limits::kMaxKeyBytes + 1, 'k')), 9, false);
  std::vector<WatchMessage> m = Drain(stream->get());
  ASSERT_EQ(m.size(), 5u);
  EXPECT_TRUE(m[0].created && !m[0].canceled);
  EXPECT_TRUE(m[1].created && m[1].canceled);
  EXPECT_EQ(m[1].cancel_reason, "mvcc: duplicate watch ID provided on the WatchStream");
  EXPECT_EQ(m[2].watch_id, 0);
  EXPECT_FALSE(m[2].canceled);
  EXPECT_TRUE(m[3].canceled);
  EXPECT_NE(m[3].cancel_reason.find("limits::kMaxWatchersPerStream"), std::string::npos);
  EXPECT_TRUE(m[4].canceled);
  EXPECT_NE(m[4].cancel_reason.find("limits::kMaxKeyBytes"), std::string::npos);
  EXPECT_TRUE((*stream)->Cancel(5));
  EXPECT_FALSE((*stream)->Cancel(5));
  m = Drain(stream->get());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].canceled);
  EXPECT_EQ(m[0].watch_id, 5);

  WatchHubOptions one = Opts(&f.store);
  one.max_streams = 1;
  WatchHub small(one);
  auto first = small.OpenStream(nullptr);
  ASSERT_TRUE(first.ok());
  auto second = small.OpenStream(nullptr);
  EXPECT_EQ(second.status().code(), Code::kResourceExhausted);
}

TEST(WatchHub, WatchBelowTheCompactedRevisionIsCanceledWithCompactRevision) {
  Fixture f;
  for (int i = 0; i < 5; ++i) f.Put("k", std::to_string(i));  // 2..6
  ASSERT_TRUE(f.Compact(4));
  f.CompactAllPhysically();
  WatchHub hub(Opts(&f.store));
  auto stream = hub.OpenStream(nullptr);
  ASSERT_TRUE(stream.ok());
  (*stream)->Create(Spec("k", "", 3), 0, true);
  (*stream)->Create(Spec("k", "", 4), 0, true);
  std::map<WatchStream*, std::vector<WatchMessage>> got;
  RunUntilIdle(&hub, {stream->get()}, &got);
  const auto& m = got[stream->get()];
  ASSERT_GE(m.size(), 3u);
  bool canceled0 = false;
  std::vector<std::string> values1;
  for (const WatchMessage& x : m) {
    if (x.watch_id == 0 && x.canceled) {
      canceled0 = true;
      EXPECT_EQ(x.compact_revision, 4);
      EXPECT_EQ(x.cancel_reason, "mvcc: required revision has been compacted");
    }
    if (x.watch_id == 1) {
      EXPECT_FALSE(x.canceled);
      for (const WatchEvent& e : x.events) values1.push_back(e.kv.value());
    }
  }
  EXPECT_TRUE(canceled0);
  EXPECT_EQ(values1, (std::vector<std::string>{"2", "3", "4"}));
}

TEST(WatchHub, ProgressAnswersTheRevisionEveryWatcherReachedAndCompactionWaitersFire) {
  Fixture f;
  f.Put("a", "1");  // 2
  WatchHub hub(Opts(&f.store));
  auto stream = hub.OpenStream(nullptr);
  ASSERT_TRUE(stream.ok());
  (*stream)->Create(Spec("a"), 0, true);
  f.Put("a", "2");  // 3
  std::map<WatchStream*, std::vector<WatchMessage>> got;
  RunUntilIdle(&hub, {stream->get()}, &got);
  (*stream)->RequestProgress();
  std::vector<WatchMessage> m = Drain(stream->get());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].watch_id, -1);
  EXPECT_EQ(m[0].revision, 3);
  EXPECT_TRUE(m[0].events.empty());

  Status fired = Status::Internal("not yet");
  hub.WhenCompacted(3, [&](Status s) { fired = s; });
  hub.RunOnce();
  EXPECT_EQ(fired.code(), Code::kInternal);
  ASSERT_TRUE(f.Compact(3));
  f.CompactAllPhysically();
  hub.RunOnce();
  EXPECT_TRUE(fired.ok());
}

// The watch property: a watcher from revision R, whatever its buffer size
// and however late its stream is drained, gets events that turn the state at
// R-1 into the current state, in revision order, without duplicates.
RC_GTEST_PROP(WatchHub, EventsFromRevisionRTurnTheStateAtRMinusOneIntoTheCurrentState, ()) {
  Fixture f;
  const std::size_t buffer = *rc::gen::inRange<std::size_t>(1, 6);
  WatchHubOptions o = Opts(&f.store);
  o.max_buffer_events = buffer;
  WatchHub hub(o);
  auto opened = hub.OpenStream(nullptr);
  RC_ASSERT(opened.ok());
  WatchStream* stream = opened->get();
  const std::vector<std::string> keys = {"a", "ab", "b", "c"};
  struct Expect {
    WatchSpec spec;
    std::map<std::string, std::pair<std::string, std::int64_t>> base;
  };
  std::map<std::int64_t, Expect> watchers;
  std::vector<WatchMessage> got;
  bool compacted = false;
  const int steps = *rc::gen::inRange(1, 60);
  for (int i = 0; i < steps; ++i) {
    const int what = *rc::gen::inRange(0, 100);
    if (what < 45) {
      f.Put(*rc::gen::elementOf(keys), std::to_string(i));
    } else if (what < 55) {
      f.Del(*rc::gen::elementOf(keys), *rc::gen::elementOf(std::vector<std::string>{"", "b", "d"}));
    } else if (what < 70 && watchers.size() < 8) {
      WatchSpec spec;
      spec.key = *rc::gen::elementOf(keys);
      spec.range_end =
          *rc::gen::elementOf(std::vector<std::string>{"", "b", "d", std::string(1, '\0')});
      spec.prev_kv = *rc::gen::arbitrary<bool>();
      const std::int64_t current = f.sm->revision();
      const std::int64_t floor = std::max<std::int64_t>(f.sm->compact_revision(), 1);
      spec.start_revision = *rc::gen::inRange<std::int64_t>(0, 2) == 0
                                ? 0
                                : *rc::gen::inRange(floor + 1, current + 2);
      const std::int64_t base_rev = spec.start_revision == 0 ? current : spec.start_revision - 1;
      Expect e{spec, f.State(spec, base_rev)};
      const std::int64_t id = stream->Create(spec, 0, true);
      watchers[id] = std::move(e);
    } else if (what < 75 && f.sm->revision() > 3) {
      compacted = f.Compact(*rc::gen::inRange<std::int64_t>(1, f.sm->revision())) || compacted;
    } else if (what < 88) {
      hub.Notify(f.sm->revision());
      hub.RunOnce();
    } else {
      for (WatchMessage& m : Drain(stream, *rc::gen::inRange<std::size_t>(0, 4))) {
        got.push_back(std::move(m));
      }
    }
  }
  std::map<WatchStream*, std::vector<WatchMessage>> rest;
  RunUntilIdle(&hub, {stream}, &rest);
  for (WatchMessage& m : rest[stream]) got.push_back(std::move(m));

  std::map<std::int64_t, std::vector<WatchEvent>> events;
  std::set<std::int64_t> canceled;
  for (const WatchMessage& m : got) {
    if (m.canceled) {
      RC_ASSERT(m.compact_revision > 0);  // only compaction cancels here
      canceled.insert(m.watch_id);
    }
    for (const WatchEvent& e : m.events) events[m.watch_id].push_back(e);
  }
  RC_ASSERT(compacted || canceled.empty());
  for (auto& [id, w] : watchers) {
    if (canceled.contains(id)) continue;
    std::map<std::string, std::pair<std::string, std::int64_t>> state = w.base;
    std::int64_t last = 0;
    std::set<std::pair<std::int64_t, std::string>> seen;
    for (const WatchEvent& e : events[id]) {
      RC_ASSERT(e.kv.mod_revision() >= last);
      last = e.kv.mod_revision();
      RC_ASSERT(seen.insert({last, e.kv.key()}).second);
      if (w.spec.prev_kv) {
        auto it = state.find(e.kv.key());
        RC_ASSERT(e.prev_kv.has_value() == (it != state.end()));
        if (it != state.end()) RC_ASSERT(e.prev_kv->value() == it->second.first);
      }
      if (e.deleted) {
        state.erase(e.kv.key());
      } else {
        state[e.kv.key()] = {e.kv.value(), e.kv.mod_revision()};
      }
    }
    RC_ASSERT(state == f.State(w.spec, 0));
  }
}

TEST(WatchHub, AppliesDoNotWakeAHubWithoutStreamsButAnOpenedStreamCatchesUp) {
  Fixture f;
  WatchHub hub(Opts(&f.store));
  hub.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const std::uint64_t steps_before = hub.Stats().steps;
  for (int i = 0; i < 50; ++i) {
    f.Put("k" + std::to_string(i), "v");
    hub.Notify(f.sm->revision());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // A woken hub would have run about one round per apply; the 500 ms idle
  // timer may run one.
  EXPECT_LE(hub.Stats().steps - steps_before, 2u);

  auto stream = hub.OpenStream(nullptr);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  (*stream)->Create(Spec("w"), 0, true);
  f.Put("w", "after");
  hub.Notify(f.sm->revision());
  std::vector<WatchMessage> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (WatchMessage& m : Drain(stream->get())) got.push_back(std::move(m));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0].created);
  ASSERT_EQ(got[1].events.size(), 1u);
  EXPECT_EQ(got[1].events[0].kv.key(), "w");
  EXPECT_EQ(got[1].events[0].kv.mod_revision(), f.sm->revision());
  hub.Stop();
}

}  // namespace
}  // namespace aspen::node
