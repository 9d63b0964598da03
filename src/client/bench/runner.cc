#include "client/bench/runner.h"

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <atomic>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "client/bench/slot.h"
#include "client/client.h"
#include "client/grpc_status.h"

namespace aspen::client::bench {

namespace {

// The largest response a bench connection accepts (a range of 100 big values).
constexpr int kMaxRecvBytes = 256 * 1024 * 1024;

Result<std::vector<std::unique_ptr<BenchConn>>> Connect(const BenchConfig& config) {
  std::vector<std::unique_ptr<BenchConn>> conns;
  for (int i = 0; i < config.conns; ++i) {
    const std::string& target =
        config.endpoints[static_cast<std::size_t>(i) % config.endpoints.size()];
    grpc::ChannelArguments args;
    // A private subchannel pool: every channel opens its own TCP connection
    // instead of sharing one with channels to the same target.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(kMaxRecvBytes);
    auto conn = std::make_unique<BenchConn>();
    conn->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    if (!conn->channel->WaitForConnected(std::chrono::system_clock::now() + config.dial_timeout)) {
      return Status::Unavailable("connection " + std::to_string(i) + " to " + target +
                                 " not established within " +
                                 std::to_string(config.dial_timeout.count()) + " ms");
    }
    conn->kv = etcdserverpb::KV::NewStub(conn->channel);
    conn->lease = etcdserverpb::Lease::NewStub(conn->channel);
    conns.push_back(std::move(conn));
  }
  return conns;
}

// Runs one phase (the prefill or the measured run) to completion.
BenchResult RunPhase(const BenchConfig& config, bool sequential_keys,
                     const std::vector<std::unique_ptr<BenchConn>>& conns,
                     const ProgressFn& progress) {
  PhaseShared shared(config, sequential_keys);
  const int worker_count = std::min(config.threads, config.clients);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < worker_count; ++w) workers.push_back(std::make_unique<Worker>(shared));
  std::vector<std::unique_ptr<Slot>> slots;
  for (int i = 0; i < config.clients; ++i) {
    auto slot = std::make_unique<Slot>(i, conns[static_cast<std::size_t>(i) % conns.size()].get(),
                                       config.seed);
    workers[static_cast<std::size_t>(i % worker_count)]->AddSlot(slot.get());
    slots.push_back(std::move(slot));
  }
  shared.Begin();
  std::vector<std::thread> threads;
  for (auto& worker : workers) threads.emplace_back([&worker] { worker->Run(); });
  auto next_report = PhaseShared::Clock::now() + std::chrono::seconds(1);
  while (shared.finished_workers.load() < worker_count) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto now = PhaseShared::Clock::now();
    if (progress && now >= next_report) {
      next_report += std::chrono::seconds(1);
      progress(std::chrono::duration<double>(now - shared.start).count(), shared.done_ops.load(),
               shared.done_errors.load());
    }
  }
  for (std::thread& t : threads) t.join();
  BenchResult result;
  PhaseShared::Clock::time_point last = shared.start;
  for (auto& worker : workers) {
    worker->MergeInto(&result);
    last = std::max(last, worker->last_completion());
  }
  result.elapsed_s = std::chrono::duration<double>(last - shared.start).count();
  return result;
}

}  // namespace

Result<BenchResult> RunBench(const BenchConfig& config, const ProgressFn& progress) {
  ASPEN_RETURN_IF_ERROR(Validate(config));
  Result<std::vector<std::unique_ptr<BenchConn>>> conns = Connect(config);
  if (!conns.ok()) return conns.status();
  if (config.prefill) {
    BenchConfig fill = config;
    fill.workload = Workload::kPut;
    fill.total = config.keys;
    fill.duration_s = 0;
    fill.rate = 0;
    const BenchResult filled = RunPhase(fill, /*sequential_keys=*/true, *conns, nullptr);
    if (filled.errors > 0) {
      const auto& [code, message] = *filled.first_error.begin();
      return Status::Unavailable("prefill failed: " + std::to_string(filled.errors) +
                                 " puts failed, first " + code + ": " + message);
    }
  }
  return RunPhase(config, /*sequential_keys=*/false, *conns, progress);
}

}  // namespace aspen::client::bench
