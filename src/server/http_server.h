// HttpServer: a small, bounded HTTP/1.1 server on POSIX sockets for the
// metrics port (GET /health, GET /metrics). It serves one request per
// connection (responses carry "Connection: close"), so there is no keep-alive
// state to bound.
//
// Bounds: at most max_connections connections are served at once (one thread
// each); a connection over the bound gets "503 Service Unavailable" at once.
// A request head larger than max_request_bytes gets 431, a malformed request
// line 400, a method other than GET/HEAD 405, a body 413; a client that sends
// nothing for io_timeout is disconnected. No input crashes the server.
//
// Thread safety: the handler runs on connection threads, concurrently; it
// must be thread-safe. Stop() may be called from any thread but a handler.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"

namespace aspen::server {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Gets the method ("GET" or "HEAD") and the path without its query string.
using HttpHandler = std::function<HttpResponse(std::string_view method, std::string_view path)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // a numeric IPv4 address
  int port = 2381;                 // 0 picks a free port (see port())
  std::size_t max_connections = 64;
  std::size_t max_request_bytes = 8192;
  std::chrono::milliseconds io_timeout{5000};
};

class HttpServer {
 public:
  // Binds and starts accepting. Unavailable "address already in use" (naming
  // host:port) when the port is taken; InvalidArgument for a host that is not
  // a numeric IPv4 address; IOError for other socket errors.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler);
  // Stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port.
  int port() const { return port_; }
  // Closes the listening socket, disconnects every connection and waits for
  // their threads. Idempotent.
  void Stop();

  // Builds "HTTP/1.1 <status> <reason>" with headers and body (exposed for tests).
  static std::string Render(const HttpResponse& response, bool head_only);

 private:
  HttpServer(const HttpServerOptions& options, HttpHandler handler, int fd, int port)
      : options_(options), handler_(std::move(handler)), listen_fd_(fd), port_(port) {}
  void AcceptLoop();
  void Serve(int fd);
  HttpResponse Handle(std::string_view head);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  int listen_fd_;
  const int port_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::set<int> connections_;  // guarded by mu_; fds being served
};

}  // namespace aspen::server
