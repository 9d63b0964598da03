#include "server/stream_threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace aspen::server {
namespace {

using namespace std::chrono_literals;

TEST(StreamThreadsTest, StopCancelsRunningTasksAndJoinsThemBeforeReturning) {
  StreamThreads threads;
  std::atomic<int> started{0};
  std::atomic<int> ended{0};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(threads.Start([&](const std::atomic<bool>& cancelled) {
      started.fetch_add(1);
      while (!cancelled.load()) std::this_thread::sleep_for(1ms);
      std::this_thread::sleep_for(20ms);  // work after the cancel is waited for too
      ended.fetch_add(1);
    }));
  }
  while (started.load() < 3) std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(threads.stopping());
  threads.Stop();
  EXPECT_TRUE(threads.stopping());
  EXPECT_EQ(ended.load(), 3);
}

TEST(StreamThreadsTest, StartAfterStopRefusesWithoutRunningTheTask) {
  StreamThreads threads;
  threads.Stop();
  bool ran = false;
  EXPECT_FALSE(threads.Start([&](const std::atomic<bool>&) { ran = true; }));
  threads.Stop();  // idempotent
  EXPECT_FALSE(ran);
}

TEST(StreamThreadsTest, ManyShortTasksRunToTheirEndUncancelled) {
  StreamThreads threads;
  std::atomic<int> done{0};
  std::atomic<int> saw_cancel{0};
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(threads.Start([&](const std::atomic<bool>& cancelled) {
      if (cancelled.load()) saw_cancel.fetch_add(1);
      done.fetch_add(1);
    }));
  }
  while (done.load() < 200) std::this_thread::sleep_for(1ms);
  threads.Stop();
  EXPECT_EQ(saw_cancel.load(), 0);
}

}  // namespace
}  // namespace aspen::server
