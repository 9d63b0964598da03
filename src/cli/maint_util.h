// Shared by cmd_snapshot.cc and cmd_maint.cc: per-endpoint Maintenance stubs
// (defrag, hashkv and snapshot address each member, not "whichever answers"),
// a progress bar and byte counts for humans. Flags, output and exit codes are
// common.h's.
#pragma once

#include <grpcpp/grpcpp.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cli/common.h"
#include "client/grpc_status.h"
#include "etcdserverpb/maintenance.grpc.pb.h"

namespace aspen::cli::maint {

// The endpoints and timeouts of common.h's flags (errors name the flag).
inline Result<client::ClientOptions> Options(const ClientFlags& f) {
  return OptionsFrom(f);
}

inline std::unique_ptr<etcdserverpb::Maintenance::Stub> Stub(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return etcdserverpb::Maintenance::NewStub(
      grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args));
}

inline void SetDeadline(grpc::ClientContext* ctx, std::chrono::milliseconds ms) {
  ctx->set_deadline(std::chrono::system_clock::now() + ms);
}

// "2.1 MB", as etcdctl's humanize.Bytes (SI units).
inline std::string HumanBytes(std::uint64_t n) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  if (n < 10) return std::to_string(n) + " B";
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1000 && u < 5) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 10 ? "%.1f %s" : "%.0f %s", v, kUnits[u]);
  return buf;
}

// A progress bar on stderr when it is a terminal, redrawn at most 10 times a
// second; silent otherwise.
class Progress {
 public:
  explicit Progress(std::string label) : label_(std::move(label)), tty_(::isatty(2) == 1) {}
  void Update(std::uint64_t done, std::uint64_t total) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done != total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 30;
    const int filled = total == 0 ? width : static_cast<int>(done * width / total);
    std::fprintf(stderr, "\r%s [%s%s] %3d%% %s / %s", label_.c_str(),
                 std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(),
                 total == 0 ? 100 : static_cast<int>(done * 100 / total), HumanBytes(done).c_str(),
                 HumanBytes(total).c_str());
    std::fflush(stderr);
  }
  void Done() {
    if (tty_) std::fprintf(stderr, "\n");
  }

 private:
  std::string label_;
  bool tty_;
  std::chrono::steady_clock::time_point last_{};
};

// A gRPC failure as common.h's Fail reports it (exit code by kind).
inline int FailGrpc(std::string_view command, const std::string& prefix, const grpc::Status& s) {
  Status st = client::FromGrpc(s);
  return cli::Fail(command, Status(st.code(), prefix + st.message()));
}

}  // namespace aspen::cli::maint
