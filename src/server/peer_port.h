// PeerPort: the peer port's listener. It accepts every connection itself and
// looks at its first bytes (peer_wire.h): a raft message stream is served
// here, on a thread of its own that blocks in recv and hands each Batch to
// PeerService::Deliver; anything else is gRPC and is handed, socket and all,
// to the peer gRPC server (grpc::AddInsecureChannelFromFd), which serves the
// other peer RPCs (leases, snapshots, members) as before.
//
// Bounds: at most max_connections connections are being sniffed or served
// as raft streams at once (more are closed at once and counted); a
// connection that sends fewer than the 8 preface bytes within
// preface_timeout is closed; a frame over kMaxPeerBatchBytes, a Batch that
// does not parse or that PeerService refuses ends its stream (the refusal is
// logged and, for the hello, answered with StreamAccept first).
//
// Thread safety: Stop from any thread; Stats from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"

namespace grpc {
class Server;
}

namespace aspen::server {

class PeerService;

struct PeerPortOptions {
  // Numeric IPv4 addresses to listen on; port 0 picks a free port.
  std::vector<std::pair<std::string, int>> listen;
  std::size_t max_connections = 256;
  std::chrono::milliseconds preface_timeout{10000};
  std::function<void(std::string_view)> log;  // may be empty
};

struct PeerPortStats {
  std::uint64_t raft_streams = 0;         // accepted raft message streams
  std::uint64_t grpc_connections = 0;     // connections handed to gRPC
  std::uint64_t refused_connections = 0;  // over max_connections, no preface, refused hello
};

class PeerPort {
 public:
  // Binds every address and starts accepting. `service` and `peer_grpc_server`
  // are not owned and must outlive Stop(). Unavailable "address already in
  // use" naming the address when a port is taken.
  static Result<std::unique_ptr<PeerPort>> Start(PeerPortOptions options, PeerService* service,
                                                 grpc::Server* peer_grpc_server);
  ~PeerPort();
  PeerPort(const PeerPort&) = delete;
  PeerPort& operator=(const PeerPort&) = delete;

  // The bound port of the first address.
  int port() const { return port_; }

  // Closes the listeners, ends every raft stream and waits for their
  // threads. Connections already handed to gRPC are gRPC's (its Shutdown).
  // Idempotent.
  void Stop();

  PeerPortStats Stats() const;

 private:
  PeerPort(PeerPortOptions options, PeerService* service, grpc::Server* peer_grpc_server)
      : options_(std::move(options)), service_(service), grpc_server_(peer_grpc_server) {}
  void AcceptLoop();
  void Serve(int fd);
  void ServeRaftStream(int fd);
  void Log(const std::string& line) const;

  const PeerPortOptions options_;
  PeerService* const service_;
  grpc::Server* const grpc_server_;
  std::vector<int> listen_fds_;
  int port_ = 0;
  std::thread acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> raft_streams_{0};
  std::atomic<std::uint64_t> grpc_connections_{0};
  std::atomic<std::uint64_t> refused_{0};
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::set<int> connections_;  // guarded by mu_: sockets sniffed or served here
  // Guarded by mu_: sockets being handed to gRPC (no longer ours, but the
  // hand-off still uses grpc_server_, so Stop waits for it).
  int handing_to_grpc_ = 0;
};

}  // namespace aspen::server
