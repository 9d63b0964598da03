// A child process with pipes to its stdin and stdout, for the storage process
// tests. Loopback-free: the tests talk to children through pipes only.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

extern char** environ;

namespace aspen::storage::testing {

class Subprocess {
 public:
  // Starts argv[0] with argv; check ok() afterwards.
  explicit Subprocess(const std::vector<std::string>& argv) {
    int out[2];
    int in[2];
    if (::pipe(out) != 0 || ::pipe(in) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, in[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    ::close(in[0]);
    stdout_ = out[0];
    stdin_ = in[1];
    if (rc != 0) pid_ = -1;
  }

  ~Subprocess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
    if (stdout_ >= 0) ::close(stdout_);
    CloseStdin();
  }

  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool ok() const { return pid_ > 0; }

  void CloseStdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // Reads what is available on stdout within `timeout` (stops early at EOF).
  // Returns false at EOF.
  bool ReadFor(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return true;
      pollfd p{stdout_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n <= 0) continue;
      char buf[4096];
      const ssize_t got = ::read(stdout_, buf, sizeof(buf));
      if (got <= 0) return false;
      output_.append(buf, static_cast<std::size_t>(got));
    }
  }

  // Reads stdout until it holds a complete line or `timeout` passes; returns
  // whether it does.
  bool ReadUntilLine(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find('\n') == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (!ReadFor(std::chrono::milliseconds(5))) return output_.find('\n') != std::string::npos;
    }
    return true;
  }

  // Reads stdout until EOF (the child exited or closed it).
  void ReadToEof() {
    char buf[4096];
    for (;;) {
      const ssize_t got = ::read(stdout_, buf, sizeof(buf));
      if (got <= 0) return;
      output_.append(buf, static_cast<std::size_t>(got));
    }
  }

  // True (and the wait status in *status) if the child has exited.
  bool Exited(int* status) {
    if (exited_) {
      *status = status_;
      return true;
    }
    if (::waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    *status = status_;
    return exited_;
  }

  void Kill() {
    if (!exited_) ::kill(pid_, SIGKILL);
  }

  // Waits for exit; returns the wait status.
  int Wait() {
    if (!exited_) {
      while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
      }
      exited_ = true;
    }
    return status_;
  }

  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
  int status_ = 0;
  std::string output_;
};

}  // namespace aspen::storage::testing
