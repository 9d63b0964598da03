// Apply must be deterministic (DESIGN.md): src/sm/ may not read a clock,
// randomness or the environment. This test reads the sources and fails on
// any such call, so a slip is caught before a replica diverges.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

TEST(SmSources, ReadNoClockRandomnessOrEnvironment) {
  const std::filesystem::path dir = std::filesystem::path(ASPEN_SOURCE_DIR) / "src" / "sm";
  const std::vector<std::string> banned = {
      "system_clock", "steady_clock", "high_resolution_clock", "gettimeofday", "clock_gettime",
      "time(",        "rand(",        "random_device",         "mt19937",      "getenv"};
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".h" && ext != ".cc") continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    const std::string src = text.str();
    for (const std::string& word : banned) {
      std::size_t pos = src.find(word);
      // "time(" also matches e.g. "runtime(": require a non-identifier before it.
      while (pos != std::string::npos && pos > 0 &&
             (std::isalnum(static_cast<unsigned char>(src[pos - 1])) || src[pos - 1] == '_')) {
        pos = src.find(word, pos + 1);
      }
      EXPECT_EQ(pos, std::string::npos) << entry.path() << " uses " << word;
    }
  }
  EXPECT_GT(files, 10);  // the directory was really read
}

}  // namespace
