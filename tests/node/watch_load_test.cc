// Many watchers on one prefix (10,000 over 10 streams) while writing: every
// watcher gets every event exactly once and in order, buffers stay within
// their bounds (slow streams are demoted and caught up from the history),
// and apply never waits for the hub. Apply latencies with and without the
// watchers are printed (numbers only; bench/bench_watch.cc measures them).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "node/watch_hub.h"
#include "sm/state_machine.h"
#include "storage/mem_store.h"

namespace aspen::node {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStreams = 10;
constexpr int kWatchersPerStream = 1000;
constexpr int kWrites = 200;

struct Writer {
  storage::MemStore store;
  std::unique_ptr<sm::StateMachine> sm = sm::StateMachine::Open(&store).value();
  std::uint64_t index = 0;
  // Applies one put and returns how long apply + write + notify took.
  std::chrono::nanoseconds Put(int i, WatchHub* hub) {
    sm::v1::Command c;
    c.mutable_put()->set_key("p/" + std::to_string(i % 50));
    c.mutable_put()->set_value(std::string(100, 'v'));
    const std::string data = c.SerializeAsString();
    const sm::Entry e{++index, data};
    const auto start = Clock::now();
    auto r = sm->ApplyAndWrite(std::span<const sm::Entry>(&e, 1));
    if (hub != nullptr) hub->Notify(sm->revision());
    const auto took = Clock::now() - start;
    EXPECT_TRUE(r.ok());
    return took;
  }
};

std::chrono::nanoseconds Percentile(std::vector<std::chrono::nanoseconds> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

TEST(WatchLoad, TenThousandWatchersOnOnePrefixGetEveryEventOnce) {
  Writer base;
  std::vector<std::chrono::nanoseconds> without;
  for (int i = 0; i < kWrites; ++i) without.push_back(base.Put(i, nullptr));

  Writer w;
  WatchHubOptions o;
  o.store = &w.store;
  o.max_buffer_events = 16;  // small: slow streams get demoted and caught up
  WatchHub hub(o);
  hub.Start();
  std::vector<std::unique_ptr<WatchStream>> streams;
  for (int s = 0; s < kStreams; ++s) {
    auto opened = hub.OpenStream(nullptr);
    ASSERT_TRUE(opened.ok());
    WatchSpec spec;
    spec.key = "p/";
    spec.range_end = "p0";
    for (int i = 0; i < kWatchersPerStream; ++i) (*opened)->Create(spec, 0, true);
    streams.push_back(std::move(opened).value());
  }
  // Consumers: one thread drains every stream, the odd ones slowly.
  std::vector<std::vector<std::int64_t>> last(kStreams,
                                              std::vector<std::int64_t>(kWatchersPerStream, 0));
  std::vector<std::vector<int>> count(kStreams, std::vector<int>(kWatchersPerStream, 0));
  std::atomic<bool> done{false};
  std::atomic<int> order_errors{0};
  std::thread consumer([&] {
    WatchMessage m;
    while (!done.load()) {
      bool any = false;
      for (int s = 0; s < kStreams; ++s) {
        const int budget = s % 2 == 1 ? 50 : 100000;
        for (int n = 0; n < budget && streams[static_cast<std::size_t>(s)]->Next(&m); ++n) {
          any = true;
          if (m.watch_id < 0 || m.watch_id >= kWatchersPerStream) continue;
          auto& l = last[static_cast<std::size_t>(s)][static_cast<std::size_t>(m.watch_id)];
          for (const WatchEvent& e : m.events) {
            if (e.kv.mod_revision() <= l) order_errors.fetch_add(1);
            l = e.kv.mod_revision();
            ++count[static_cast<std::size_t>(s)][static_cast<std::size_t>(m.watch_id)];
          }
        }
      }
      if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::vector<std::chrono::nanoseconds> with;
  for (int i = 0; i < kWrites; ++i) with.push_back(w.Put(i, &hub));

  const auto deadline = Clock::now() + std::chrono::seconds(120);
  auto all_done = [&] {
    for (auto& per : count) {
      for (int c : per) {
        if (c < kWrites) return false;
      }
    }
    return true;
  };
  while (!all_done() && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  done = true;
  consumer.join();
  const WatchHubStats st = hub.Stats();
  hub.Stop();
  EXPECT_EQ(order_errors.load(), 0);
  for (auto& per : count) {
    for (int c : per) ASSERT_EQ(c, kWrites);
  }
  EXPECT_EQ(st.synced + st.unsynced, static_cast<std::size_t>(kStreams * kWatchersPerStream));
  std::printf(
      "apply+write+notify latency, %d puts: without watchers p50 %.1f us p99 %.1f us; with "
      "%d watchers p50 %.1f us p99 %.1f us; demoted %llu times\n",
      kWrites, Percentile(without, 0.5).count() / 1e3, Percentile(without, 0.99).count() / 1e3,
      kStreams * kWatchersPerStream, Percentile(with, 0.5).count() / 1e3,
      Percentile(with, 0.99).count() / 1e3, static_cast<unsigned long long>(st.demoted));
}

}  // namespace
}  // namespace aspen::node
