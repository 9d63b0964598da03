#include "server/peer_port.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/server.h>
#include <grpcpp/server_posix.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "aspen/peer/v1/peer.pb.h"
#include "base/assert.h"
#include "base/thread_name.h"
#include "server/peer_service.h"
#include "server/peer_transport.h"
#include "server/peer_wire.h"

namespace aspen::server {

namespace ppb = ::aspen::peer::v1;

namespace {

// Bytes read per recv on a raft stream: a batch of small appends arrives in
// one call, a large one in a few.
constexpr std::size_t kReadChunkBytes = 256u << 10;

}  // namespace

Result<std::unique_ptr<PeerPort>> PeerPort::Start(PeerPortOptions options, PeerService* service,
                                                  grpc::Server* peer_grpc_server) {
  ASPEN_ASSERT(service != nullptr && peer_grpc_server != nullptr);
  ASPEN_ASSERT(!options.listen.empty() && options.max_connections > 0);
  std::unique_ptr<PeerPort> port(new PeerPort(std::move(options), service, peer_grpc_server));
  for (const auto& [host, want] : port->options_.listen) {
    const std::string where = host + ":" + std::to_string(want);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(want));
    if (want < 0 || want > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
      return Status::InvalidArgument("--listen-peer-urls: " + where +
                                     " is not a numeric IPv4 address and port");
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return Status::IOError("--listen-peer-urls: socket: " + std::string(strerror(errno)));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, 128) != 0) {
      const int err = errno;
      ::close(fd);
      for (int f : port->listen_fds_) ::close(f);
      port->listen_fds_.clear();
      if (err == EADDRINUSE) {
        return Status::Unavailable("--listen-peer-urls: cannot listen on " + where +
                                   ": address already in use (is another aspen or etcd running?)");
      }
      return Status::IOError("--listen-peer-urls: cannot listen on " + where + ": " +
                             std::strerror(err));
    }
    if (port->listen_fds_.empty()) {
      socklen_t len = sizeof addr;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
      port->port_ = ntohs(addr.sin_port);
    }
    port->listen_fds_.push_back(fd);
  }
  port->acceptor_ = std::thread([p = port.get()] {
    SetThreadName("peer-accept");
    p->AcceptLoop();
  });
  return port;
}

PeerPort::~PeerPort() {
  Stop();
}

