// Internal to the bench runner: connections, per-client state and the
// completion-queue worker that drives them.
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/channel.h>
#include <grpcpp/completion_queue.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/bench/runner.h"
#include "etcdserverpb/kv.grpc.pb.h"
#include "etcdserverpb/lease.grpc.pb.h"

namespace aspen::client::bench {

// One gRPC connection. Stubs are thread-safe; shared by the slots using it.
struct BenchConn {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
};

// State shared by every worker of one phase.
struct PhaseShared {
  using Clock = std::chrono::steady_clock;

  PhaseShared(const BenchConfig& c, bool sequential);
  // Fixes the start (and end) time; call right before the workers start.
  void Begin();

  const BenchConfig& config;
  const bool sequential_keys;  // key of op n is n (prefill) instead of random
  const std::string value;
  Clock::time_point start;
  Clock::time_point end;                  // duration mode only
  std::atomic<std::uint64_t> tickets{0};  // ops started, total mode
  std::atomic<std::uint64_t> done_ops{0};
  std::atomic<std::uint64_t> done_errors{0};
  std::atomic<int> finished_workers{0};
};

// A small fast PRNG (xorshift64*); each client has its own.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : x_(seed * 0x9E3779B97F4A7C15ull | 1) {}
  std::uint64_t Next() {
    x_ ^= x_ >> 12;
    x_ ^= x_ << 25;
    x_ ^= x_ >> 27;
    return x_ * 0x2545F4914F6CDD1Dull;
  }
  std::uint64_t Below(std::uint64_t n) { return Next() % n; }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t x_;
};

enum class Step { kPut, kRange, kTxn, kGrant };

struct Slot;
// Completion-queue tag: which slot, and whether an RPC or a timer completed.
struct Tag {
  Slot* slot;
  bool is_alarm;
};

// One logical client: at most one operation in flight.
struct Slot {
  Slot(int client_index, BenchConn* connection, std::uint64_t seed)
      : index(client_index),
        conn(connection),
        rng(seed + static_cast<std::uint64_t>(client_index)) {}

  const int index;
  BenchConn* const conn;
  Rng rng;
  Tag rpc_tag{this, false};
  Tag alarm_tag{this, true};
  std::uint64_t started = 0;                // ops this client started (open-loop schedule)
  std::uint64_t ticket = 0;                 // global number of the current op (total mode)
  PhaseShared::Clock::time_point op_start;  // scheduled start of the current op
  Step step = Step::kPut;
  std::uint64_t key_index = 0;
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::Alarm> alarm;
  grpc::Status status;
  etcdserverpb::PutRequest put_req;
  etcdserverpb::PutResponse put_resp;
  etcdserverpb::RangeRequest range_req;
  etcdserverpb::RangeResponse range_resp;
  etcdserverpb::TxnRequest txn_req;
  etcdserverpb::TxnResponse txn_resp;
  etcdserverpb::LeaseGrantRequest grant_req;
  etcdserverpb::LeaseGrantResponse grant_resp;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::PutResponse>> put_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::RangeResponse>> range_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::TxnResponse>> txn_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<etcdserverpb::LeaseGrantResponse>> grant_reader;
  // txn-cas: last mod_revision seen per key index (bounded; cleared when full).
  std::unordered_map<std::uint64_t, std::int64_t> cas_revision;
};

// Drives its slots on one completion queue from one thread (Run). Everything
// but the PhaseShared atomics is touched only by that thread.
class Worker {
 public:
  explicit Worker(PhaseShared& shared) : shared_(shared) {}
  void AddSlot(Slot* slot) { slots_.push_back(slot); }
  // Starts every slot and processes completions until all slots retired.
  void Run();
  // Adds this worker's counts and histogram to *result (after Run returned).
  void MergeInto(BenchResult* result) const;
  PhaseShared::Clock::time_point last_completion() const { return last_completion_; }

 private:
  void Schedule(Slot& slot);
  void StartOp(Slot& slot);
  void OnRpcDone(Slot& slot);
  void Complete(Slot& slot, const grpc::Status& status);
  void Retire();
  void NewContext(Slot& slot);
  void SendPut(Slot& slot, const std::string& key, std::int64_t lease);
  void SendRange(Slot& slot, const std::string& key, const std::string& range_end);
  void SendTxnCas(Slot& slot, const std::string& key);
  void SendGrant(Slot& slot);
  void OnTxnDone(Slot& slot);

  PhaseShared& shared_;
  std::vector<Slot*> slots_;
  grpc::CompletionQueue cq_;
  std::size_t active_ = 0;
  Histogram latency_ns_;
  std::uint64_t ops_ = 0;
  std::uint64_t errors_ = 0;
  std::uint64_t txn_succeeded_ = 0;
  std::uint64_t txn_failed_ = 0;
  std::map<std::string, std::uint64_t> errors_by_code_;
  std::map<std::string, std::string> first_error_;
  PhaseShared::Clock::time_point last_completion_{};
};

}  // namespace aspen::client::bench
