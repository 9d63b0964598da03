// The configuration of `aspen serve`: etcd-style settings (flags or a TOML
// config file), their validation, and the member's identity.
//
// Identity: a member's id is derived from its name, its peer URL and the
// cluster token (SHA-256, first 8 bytes); the cluster id from the token and
// the sorted member ids. Both are written to <data-dir>/member.json on the
// first start; a restarted member reads them (and its peers) from there and
// ignores --initial-cluster, --initial-cluster-state and
// --initial-cluster-token, as etcd does.
//
// Thread safety: pure functions plus file reads/writes; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace aspen::server {

struct ServeConfig {
  std::string name = "default";
  std::string data_dir = "aspen-data";
  std::vector<std::string> listen_client_urls = {"http://127.0.0.1:2379"};
  std::vector<std::string> advertise_client_urls;  // empty: listen_client_urls
  std::vector<std::string> listen_peer_urls = {"http://127.0.0.1:2380"};
  std::vector<std::string> initial_advertise_peer_urls;  // empty: listen_peer_urls
  std::string initial_cluster;  // "name=url,..."; empty: "<name>=<first advertise peer URL>"
  std::string initial_cluster_state = "new";
  std::string initial_cluster_token = "aspen-cluster";
  std::vector<std::string> listen_metrics_urls = {"http://127.0.0.1:2381"};
  std::int64_t heartbeat_interval_ms = 100;
  std::int64_t election_timeout_ms = 1000;
  // etcd's auto-compaction (docs/WATCH.md): "" (off), "periodic" or
  // "revision"; the retention is etcd's string ("1h", "30m", "90s", or a
  // number: hours for periodic, revisions for revision).
  std::string auto_compaction_mode;
  std::string auto_compaction_retention = "0";
  // How often the leader checks (Aspen extension; etcd: 5 minutes for
  // revision mode).
  std::int64_t auto_compaction_interval_ms = 5 * 60 * 1000;
  // Log compaction (docs/OPERATIONS.md): etcd's --snapshot-count (0: never
  // compact) and the entries kept behind the applied index for slow followers.
  std::int64_t snapshot_count = 10000;
  std::int64_t snapshot_catchup_entries = 5000;
  // The largest raft snapshot this member accepts from a leader.
  std::int64_t max_snapshot_bytes = std::int64_t{8} << 30;
  // etcd's --quota-backend-bytes: once the state takes more bytes than this,
  // writes that need space fail and a NOSPACE alarm is raised. 0 means the
  // default (kDefaultQuotaBackendBytes, etcd's 2 GiB).
  std::int64_t quota_backend_bytes = 0;
  // How this member sends raft messages to its peers (Aspen extension):
  // "tcp" (the peer port's own framed stream) or "grpc" (a gRPC stream).
  // A member receives both on its peer port whatever this says.
  std::string peer_stream = "tcp";
};

// The auto-compaction settings, parsed: a retention in ms (periodic) or in
// revisions (revision). InvalidArgument naming the flag.
struct AutoCompaction {
  enum class Mode { kOff, kPeriodic, kRevision } mode = Mode::kOff;
  std::int64_t retention_ms = 0;
  std::int64_t retention_revisions = 0;
  std::int64_t interval_ms = 0;
};
Result<AutoCompaction> ParseAutoCompaction(const ServeConfig& config);

inline constexpr std::int64_t kDefaultQuotaBackendBytes = std::int64_t{2} << 30;

// Reads a TOML file whose keys are the flag names without dashes prefix
// ("name", "data-dir", "listen-client-urls" as a string "a,b" or an array,
// "heartbeat-interval", "election-timeout", ...) into *config, overriding
// what it sets. InvalidArgument naming the file, line and key for a syntax
// error, an unknown key or a value of the wrong type; IOError when the file
// cannot be read.
Status LoadConfigFile(const std::string& path, ServeConfig* config);

// Splits "a,b,c" (spaces around items ignored; empty items dropped).
std::vector<std::string> SplitList(const std::string& s);

// A listen address from an etcd-style URL: "http://HOST:PORT" with a numeric
// IPv4 HOST (or "localhost", read as 127.0.0.1) and a port in 1..65535.
struct HostPort {
  std::string host;
  int port = 0;
  std::string target() const { return host + ":" + std::to_string(port); }
};
// InvalidArgument naming `what` (the flag) and the URL; "https" is refused
// with "TLS is not supported".
Result<HostPort> ParseListenUrl(const std::string& url, const std::string& what);

struct MemberEntry {
  std::uint64_t id = 0;
  std::string name;
  std::string peer_url;
};

// Who this member is and who its peers are.
struct Identity {
  std::string name;
  std::uint64_t member_id = 0;
  std::uint64_t cluster_id = 0;
  std::vector<MemberEntry> members;  // the initial cluster, this member included
};

std::uint64_t MemberIdFor(const std::string& name, const std::string& peer_url,
                          const std::string& token);
std::uint64_t ClusterIdFor(const std::vector<MemberEntry>& members, const std::string& token);

// The identity a new member gets from `config`: parses --initial-cluster
// ("name=url,..."), requires this member's name in it with a URL among its
// advertised peer URLs, unique names and URLs. InvalidArgument naming the
// flag otherwise.
Result<Identity> NewIdentity(const ServeConfig& config);

// <data-dir>/member.json. Read: NotFound when absent, Corruption when
// malformed. Write: atomically (temp file, fsync, rename); IOError on failure.
Result<Identity> ReadIdentity(const std::string& data_dir);
Status WriteIdentity(const std::string& data_dir, const Identity& identity);

// Checks that the settings are usable (positive timings, election timeout at
// least 5 heartbeats, a known cluster state, parsable URLs).
Status ValidateConfig(const ServeConfig& config);

std::string HexId(std::uint64_t id);

}  // namespace aspen::server
