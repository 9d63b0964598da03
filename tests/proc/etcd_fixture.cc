#include "proc/etcd_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "client/client.h"

namespace aspen::testing {

namespace {

int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                          const std::string& log_path,
                                                          const std::string& err_path) {
  ASPEN_ASSERT(!argv.empty());
  const std::string& stderr_path = err_path.empty() ? log_path : err_path;
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status::IOError("open " + log_path + ": " + std::strerror(errno));
  }
  const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (err_fd < 0) {
    ::close(log_fd);
    return Status::IOError("open " + stderr_path + ": " + std::strerror(errno));
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    ::close(err_fd);
    return Status::IOError(std::string("open /dev/null: ") + std::strerror(errno));
  }
  // Everything the child touches is prepared before fork: after fork only
  // async-signal-safe calls are allowed (gRPC threads may hold locks).
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    ::close(err_fd);
    ::close(null_fd);
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(err_fd);
  ::close(null_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) Stop(SIGKILL, std::chrono::milliseconds(5000));
}

bool ChildProcess::Running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  return true;
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

void ChildProcess::Stop(int signal, std::chrono::milliseconds grace) {
  if (!Running()) return;
  ::kill(pid_, signal);
  if (Wait(grace)) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  if (::waitpid(pid_, &status, 0) == pid_) exit_code_ = DecodeWaitStatus(status);
}

Result<int> PickFreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string error = std::strerror(errno);
    ::close(fd);
    return Status::Unavailable("bind 127.0.0.1:0: " + error);
  }
  ::close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

namespace {

// The directories MakeTempDir made in this process (and the logs beside
// them, `<dir>.log`). Removed when the process exits, unless a test failed
// (then they are kept for a post-mortem and named on stderr) or
// ASPEN_KEEP_TEST_DIRS is set. Every member a test starts writes a
// pre-sized WAL, so runs that kept them filled the disk.
class TempDirs {
 public:
  void Add(std::string dir) {
    std::lock_guard lock(mu_);
    dirs_.push_back(std::move(dir));
  }
  ~TempDirs() {
    // A forked child that exits must not remove its parent's directories.
    if (::getpid() != owner_ || std::getenv("ASPEN_KEEP_TEST_DIRS") != nullptr) return;
    if (::testing::UnitTest::GetInstance()->Failed()) {
      for (const std::string& d : dirs_)
        std::fprintf(stderr, "test directory kept: %s\n", d.c_str());
      return;
    }
    for (const std::string& d : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(d, ec);
      std::filesystem::remove(d + ".log", ec);
    }
  }

 private:
  const pid_t owner_ = ::getpid();
  std::mutex mu_;
  std::vector<std::string> dirs_;
};

TempDirs& MadeTempDirs() {
  static TempDirs dirs;
  return dirs;
}

}  // namespace

Result<std::string> MakeTempDir(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::IOError("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  MadeTempDirs().Add(pattern);
  return pattern;
}

Result<std::unique_ptr<EtcdProcess>> EtcdProcess::Start(EtcdOptions options) {
  std::unique_ptr<EtcdProcess> etcd(new EtcdProcess());
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    last = etcd->TryStart(options);
    if (last.ok()) return etcd;
    if (etcd->process_ != nullptr) etcd->process_->Stop(SIGKILL, std::chrono::milliseconds(2000));
    etcd->process_.reset();
  }
  return last;
}

Status EtcdProcess::TryStart(const EtcdOptions& options) {
  if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  Result<std::string> dir = MakeTempDir("aspen-etcd");
  if (!dir.ok()) return dir.status();
  data_dir_ = dir.value();
  log_path_ = data_dir_ + ".log";
  Result<int> client_port = PickFreeLoopbackPort();
  Result<int> peer_port = PickFreeLoopbackPort();
  if (!client_port.ok()) return client_port.status();
  if (!peer_port.ok()) return peer_port.status();
  if (*client_port == *peer_port) return Status::Unavailable("picked the same port twice");
  endpoint_ = "127.0.0.1:" + std::to_string(*client_port);
  const std::string client_url = "http://" + endpoint_;
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(*peer_port);
  std::vector<std::string> argv = {options.binary,
                                   "--name=default",
                                   "--data-dir=" + data_dir_,
                                   "--listen-client-urls=" + client_url,
                                   "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=default=" + peer_url,
                                   "--initial-cluster-state=new",
                                   "--log-level=warn",
                                   "--logger=zap"};
  argv.insert(argv.end(), options.extra_flags.begin(), options.extra_flags.end());
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(argv, log_path_);
  if (!child.ok()) return child.status();
  process_ = std::move(child).value();

  client::ClientOptions client_options;
  client_options.endpoints = {endpoint_};
  client_options.dial_timeout = std::chrono::milliseconds(200);
  client_options.call_timeout = std::chrono::milliseconds(1000);
  Result<std::unique_ptr<client::Client>> probe = client::Client::Create(client_options);
  if (!probe.ok()) return probe.status();
  const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->Running()) {
      return Status::Unavailable("etcd exited during start-up; log tail:\n" + LogTail());
    }
    Result<etcdserverpb::StatusResponse> status = (*probe)->EndpointStatus();
    if (status.ok() && status->leader() != 0) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("etcd not healthy within " +
                             std::to_string(options.start_timeout.count()) + " ms; log tail:\n" +
                             LogTail());
}

