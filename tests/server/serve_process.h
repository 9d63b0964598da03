// Test support for process-level server tests: `aspen serve` members on
// free loopback ports, and running a program (etcdctl) with given stdin.
//
// Thread safety: none; use from the test's thread.
#pragma once

#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proc/etcd_fixture.h"

namespace aspen::testing {

struct ProgramRun {
  int exit_code = -1;  // -1: could not start or killed at the deadline
  std::string out;
  std::string err;
};

// Runs argv (argv[0] an absolute path) with `input` on stdin; kills it after
// `timeout`. `env` entries ("K=V") are added to the environment.
ProgramRun RunProgram(const std::vector<std::string>& argv, const std::string& input = "",
                      std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      const std::vector<std::string>& env = {});

// Ports of one member.
struct MemberPorts {
  int client = 0, peer = 0, metrics = 0;
  std::string client_endpoint() const { return "127.0.0.1:" + std::to_string(client); }
  std::string peer_url() const { return "http://127.0.0.1:" + std::to_string(peer); }
};
MemberPorts PickMemberPorts();

// One `aspen serve` process (binary: ASPEN_BINARY).
class AspenMember {
 public:
  // Starts `aspen serve --name name --data-dir dir ...ports... extra`, and
  // waits (up to start_timeout) until its client port answers
  // Maintenance.Status; returns Unavailable with the log tail otherwise.
  // `wait_ready` false: return right after spawning.
  static Result<std::unique_ptr<AspenMember>> Start(
      const std::string& name, const std::string& data_dir, const MemberPorts& ports,
      const std::vector<std::string>& extra, bool wait_ready = true,
      std::chrono::milliseconds start_timeout = std::chrono::seconds(20));
  ~AspenMember();

  const MemberPorts& ports() const { return ports_; }
  std::string endpoint() const { return ports_.client_endpoint(); }
  ChildProcess& process() { return *process_; }
  void Kill() { process_->Stop(SIGKILL, std::chrono::milliseconds(0)); }
  std::string Log() const;

 private:
  AspenMember() = default;
  MemberPorts ports_;
  std::string log_path_;
  std::unique_ptr<ChildProcess> process_;
};

// Members n0..n<size-1> of one new cluster (--initial-cluster of all of them,
// --initial-cluster-token `token`, plus `extra`), data in DIR/n<i>, started
// together and not waited for (a lone member of a new cluster has no leader).
struct AspenCluster {
  std::vector<MemberPorts> ports;
  std::vector<std::unique_ptr<AspenMember>> members;
  std::vector<std::string> endpoints;  // client endpoints, by member
  // "host:port,host:port,..." for --endpoints.
  std::string JoinedEndpoints() const;

  static Result<AspenCluster> Start(const std::string& dir, int size,
                                    const std::string& token = "t1",
                                    const std::vector<std::string>& extra = {});
};

// etcdctl (ETCDCTL_API=3) against `endpoint` with `args`.
ProgramRun Etcdctl(const std::string& endpoint, const std::vector<std::string>& args,
                   const std::string& input = "");

}  // namespace aspen::testing
