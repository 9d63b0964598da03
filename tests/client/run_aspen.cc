#include "client/run_aspen.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "proc/etcd_fixture.h"

namespace aspen::testing {

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

AspenRun RunAspen(const std::vector<std::string>& args, std::chrono::seconds timeout) {
  AspenRun run;
  Result<std::string> dir = MakeTempDir("aspen-cli-run");
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  if (!dir.ok()) return run;
  std::vector<std::string> argv = {ASPEN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  Result<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Spawn(argv, *dir + "/out", *dir + "/err");
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (child.ok()) {
    const std::optional<int> code = (*child)->Wait(timeout);
    EXPECT_TRUE(code.has_value()) << "aspen did not finish within " << timeout.count() << " s";
    run.exit_code = code.value_or(-1);
  }
  run.out = ReadFile(*dir + "/out");
  run.err = ReadFile(*dir + "/err");
  std::filesystem::remove_all(*dir);
  return run;
}

}  // namespace aspen::testing
