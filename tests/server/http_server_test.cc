// The HTTP port's server: routing, bounds and bad input over real sockets.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "server/metrics.h"

namespace aspen::server {
namespace {

int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

// Sends `request` and returns the whole response.
std::string Exchange(int port, const std::string& request) {
  int fd = Connect(port);
  if (fd < 0) return "connect failed";
  (void)!write(fd, request.data(), request.size());
  shutdown(fd, SHUT_WR);
  std::string out = ReadAll(fd);
  close(fd);
  return out;
}

std::unique_ptr<HttpServer> StartEcho(HttpServerOptions options = {}) {
  options.port = 0;
  auto r = HttpServer::Start(options, [](std::string_view method, std::string_view path) {
    if (path == "/health") return HttpResponse{200, "application/json", "{\"health\":\"true\"}"};
    return HttpResponse{404, "text/plain", std::string(method) + " " + std::string(path)};
  });
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TEST(HttpServerTest, GetIsRoutedToTheHandler) {
  auto s = StartEcho();
  std::string resp = Exchange(s->port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(resp.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << resp;
  EXPECT_NE(resp.find("Content-Type: application/json"), std::string::npos);
  EXPECT_NE(resp.find("\r\n\r\n{\"health\":\"true\"}"), std::string::npos);
}

TEST(HttpServerTest, QueryStringIsStrippedAndHeadHasNoBody) {
  auto s = StartEcho();
  EXPECT_NE(Exchange(s->port(), "GET /x?y=1 HTTP/1.0\r\n\r\n").find("GET /x"), std::string::npos);
  std::string head = Exchange(s->port(), "HEAD /health HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0u);
  EXPECT_EQ(head.find("{\"health\""), std::string::npos);
}

TEST(HttpServerTest, BadRequestsGetClearStatuses) {
  auto s = StartEcho();
  EXPECT_EQ(Exchange(s->port(), "POST /health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0), 0u);
  EXPECT_EQ(Exchange(s->port(), "garbage\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Exchange(s->port(), "GET health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  EXPECT_EQ(Exchange(s->port(), "GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
                .rfind("HTTP/1.1 413", 0),
            0u);
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(Exchange(s->port(), big).rfind("HTTP/1.1 431", 0), 0u);
  std::string binary(3000, '\0');
  EXPECT_EQ(Exchange(s->port(), binary + "\r\n\r\n").rfind("HTTP/1.1 400", 0), 0u);
  // Still serving.
  EXPECT_EQ(Exchange(s->port(), "GET /health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
}

TEST(HttpServerTest, ConnectionsOverTheBoundGet503) {
  HttpServerOptions o;
  o.max_connections = 2;
  auto s = StartEcho(o);
  // Two idle connections hold both slots.
  int a = Connect(s->port());
  int b = Connect(s->port());
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  usleep(300 * 1000);  // let the acceptor register them
  EXPECT_EQ(Exchange(s->port(), "GET /health HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 503", 0), 0u);
  close(a);
  close(b);
}

TEST(HttpServerTest, SilentClientIsDisconnectedAfterTheTimeout) {
  HttpServerOptions o;
  o.io_timeout = std::chrono::milliseconds(200);
  auto s = StartEcho(o);
  int fd = Connect(s->port());
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ReadAll(fd), "");  // closed by the server, no response
  close(fd);
}

TEST(HttpServerTest, BusyPortIsReportedClearly) {
  auto s = StartEcho();
  HttpServerOptions o;
  o.port = s->port();
  auto r = HttpServer::Start(o, [](std::string_view, std::string_view) { return HttpResponse{}; });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("address already in use"), std::string::npos);
  HttpServerOptions bad;
  bad.host = "localhost";
  EXPECT_EQ(
      HttpServer::Start(bad, [](std::string_view, std::string_view) { return HttpResponse{}; })
          .status()
          .code(),
      Code::kInvalidArgument);
}

TEST(MetricsTest, RenderShowsNodeStateRequestsAndProposals) {
  node::NodeStatus st;
  st.leader = 3;
  st.term = 7;
  st.commit_index = 10;
  st.applied_index = 9;
  RequestMetrics req;
  req.Record("Put", grpc::StatusCode::OK, std::chrono::microseconds(700));
  req.Record("Put", grpc::StatusCode::OK, std::chrono::milliseconds(3));
  req.Record("Range", grpc::StatusCode::NOT_FOUND, std::chrono::seconds(5));
  req.ProposalStarted();
  req.ProposalStarted();
  req.ProposalDone(true);
  PeerTransportStats t{.sent_messages = 4, .dropped_messages = 1, .broken_streams = 0};
  std::string text = RenderMetrics({&st, &req, &t, nullptr});
  for (const char* line : {
           "aspen_server_has_leader 1\n",
           "aspen_raft_term 7\n",
           "aspen_raft_commit_index 10\n",
           "aspen_raft_applied_index 9\n",
           "aspen_proposals_committed_total 1\n",
           "aspen_proposals_pending 1\n",
           "aspen_grpc_requests_total{method=\"Put\",code=\"OK\"} 2\n",
           "aspen_grpc_requests_total{method=\"Range\",code=\"NOT_FOUND\"} 1\n",
           "aspen_grpc_request_duration_seconds_bucket{method=\"Put\",le=\"0.001\"} 1\n",
           "aspen_grpc_request_duration_seconds_bucket{method=\"Put\",le=\"0.004\"} 2\n",
           "aspen_grpc_request_duration_seconds_bucket{method=\"Range\",le=\"1.024\"} 0\n",
           "aspen_grpc_request_duration_seconds_bucket{method=\"Range\",le=\"+Inf\"} 1\n",
           "aspen_peer_dropped_messages_total 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  EXPECT_EQ(req.Count("Put", grpc::StatusCode::OK), 2u);
}

}  // namespace
}  // namespace aspen::server
