#include "server/peer_wire.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/assert.h"

namespace aspen::server {

using Clock = std::chrono::steady_clock;

void EncodeFrameHeader(std::size_t n, char out[kFrameHeaderBytes]) {
  ASPEN_ASSERT(n <= 0xffffffffu);
  for (std::size_t i = 0; i < kFrameHeaderBytes; ++i) {
    out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  }
}

Result<std::optional<std::string>> FrameReader::Next() {
  const std::size_t have = buffer_.size() - consumed_;
  if (have < kFrameHeaderBytes) return std::optional<std::string>();
  std::size_t n = 0;
  for (std::size_t i = 0; i < kFrameHeaderBytes; ++i) {
    n |= static_cast<std::size_t>(static_cast<unsigned char>(buffer_[consumed_ + i])) << (8 * i);
  }
  if (n > max_payload_) {
    return Status::ResourceExhausted("peer stream frame of " + std::to_string(n) +
                                     " bytes is over the limit of " + std::to_string(max_payload_));
  }
  if (have < kFrameHeaderBytes + n) return std::optional<std::string>();
  std::string payload = buffer_.substr(consumed_ + kFrameHeaderBytes, n);
  consumed_ += kFrameHeaderBytes + n;
  // Drop consumed bytes once they are the larger part, so the buffer stays
  // within about twice the largest frame.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<std::string>(std::move(payload));
}

Status WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("peer stream write: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status WriteFrame(int fd, std::string_view payload) {
  char header[kFrameHeaderBytes];
  EncodeFrameHeader(payload.size(), header);
  iovec iov[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  int first = 0;
  while (first < 2) {
    msghdr msg{};
    msg.msg_iov = iov + first;
    msg.msg_iovlen = static_cast<std::size_t>(2 - first);
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("peer stream write: ") + std::strerror(errno));
    }
    auto left = static_cast<std::size_t>(n);
    while (first < 2 && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (first < 2) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return Status::Ok();
}

Result<std::string> ReadOneFrame(int fd, FrameReader* reader, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  while (true) {
    Result<std::optional<std::string>> frame = reader->Next();
    if (!frame.ok()) return frame.status();
    if (frame->has_value()) return std::move(**frame);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Status::IOError("peer stream: no answer within the timeout");
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) {
      return Status::IOError(std::string("peer stream poll: ") + std::strerror(errno));
    }
    if (ready <= 0) continue;
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return Status::IOError("peer stream closed by the other side");
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return Status::IOError(std::string("peer stream read: ") + std::strerror(errno));
    }
    reader->Feed(std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

void TunePeerSocket(int fd) {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  const int idle = 5, interval = 2, count = 3;
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  // Sent data unacknowledged this long fails the stream's writes instead of
  // blocking them forever on a peer that vanished.
  const unsigned int user_timeout_ms = 10'000;
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
}

Result<int> DialTcp(const std::string& target, std::chrono::milliseconds timeout,
                    const std::function<bool()>& cancelled) {
  std::string host = target, port;
  if (const std::size_t colon = target.rfind(':'); colon != std::string::npos) {
    host = target.substr(0, colon);
    port = target.substr(colon + 1);
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty() || port.empty()) {
    return Status::InvalidArgument("peer target \"" + target + "\" is not host:port");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("peer " + target + ": " + ::gai_strerror(rc));
  }
  const auto deadline = Clock::now() + timeout;
  std::string last = "no address";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      while (err == EINPROGRESS || err == EINTR) {
        if (cancelled()) {
          err = ECANCELED;
          break;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
          err = ETIMEDOUT;
          break;
        }
        pollfd p{fd, POLLOUT, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 50)));
        if (ready < 0 && errno != EINTR) {
          err = errno;
          break;
        }
        if (ready <= 0) continue;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err == 0) {
      ::freeaddrinfo(found);
      const int flags = ::fcntl(fd, F_GETFL);
      ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      TunePeerSocket(fd);
      return fd;
    }
    ::close(fd);
    last = std::strerror(err);
    if (err == ECANCELED || err == ETIMEDOUT) break;
  }
  ::freeaddrinfo(found);
  return Status::Unavailable("peer " + target + ": cannot connect: " + last);
}

}  // namespace aspen::server
