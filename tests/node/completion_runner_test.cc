// CompletionRunner: the Ready loop's reply thread (node/completion_runner.h).
#include "node/completion_runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

namespace aspen::node {
namespace {

using Batch = std::vector<CompletionRunner::Completion>;

TEST(CompletionRunner, RunsBatchesInSubmissionOrderOffTheCallersThread) {
  CompletionRunner runner(64);
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  for (int b = 0; b < 20; ++b) {
    Batch batch;
    for (int i = 0; i < 5; ++i) {
      batch.push_back([&, v = b * 5 + i] {
        std::lock_guard lock(mu);
        order.push_back(v);
        threads.push_back(std::this_thread::get_id());
      });
    }
    ASSERT_TRUE(runner.Submit(&batch));
    EXPECT_TRUE(batch.empty());
  }
  runner.Stop();  // runs what is queued
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  for (std::thread::id t : threads) EXPECT_NE(t, std::this_thread::get_id());
}

TEST(CompletionRunner, FullQueueRefusesAndLeavesTheBatchToTheCallerAndIdleTracksWork) {
  CompletionRunner runner(1);
  EXPECT_TRUE(runner.Idle());
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  Batch blocking{[&] {
    started.set_value();
    released.wait();
  }};
  ASSERT_TRUE(runner.Submit(&blocking));
  started.get_future().wait();
  EXPECT_FALSE(runner.Idle());  // running
  std::atomic<int> ran{0};
  Batch queued{[&] { ran.fetch_add(1); }};
  ASSERT_TRUE(runner.Submit(&queued));  // the one slot
  Batch refused{[&] { ran.fetch_add(10); }};
  EXPECT_FALSE(runner.Submit(&refused));
  ASSERT_EQ(refused.size(), 1u);  // untouched: the caller runs it
  release.set_value();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!runner.Idle() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(runner.Idle());
  EXPECT_EQ(ran.load(), 1);
}

TEST(CompletionRunner, SubmitAfterStopIsRefused) {
  CompletionRunner runner(8);
  runner.Stop();
  runner.Stop();  // idempotent
  Batch b{[] {}};
  EXPECT_FALSE(runner.Submit(&b));
  EXPECT_EQ(b.size(), 1u);
}

}  // namespace
}  // namespace aspen::node
