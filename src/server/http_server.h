// HttpServer: a small, bounded HTTP/1.1 server on POSIX sockets for the
// metrics port (GET /health, GET /metrics, POST /v1/sql). It serves one request per
// connection (responses carry "Connection: close"), so there is no keep-alive
// state to bound.
//
// Bounds: at most max_connections connections are served at once (one thread
// each); a connection over the bound gets "503 Service Unavailable" at once.
// A request head larger than max_request_bytes gets 431, a malformed request
// line 400, a method other than GET/HEAD (or POST with a post handler) 405, a
// GET body or a POST body over max_body_bytes 413; a client that sends
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
// Gets a POST's path (without its query string) and its whole body.
using HttpPostHandler = std::function<HttpResponse(std::string_view path, std::string_view body)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // a numeric IPv4 address
  int port = 2381;                 // 0 picks a free port (see port())
  std::size_t max_connections = 64;
  std::size_t max_request_bytes = 8192;
  std::chrono::milliseconds io_timeout{5000};
  // POST bodies (only with a post handler): a Content-Length is required
  // (411 without, 501 for Transfer-Encoding), larger bodies get 413.
  std::size_t max_body_bytes = 1536 * 1024;
};

class HttpServer {
 public:
  // Binds and starts accepting. Unavailable "address already in use" (naming
  // host:port) when the port is taken; InvalidArgument for a host that is not
  // a numeric IPv4 address; IOError for other socket errors.
  // `post` (optional) serves POST requests; without it POST gets 405.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   HttpHandler handler,
                                                   HttpPostHandler post = nullptr);
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
  HttpServer(const HttpServerOptions& options, HttpHandler handler, HttpPostHandler post, int fd,
             int port)
      : options_(options),
        handler_(std::move(handler)),
        post_handler_(std::move(post)),
        listen_fd_(fd),
        port_(port) {}
  void AcceptLoop();
  void Serve(int fd);
  // `body` holds the bytes read past the head so far.
  HttpResponse Handle(int fd, std::string_view head, std::string body);
  HttpResponse HandlePost(int fd, std::string_view head, std::string_view path, std::string body);

  const HttpServerOptions options_;
  const HttpHandler handler_;
  const HttpPostHandler post_handler_;
  int listen_fd_;
  const int port_;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::set<int> connections_;  // guarded by mu_; fds being served
};

}  // namespace aspen::server
