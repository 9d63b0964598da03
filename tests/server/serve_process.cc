#include "server/serve_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "client/client.h"

namespace aspen::testing {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ProgramRun RunProgram(const std::vector<std::string>& argv, const std::string& input,
                      std::chrono::milliseconds timeout, const std::vector<std::string>& env) {
  ProgramRun run;
  Result<std::string> dir = MakeTempDir("aspen-run");
  if (!dir.ok()) return run;
  const std::string in_path = *dir + "/in", out_path = *dir + "/out", err_path = *dir + "/err";
  {
    std::ofstream in(in_path, std::ios::binary);
    in << input;
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.insert(env_strings.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  const int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(in_fd);
  ::close(out_fd);
  ::close(err_fd);
  if (pid < 0) return run;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run.out = ReadFile(out_path);
  run.err = ReadFile(err_path);
  std::error_code ec;
  std::filesystem::remove_all(*dir, ec);
  return run;
}

MemberPorts PickMemberPorts() {
  // Ports this test process handed out before: a port is only free until
  // someone binds it, and the members of a cluster are picked before any of
  // them starts, so two members could otherwise be given the same port (one
  // member's metrics port was another's peer port in a CI run).
  static std::mutex mu;
  static std::set<int> handed_out;
  std::lock_guard lock(mu);
  auto pick = [&] {
    while (true) {
      const int port = PickFreeLoopbackPort().value();
      if (handed_out.insert(port).second) return port;
    }
  };
  MemberPorts p;
  p.client = pick();
  p.peer = pick();
  p.metrics = pick();
  return p;
}

Result<std::unique_ptr<AspenMember>> AspenMember::Start(const std::string& name,
                                                        const std::string& data_dir,
                                                        const MemberPorts& ports,
                                                        const std::vector<std::string>& extra,
                                                        bool wait_ready,
                                                        std::chrono::milliseconds start_timeout) {
  std::unique_ptr<AspenMember> m(new AspenMember());
  m->ports_ = ports;
  m->log_path_ = data_dir + ".log";
  std::vector<std::string> argv = {
      ASPEN_BINARY,
      "serve",
      "--name=" + name,
      "--data-dir=" + data_dir,
      "--listen-client-urls=http://" + ports.client_endpoint(),
      "--listen-peer-urls=" + ports.peer_url(),
      "--listen-metrics-urls=http://127.0.0.1:" + std::to_string(ports.metrics)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(argv, m->log_path_);
  if (!child.ok()) return child.status();
  m->process_ = std::move(child).value();
  if (!wait_ready) return m;
  client::ClientOptions copts;
  copts.endpoints = {m->endpoint()};
  copts.dial_timeout = std::chrono::milliseconds(500);
  copts.call_timeout = std::chrono::milliseconds(1000);
  std::unique_ptr<client::Client> c = client::Client::Create(copts).value();
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!m->process_->Running()) break;
    if (c->EndpointStatus().ok()) return m;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("aspen serve " + name + " did not become ready:\n" + m->Log());
}

AspenMember::~AspenMember() {
  if (process_ != nullptr) process_->Stop(SIGTERM, std::chrono::seconds(5));
}

std::string AspenMember::Log() const {
  std::string s = ReadFile(log_path_);
  return s.size() > 4096 ? s.substr(s.size() - 4096) : s;
}

std::string AspenCluster::JoinedEndpoints() const {
  std::string all;
  for (const std::string& e : endpoints) all += (all.empty() ? "" : ",") + e;
  return all;
}

Result<AspenCluster> AspenCluster::Start(const std::string& dir, int size, const std::string& token,
                                         const std::vector<std::string>& extra) {
  AspenCluster c;
  std::string initial;
  for (int i = 0; i < size; ++i) {
    c.ports.push_back(PickMemberPorts());
    initial += (i ? "," : "") + std::string("n") + std::to_string(i) + "=" + c.ports[i].peer_url();
  }
  for (int i = 0; i < size; ++i) {
    std::vector<std::string> args = {"--initial-cluster=" + initial,
                                     "--initial-cluster-token=" + token};
    args.insert(args.end(), extra.begin(), extra.end());
    auto m = AspenMember::Start("n" + std::to_string(i), dir + "/n" + std::to_string(i), c.ports[i],
                                args, /*wait_ready=*/false);
    if (!m.ok()) return m.status();
    c.endpoints.push_back((*m)->endpoint());
    c.members.push_back(std::move(m).value());
  }
  return c;
}

ProgramRun Etcdctl(const std::string& endpoint, const std::vector<std::string>& args,
                   const std::string& input) {
  std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + endpoint,
                                   "--dial-timeout=3s", "--command-timeout=10s"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, input, std::chrono::seconds(30), {"ETCDCTL_API=3"});
}

}  // namespace aspen::testing
