// `aspen serve`: runs one Aspen member until SIGTERM or SIGINT.
//
// Flags follow etcd's names (docs/OPERATIONS.md). With --config-file, the
// TOML file is read first and flags given on the command line override it.
// Exit codes: 0 after a clean shutdown, 1 for bad flags or config, 2 when the
// server cannot start (busy port, locked or foreign data dir, storage error).
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <mutex>
#include <string>

#include "cli/commands.h"
#include "server/config.h"
#include "server/server.h"

namespace aspen::cli {

namespace {

struct ServeFlags {
  server::ServeConfig config;
  std::string config_file;
  std::string listen_client_urls, advertise_client_urls, listen_peer_urls;
  std::string initial_advertise_peer_urls, listen_metrics_urls;
};

void LogLine(std::string_view line) {
  static std::mutex mu;
  const std::time_t now = std::time(nullptr);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::lock_guard lock(mu);
  std::cerr << ts << " aspen: " << line << std::endl;
}

// Applies the config file, then every flag the user gave (flags win).
Status BuildConfig(CLI::App* cmd, ServeFlags& f, server::ServeConfig* out) {
  server::ServeConfig c;
  if (!f.config_file.empty()) ASPEN_RETURN_IF_ERROR(server::LoadConfigFile(f.config_file, &c));
  auto given = [&](const char* flag) { return cmd->count(flag) > 0; };
  if (given("--name")) c.name = f.config.name;
  if (given("--data-dir")) c.data_dir = f.config.data_dir;
  if (given("--listen-client-urls")) c.listen_client_urls = server::SplitList(f.listen_client_urls);
  if (given("--advertise-client-urls")) {
    c.advertise_client_urls = server::SplitList(f.advertise_client_urls);
  }
  if (given("--listen-peer-urls")) c.listen_peer_urls = server::SplitList(f.listen_peer_urls);
  if (given("--initial-advertise-peer-urls")) {
    c.initial_advertise_peer_urls = server::SplitList(f.initial_advertise_peer_urls);
  }
  if (given("--initial-cluster")) c.initial_cluster = f.config.initial_cluster;
  if (given("--initial-cluster-state")) c.initial_cluster_state = f.config.initial_cluster_state;
  if (given("--initial-cluster-token")) c.initial_cluster_token = f.config.initial_cluster_token;
  if (given("--listen-metrics-urls")) {
    c.listen_metrics_urls = server::SplitList(f.listen_metrics_urls);
  }
  if (given("--heartbeat-interval")) c.heartbeat_interval_ms = f.config.heartbeat_interval_ms;
  if (given("--election-timeout")) c.election_timeout_ms = f.config.election_timeout_ms;
  if (given("--auto-compaction-mode")) c.auto_compaction_mode = f.config.auto_compaction_mode;
  if (given("--auto-compaction-retention")) {
    c.auto_compaction_retention = f.config.auto_compaction_retention;
  }
  if (given("--auto-compaction-interval")) {
    c.auto_compaction_interval_ms = f.config.auto_compaction_interval_ms;
  }
  if (given("--snapshot-count")) c.snapshot_count = f.config.snapshot_count;
  if (given("--snapshot-catchup-entries")) {
    c.snapshot_catchup_entries = f.config.snapshot_catchup_entries;
  }
  if (given("--max-snapshot-bytes")) c.max_snapshot_bytes = f.config.max_snapshot_bytes;
  if (given("--quota-backend-bytes")) c.quota_backend_bytes = f.config.quota_backend_bytes;
  if (given("--peer-stream")) c.peer_stream = f.config.peer_stream;
  ASPEN_RETURN_IF_ERROR(server::ValidateConfig(c));
  *out = std::move(c);
  return Status::Ok();
}

// `aspen serve`'s exit code when this member was removed from the cluster
// (docs/OPERATIONS.md): a supervisor should not restart it.
constexpr int kExitRemoved = 3;

int RunServe(CLI::App* cmd, ServeFlags& f) {
  server::ServeConfig config;
  if (Status s = BuildConfig(cmd, f, &config); !s.ok()) {
    std::cerr << "aspen serve: " << s.message() << "\n";
    return 1;
  }
  // Every thread the server starts inherits this mask, so SIGTERM/SIGINT
  // reach only sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  Result<std::unique_ptr<server::Server>> server = server::Server::Start(config, LogLine);
  if (!server.ok()) {
    std::cerr << "aspen serve: " << server.status().message() << "\n";
    return 2;
  }
  // Wait for a signal, or for this member to learn it was removed from the
  // cluster (then exit kExitRemoved, as etcd's removed member exits).
  int sig = 0;
  const timespec poll{0, 100 * 1000 * 1000};
  while (sig == 0) {
    const int got = sigtimedwait(&signals, nullptr, &poll);
    if (got > 0) sig = got;
    if (sig == 0 && (*server)->removed()) break;
  }
  if (sig != 0) {
    LogLine(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
  }
  (*server)->Stop();
  server->reset();
  if (sig == 0) {
    LogLine("stopped: the member has been permanently removed from the cluster");
    std::cerr << "aspen serve: the member has been permanently removed from the cluster\n";
    return kExitRemoved;
  }
  LogLine("stopped");
  return 0;
}

}  // namespace

void RegisterServeCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd =
      app.add_subcommand("serve", "Run an Aspen member (etcd v3 API on the client port)");
  ServeFlags& f = *flags;
  cmd->add_option("--config-file", f.config_file, "TOML file with the settings below");
  cmd->add_option("--name", f.config.name, "Member name (default: default)");
  cmd->add_option("--data-dir", f.config.data_dir, "Data directory (default: aspen-data)");
  cmd->add_option("--listen-client-urls", f.listen_client_urls,
                  "URLs for the etcd v3 gRPC API (default: http://127.0.0.1:2379)");
  cmd->add_option("--advertise-client-urls", f.advertise_client_urls,
                  "Client URLs shown to others (default: the listen URLs)");
  cmd->add_option("--listen-peer-urls", f.listen_peer_urls,
                  "URLs for raft traffic (default: http://127.0.0.1:2380)");
  cmd->add_option("--initial-advertise-peer-urls", f.initial_advertise_peer_urls,
                  "Peer URLs of this member in --initial-cluster (default: the listen URLs)");
  cmd->add_option("--initial-cluster", f.config.initial_cluster,
                  "NAME=URL,... of every member of a new cluster (default: this member alone)");
  cmd->add_option("--initial-cluster-state", f.config.initial_cluster_state,
                  "new (default), or existing to join a running cluster (after member add)");
  cmd->add_option("--initial-cluster-token", f.config.initial_cluster_token,
                  "Distinguishes clusters with the same members (default: aspen-cluster)");
  cmd->add_option("--listen-metrics-urls", f.listen_metrics_urls,
                  "URLs for GET /health and /metrics (default: http://127.0.0.1:2381)");
  cmd->add_option("--heartbeat-interval", f.config.heartbeat_interval_ms,
                  "Raft heartbeat interval in ms (default: 100)");
  cmd->add_option("--election-timeout", f.config.election_timeout_ms,
                  "Raft election timeout in ms (default: 1000)");
  cmd->add_option("--auto-compaction-mode", f.config.auto_compaction_mode,
                  "periodic or revision (default: off)");
  cmd->add_option("--auto-compaction-retention", f.config.auto_compaction_retention,
                  "periodic: a duration (1h, 30m) or hours; revision: revisions to keep");
  cmd->add_option("--auto-compaction-interval", f.config.auto_compaction_interval_ms,
                  "How often the leader checks, in ms (default: 300000)");
  cmd->add_option("--snapshot-count", f.config.snapshot_count,
                  "Applied entries between log compactions; 0 never compacts (default: 10000)");
  cmd->add_option("--snapshot-catchup-entries", f.config.snapshot_catchup_entries,
                  "Entries kept behind the compaction point for slow followers (default: 5000)");
  cmd->add_option("--max-snapshot-bytes", f.config.max_snapshot_bytes,
                  "Largest raft snapshot accepted from a leader (default: 8 GiB)");
  cmd->add_option("--quota-backend-bytes", f.config.quota_backend_bytes,
                  "Raise a NOSPACE alarm and refuse writes once the state takes more bytes "
                  "(default 0: 2 GiB)");
  cmd->add_option("--peer-stream", f.config.peer_stream,
                  "How raft messages go to peers: tcp (the peer port's own stream) or grpc "
                  "(default: tcp)");
  cmd->callback([cmd, flags, exit_code] { *exit_code = RunServe(cmd, *flags); });
}

}  // namespace aspen::cli
