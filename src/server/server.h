// Server: one running Aspen member, assembled from a ServeConfig: the store
// in <data-dir>/db, the node, the peer port (transport + PeerService), the
// client port (etcd v3 gRPC services) and the HTTP port (/health, /metrics).
//
// Start checks everything it can before touching the data dir (flags, URLs,
// free ports), then opens the store (FailedPrecondition when another process
// holds the data dir), reads or creates the member identity
// (<data-dir>/member.json; a restarted member ignores --initial-cluster*) and
// starts the parts. Every failure is a Status whose message names the flag,
// port or path at fault.
//
// Thread safety: Stop from any one thread; accessors from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/config.h"

namespace aspen::server {

class Server {
 public:
  using Log = std::function<void(std::string_view)>;
  static Result<std::unique_ptr<Server>> Start(const ServeConfig& config, Log log);
  // Stop().
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Stops serving clients, answers what is pending (Unavailable), stops the
  // node, the peer port and the transport, and closes the store. Idempotent.
  void Stop();

  const Identity& identity() const;
  // The bound client/peer/metrics ports (first URL of each).
  int client_port() const;
  int peer_port() const;
  int metrics_port() const;
  // True once this member knows it was removed from the cluster (it then
  // serves nothing useful; `aspen serve` stops and exits non-zero).
  bool removed() const;

  struct Parts;

 private:
  explicit Server(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

// OK when host:port can be bound now; Unavailable "<what>: cannot listen on
// host:port: address already in use ..." otherwise.
Status CheckPortFree(const HostPort& hp, const std::string& what);

}  // namespace aspen::server
