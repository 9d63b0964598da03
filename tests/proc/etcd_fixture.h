// Test support: child processes and a real single-node etcd on loopback.
//
// EtcdProcess starts /usr/bin/etcd (Debian etcd-server) in a fresh temporary
// data dir on free 127.0.0.1 ports, waits (bounded) until it answers
// Maintenance.Status over gRPC, and at destruction kills it and removes the
// data dir. Nothing ever listens on a non-loopback address. The same helpers
// are meant for later tests that start Aspen processes.
//
// Thread safety: none; use each object from one thread (the test's).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace aspen::testing {

// A TCP port on 127.0.0.1 that was free when this returned (bound to port 0,
// read back, closed). Another process may take it before the caller binds it,
// so callers retry on conflict. Returns Unavailable when no socket can be bound.
Result<int> PickFreeLoopbackPort();

// A child process started with fork+exec. Its stdin is /dev/null; stdout is
// appended to log_path, stderr to err_path (to log_path when err_path is empty). The child gets
// SIGKILL if the thread that spawned it dies (PR_SET_PDEATHSIG), so a crashed test leaves no
// orphan. Destroying a still-running ChildProcess kills it with SIGKILL and reaps it.
class ChildProcess {
 public:
  // argv[0] is the executable path (no PATH search). Returns IOError when the
  // log cannot be opened or fork fails. A failing exec shows up as exit code 127.
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                     const std::string& log_path,
                                                     const std::string& err_path = "");
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True until the process has exited (reaps it without blocking).
  bool Running();
  // Waits up to timeout for the exit. Returns the exit code, 128+signal for a
  // signal death, or nullopt when it is still running at the deadline.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Sends signal; then waits up to grace for the exit and sends SIGKILL if it
  // is still running. Always reaps the process.
  void Stop(int signal, std::chrono::milliseconds grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> exit_code_;
};

struct EtcdOptions {
  std::string binary = "/usr/bin/etcd";
  std::chrono::milliseconds start_timeout{20000};  // until Status answers
  std::vector<std::string> extra_flags;            // e.g. "--max-txn-ops=4"
};

class EtcdProcess {
 public:
  // Starts etcd and waits until it is healthy. Retries with new ports (at most
  // 3 attempts) when etcd exits early, e.g. because a port was taken. Returns
  // Unavailable (with the tail of etcd's log) when it never becomes healthy.
  static Result<std::unique_ptr<EtcdProcess>> Start(EtcdOptions options = {});
  // Stops etcd (SIGTERM, then SIGKILL) and removes the data dir.
  ~EtcdProcess();
  EtcdProcess(const EtcdProcess&) = delete;
  EtcdProcess& operator=(const EtcdProcess&) = delete;

  // "127.0.0.1:<client port>", a gRPC target.
  const std::string& endpoint() const { return endpoint_; }
  const std::string& data_dir() const { return data_dir_; }
  // SIGKILL now (for failover tests); the data dir stays until destruction.
  void Kill();
  bool Running() { return process_ != nullptr && process_->Running(); }
  // The last max_bytes of etcd's stdout+stderr, for failure messages.
  std::string LogTail(std::size_t max_bytes = 4096) const;

 private:
  EtcdProcess() = default;
  Status TryStart(const EtcdOptions& options);

  std::string data_dir_;  // owned temp dir, removed at destruction
  std::string log_path_;  // outside data_dir_ so etcd never sees it
  std::string endpoint_;
  std::unique_ptr<ChildProcess> process_;
};

// A new cluster of `members` etcd processes on loopback, named m0, m1, ...
// (one --initial-cluster), for differential tests against a replicated etcd.
class EtcdCluster {
 public:
  // Starts every member and waits until all agree on a leader. Retries with
  // new ports and data dirs (at most 3 attempts) when a member exits early.
  // Unavailable (with the members' log tails) when no attempt became healthy.
  static Result<std::unique_ptr<EtcdCluster>> Start(int members, EtcdOptions options = {});
  // Stops every member (SIGTERM, then SIGKILL) and removes the data dirs.
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // "127.0.0.1:<client port>" of each member, in name order.
  const std::vector<std::string>& endpoints() const { return endpoints_; }
  // The endpoint of a member that is not the leader ("" if none answers).
  std::string FollowerEndpoint() const;
  std::string LogTails(std::size_t max_bytes = 2048) const;

 private:
  EtcdCluster() = default;
  Status TryStart(int members, const EtcdOptions& options);
  void StopAll();

  std::string dir_;  // owned temp dir: data dirs and logs
  std::vector<std::string> endpoints_;
  std::vector<std::string> logs_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

// A fresh empty directory under $TMPDIR (or /tmp) named prefix-XXXXXX,
// removed with everything in it when the test process exits, unless a test
// failed or ASPEN_KEEP_TEST_DIRS is set.
Result<std::string> MakeTempDir(const std::string& prefix);

}  // namespace aspen::testing
