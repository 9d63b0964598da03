// Runs the real `aspen` binary (path compiled in as ASPEN_BINARY) in tests.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace aspen::testing {

struct AspenRun {
  int exit_code = -1;  // -1 when it could not be started or did not finish
  std::string out;     // stdout
  std::string err;     // stderr
  std::string all() const { return out + err; }
};

// Runs `aspen args...` with stdin from /dev/null, waits at most timeout (then
// kills it and reports a test failure), and returns its exit code and output.
AspenRun RunAspen(const std::vector<std::string>& args,
                  std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace aspen::testing
