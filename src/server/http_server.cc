#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "base/assert.h"

namespace aspen::server {

namespace {

std::string_view Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 501: return "Not Implemented";
    case 504: return "Gateway Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

HttpResponse Error(int status, std::string message) {
  return {status, "text/plain; charset=utf-8", std::move(message) + "\n"};
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the client went away; nothing to do
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Case-insensitive search for a header name at the start of a line.
bool HasNonZeroContentLength(std::string_view head) {
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t pos = lower.find("\r\ncontent-length:");
  if (pos == std::string::npos) return lower.find("\r\ntransfer-encoding:") != std::string::npos;
  std::size_t i = pos + 17;
  while (i < lower.size() && lower[i] == ' ') ++i;
  return i < lower.size() && lower[i] != '0';
}

std::string Lower(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

// The value of header `name` (lower case, with its colon), trimmed; nullopt
// when absent.
std::optional<std::string> HeaderValue(const std::string& lower_head, std::string_view name) {
  const std::size_t pos = lower_head.find("\r\n" + std::string(name));
  if (pos == std::string::npos) return std::nullopt;
  std::size_t i = pos + 2 + name.size();
  const std::size_t end = lower_head.find("\r\n", i);
  while (i < end && lower_head[i] == ' ') ++i;
  std::size_t j = end;
  while (j > i && lower_head[j - 1] == ' ') --j;
  return lower_head.substr(i, j - i);
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      HttpHandler handler, HttpPostHandler post) {
  ASPEN_ASSERT(handler != nullptr && options.max_connections > 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(options.port));
  if (options.port < 0 || options.port > 65535 ||
      inet_pton(AF_INET, options.host.c_str(), &addr.sin_addr) != 1) {
    return Status::InvalidArgument("http: listen address " + options.host + ":" +
                                   std::to_string(options.port) +
                                   " is not a numeric IPv4 address and port");
  }
  const std::string where = options.host + ":" + std::to_string(options.port);
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError("http: socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EADDRINUSE) {
      return Status::Unavailable("http: cannot listen on " + where +
                                 ": address already in use (is another aspen or etcd running?)");
    }
    return Status::IOError("http: cannot listen on " + where + ": " + std::strerror(err));
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::unique_ptr<HttpServer> server(
      new HttpServer(options, std::move(handler), std::move(post), fd, ntohs(addr.sin_port)));
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  return server;
}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listen_fd_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  std::unique_lock lock(mu_);
  for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
  idle_.wait(lock, [&] { return connections_.empty(); });
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval tv{static_cast<time_t>(options_.io_timeout.count() / 1000),
               static_cast<suseconds_t>((options_.io_timeout.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::lock_guard lock(mu_);
    if (stopping_ || connections_.size() >= options_.max_connections) {
      SendAll(fd, Render(Error(503, "too many connections (max_connections = " +
                                        std::to_string(options_.max_connections) + ")"),
                         false));
      ::close(fd);
      continue;
    }
    connections_.insert(fd);
    std::thread([this, fd] { Serve(fd); }).detach();
  }
}

void HttpServer::Serve(int fd) {
  std::string data;
  std::size_t head_end = std::string::npos;  // just past the blank line
  char buf[1024];
  while (data.size() <= options_.max_request_bytes) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
    if (const std::size_t pos = data.find("\r\n\r\n"); pos != std::string::npos) {
      head_end = pos + 4;
      break;
    }
  }
  const bool complete = head_end != std::string::npos;
  const bool too_big =
      complete ? head_end > options_.max_request_bytes : data.size() > options_.max_request_bytes;
  HttpResponse response;
  bool head_only = false;
  if (too_big) {
    response = Error(431, "request head is larger than max_request_bytes (" +
                              std::to_string(options_.max_request_bytes) + ")");
  } else if (complete) {
    head_only = data.starts_with("HEAD ");
    response = Handle(fd, std::string_view(data).substr(0, head_end), data.substr(head_end));
  }
  if (complete || too_big) SendAll(fd, Render(response, head_only));
  ::shutdown(fd, SHUT_WR);
  std::lock_guard lock(mu_);
  ::close(fd);
  connections_.erase(fd);
  if (connections_.empty()) idle_.notify_all();
}

HttpResponse HttpServer::Handle(int fd, std::string_view head, std::string body) {
  const std::size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    return Error(400, "malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (method == "POST" && post_handler_ != nullptr) {
    if (target.empty() || target.front() != '/') return Error(400, "malformed request target");
    return HandlePost(fd, head, target.substr(0, target.find('?')), std::move(body));
  }
  if (method != "GET" && method != "HEAD") {
    return Error(405, post_handler_ != nullptr ? "only GET, HEAD and POST are served"
                                               : "only GET and HEAD are served");
  }
  if (HasNonZeroContentLength(head)) return Error(413, "requests with a body are not served");
  if (target.empty() || target.front() != '/') return Error(400, "malformed request target");
  target = target.substr(0, target.find('?'));
  return handler_(method, target);
}

HttpResponse HttpServer::HandlePost(int fd, std::string_view head, std::string_view path,
                                    std::string body) {
  const std::string lower = Lower(head);
  if (HeaderValue(lower, "transfer-encoding:").has_value()) {
    return Error(501, "Transfer-Encoding is not supported; send a Content-Length");
  }
  const std::optional<std::string> length_text = HeaderValue(lower, "content-length:");
  if (!length_text.has_value()) return Error(411, "a POST needs a Content-Length");
  std::size_t length = 0;
  if (length_text->empty() || length_text->size() > 12 ||
      length_text->find_first_not_of("0123456789") != std::string::npos) {
    return Error(400, "malformed Content-Length");
  }
  length = std::stoull(*length_text);
  if (length > options_.max_body_bytes) {
    return Error(413, "request body is larger than max_body_bytes (" +
                          std::to_string(options_.max_body_bytes) + ")");
  }
  if (body.size() > length) return Error(400, "more body bytes than the Content-Length says");
  if (body.size() < length && HeaderValue(lower, "expect:") == "100-continue") {
    SendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
  }
  char buf[16384];
  while (body.size() < length) {
    const ssize_t n = ::recv(fd, buf, std::min(sizeof buf, length - body.size()), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error(400, "the request body ended before its Content-Length");
    body.append(buf, static_cast<std::size_t>(n));
  }
  return post_handler_(path, body);
}

std::string HttpServer::Render(const HttpResponse& r, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(Reason(r.status)) +
                    "\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  if (!head_only) out += r.body;
  return out;
}

}  // namespace aspen::server