EtcdProcess::~EtcdProcess() {
  if (process_ != nullptr) process_->Stop(SIGTERM, std::chrono::milliseconds(5000));
  process_.reset();
  std::error_code ignored;
  if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_, ignored);
  if (!log_path_.empty()) std::filesystem::remove(log_path_, ignored);
}

void EtcdProcess::Kill() {
  if (process_ != nullptr) process_->Stop(SIGKILL, std::chrono::milliseconds(5000));
}

std::string EtcdProcess::LogTail(std::size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  return text;
}

namespace {

std::string ReadTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() > max_bytes) text = text.substr(text.size() - max_bytes);
  return text;
}

Result<etcdserverpb::StatusResponse> MemberStatus(const std::string& endpoint) {
  client::ClientOptions o;
  o.endpoints = {endpoint};
  o.dial_timeout = std::chrono::milliseconds(200);
  o.call_timeout = std::chrono::milliseconds(1000);
  Result<std::unique_ptr<client::Client>> c = client::Client::Create(o);
  if (!c.ok()) return c.status();
  return (*c)->EndpointStatus();
}

}  // namespace

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(int members, EtcdOptions options) {
  ASPEN_ASSERT(members >= 1);
  std::unique_ptr<EtcdCluster> cluster(new EtcdCluster());
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    last = cluster->TryStart(members, options);
    if (last.ok()) return cluster;
    cluster->StopAll();
  }
  return last;
}

Status EtcdCluster::TryStart(int members, const EtcdOptions& options) {
  Result<std::string> dir = MakeTempDir("aspen-etcd-cluster");
  if (!dir.ok()) return dir.status();
  dir_ = *dir;
  std::vector<std::string> client_urls, peer_urls;
  std::string initial;
  for (int i = 0; i < members; ++i) {
    Result<int> client_port = PickFreeLoopbackPort();
    Result<int> peer_port = PickFreeLoopbackPort();
    if (!client_port.ok()) return client_port.status();
    if (!peer_port.ok()) return peer_port.status();
    endpoints_.push_back("127.0.0.1:" + std::to_string(*client_port));
    client_urls.push_back("http://" + endpoints_.back());
    peer_urls.push_back("http://127.0.0.1:" + std::to_string(*peer_port));
    initial += (i ? "," : "") + std::string("m") + std::to_string(i) + "=" + peer_urls.back();
  }
  for (int i = 0; i < members; ++i) {
    const std::string name = "m" + std::to_string(i);
    std::vector<std::string> argv = {options.binary,
                                     "--name=" + name,
                                     "--data-dir=" + dir_ + "/" + name,
                                     "--listen-client-urls=" + client_urls[i],
                                     "--advertise-client-urls=" + client_urls[i],
                                     "--listen-peer-urls=" + peer_urls[i],
                                     "--initial-advertise-peer-urls=" + peer_urls[i],
                                     "--initial-cluster=" + initial,
                                     "--initial-cluster-state=new",
                                     "--initial-cluster-token=aspen-test",
                                     "--log-level=warn",
                                     "--logger=zap"};
    argv.insert(argv.end(), options.extra_flags.begin(), options.extra_flags.end());
    logs_.push_back(dir_ + "/" + name + ".log");
    Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(argv, logs_.back());
    if (!child.ok()) return child.status();
    processes_.push_back(std::move(child).value());
  }
  const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::uint64_t leader = 0;
    bool agreed = true;
    for (std::size_t i = 0; i < processes_.size() && agreed; ++i) {
      if (!processes_[i]->Running()) {
        return Status::Unavailable("etcd member m" + std::to_string(i) +
                                   " exited during start-up; logs:\n" + LogTails());
      }
      Result<etcdserverpb::StatusResponse> st = MemberStatus(endpoints_[i]);
      agreed = st.ok() && st->leader() != 0 && (leader == 0 || st->leader() == leader);
      if (agreed) leader = st->leader();
    }
    if (agreed) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("etcd cluster not healthy within " +
                             std::to_string(options.start_timeout.count()) + " ms; logs:\n" +
                             LogTails());
}

void EtcdCluster::StopAll() {
  for (auto& p : processes_) p->Stop(SIGTERM, std::chrono::milliseconds(5000));
  processes_.clear();
  endpoints_.clear();
  logs_.clear();
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  dir_.clear();
}

EtcdCluster::~EtcdCluster() {
  StopAll();
}

std::string EtcdCluster::FollowerEndpoint() const {
  for (const std::string& e : endpoints_) {
    Result<etcdserverpb::StatusResponse> st = MemberStatus(e);
    if (st.ok() && st->leader() != 0 && st->leader() != st->header().member_id()) return e;
  }
  return "";
}

std::string EtcdCluster::LogTails(std::size_t max_bytes) const {
  std::string out;
  for (std::size_t i = 0; i < logs_.size(); ++i) {
    out += "--- m" + std::to_string(i) + "\n" + ReadTail(logs_[i], max_bytes);
  }
  return out;
}

}  // namespace aspen::testing