void PeerPort::Stop() {
  if (stopping_.exchange(true)) return;
  for (int fd : listen_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes the acceptor's poll
  if (acceptor_.joinable()) acceptor_.join();
  for (int fd : listen_fds_) ::close(fd);
  listen_fds_.clear();
  std::unique_lock lock(mu_);
  for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
  idle_.wait(lock, [&] { return connections_.empty() && handing_to_grpc_ == 0; });
}

PeerPortStats PeerPort::Stats() const {
  return {raft_streams_.load(), grpc_connections_.load(), refused_.load()};
}

void PeerPort::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void PeerPort::AcceptLoop() {
  std::vector<pollfd> polls;
  for (int fd : listen_fds_) polls.push_back({fd, POLLIN, 0});
  while (!stopping_) {
    if (::poll(polls.data(), polls.size(), 200) <= 0) continue;
    for (pollfd& p : polls) {
      if ((p.revents & POLLIN) == 0) continue;
      const int fd = ::accept4(p.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(mu_);
      if (stopping_ || connections_.size() >= options_.max_connections) {
        ++refused_;
        ::close(fd);
        continue;
      }
      connections_.insert(fd);
      std::thread([this, fd] { Serve(fd); }).detach();
    }
  }
}

// Sniffs the connection's first bytes and serves it as a raft stream or
// hands it to gRPC.
void PeerPort::Serve(int fd) {
  timeval tv{static_cast<time_t>(options_.preface_timeout.count() / 1000),
             static_cast<suseconds_t>((options_.preface_timeout.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char head[kRaftStreamPreface.size()];
  ssize_t n = 0;
  do {
    // MSG_WAITALL with MSG_PEEK waits for all 8 bytes (or the timeout, or
    // EOF) and leaves them in the socket for whoever reads it next.
    n = ::recv(fd, head, sizeof head, MSG_PEEK | MSG_WAITALL);
  } while (n < 0 && errno == EINTR);
  bool handed_to_grpc = false;
  if (n == static_cast<ssize_t>(sizeof head) &&
      std::string_view(head, sizeof head) == kRaftStreamPreface) {
    timeval none{0, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    (void)::recv(fd, head, sizeof head, MSG_WAITALL);  // consume the preface
    ServeRaftStream(fd);
  } else if (n == static_cast<ssize_t>(sizeof head) && !stopping_) {
    // Not ours: gRPC's HTTP/2 (or garbage, which gRPC refuses). gRPC owns
    // the socket from here on and expects it non-blocking.
    timeval none{0, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    TunePeerSocket(fd);
    std::lock_guard lock(mu_);
    connections_.erase(fd);
    ++handing_to_grpc_;
    ++grpc_connections_;
    handed_to_grpc = true;
  } else {
    ++refused_;  // fewer than 8 bytes before EOF or the timeout, or stopping
  }
  if (handed_to_grpc) {
    // The fd is gRPC's from here on (it may close it, and accept may hand
    // the number out again), so it left connections_ first; Stop waits on
    // the count instead, so grpc_server_ outlives this call.
    grpc::AddInsecureChannelFromFd(grpc_server_, fd);
    std::lock_guard lock(mu_);
    --handing_to_grpc_;
    if (connections_.empty() && handing_to_grpc_ == 0) idle_.notify_all();
    return;
  }
  std::lock_guard lock(mu_);
  ::close(fd);
  connections_.erase(fd);
  if (connections_.empty() && handing_to_grpc_ == 0) idle_.notify_all();
}

void PeerPort::ServeRaftStream(int fd) {
  TunePeerSocket(fd);
  FrameReader reader(kMaxPeerBatchBytes);
  Result<std::string> hello_bytes = ReadOneFrame(fd, &reader, options_.preface_timeout);
  ppb::Batch hello;
  ppb::StreamAccept accept;
  if (!hello_bytes.ok()) {
    ++refused_;
    Log("peer port: raft stream without a hello: " + hello_bytes.status().ToString());
    return;
  }
  const grpc::Status check =
      hello.ParseFromString(*hello_bytes)
          ? service_->CheckHello(hello)
          : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "raft stream hello is not a Batch");
  accept.set_code(check.error_code());
  accept.set_message(check.error_message());
  const Status sent = WriteFrame(fd, accept.SerializeAsString());
  if (!check.ok()) {
    ++refused_;
    Log("peer port: refused a raft stream: " + check.error_message());
    return;
  }
  if (!sent.ok()) return;
  ++raft_streams_;
  SetThreadName("peer-recv-" + std::to_string(hello.from()));
  std::string buf(kReadChunkBytes, '\0');
  ppb::Batch batch;
  while (!stopping_) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the sender closed the stream, it broke, or Stop
    reader.Feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    while (true) {
      Result<std::optional<std::string>> frame = reader.Next();
      if (!frame.ok()) {
        Log("peer port: raft stream from " + std::to_string(hello.from()) +
            " ended: " + frame.status().ToString());
        return;
      }
      if (!frame->has_value()) break;
      batch.Clear();
      if (!batch.ParseFromString(**frame)) {
        Log("peer port: raft stream from " + std::to_string(hello.from()) +
            " ended: a frame is not a Batch");
        return;
      }
      if (batch.from() != hello.from()) {
        Log("peer port: raft stream from " + std::to_string(hello.from()) +
            " ended: a batch names sender " + std::to_string(batch.from()));
        return;
      }
      if (grpc::Status s = service_->Deliver(&batch); !s.ok()) {
        Log("peer port: raft stream from " + std::to_string(hello.from()) +
            " ended: " + s.error_message());
        return;
      }
    }
  }
}

}  // namespace aspen::server
