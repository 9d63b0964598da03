// `aspen tuple pack|unpack` end to end: the real binary, stdin in, stdout out.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs `aspen <args>` with `input` on stdin (through temp files: no shell
// quoting of the data itself).
RunResult RunAspen(const std::string& args, const std::string& input) {
  char dir_template[] = "/tmp/aspen-cli-test-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  EXPECT_NE(dir, nullptr);
  const std::string in = std::string(dir) + "/in";
  const std::string out = std::string(dir) + "/out";
  const std::string err = std::string(dir) + "/err";
  std::ofstream(in, std::ios::binary) << input;
  const std::string cmd =
      std::string("'") + ASPEN_BINARY + "' " + args + " <" + in + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  rmdir(dir);
  return r;
}

std::vector<std::string> SplitLines(const std::string& s) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < s.size()) {
    const std::size_t nl = s.find('\n', start);
    if (nl == std::string::npos) {
      lines.push_back(s.substr(start));
      break;
    }
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// ---- the golden file ----

struct Case {
  int line = 0;           // in the golden file
  std::string input;      // one input line
  bool is_error = false;  // expect "error: ..." containing `want`
  std::string want;       // exact output, or the error substring
  std::string json;       // pack only: expected unpack of the hex ("" = the input)
};

std::string After(const std::string& line, const std::string& tag) {
  std::string rest = line.substr(tag.size());
  if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
  return rest;
}

void LoadGolden(std::vector<Case>* pack, std::vector<Case>* unpack) {
  const std::vector<std::string> lines = SplitLines(ReadFile(ASPEN_TUPLE_GOLDEN));
  ASSERT_FALSE(lines.empty()) << "cannot read " << ASPEN_TUPLE_GOLDEN;
  std::vector<Case>* current = nullptr;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (l.empty() || l[0] == '#') continue;
    if (l.rfind("pack:", 0) == 0 || l.rfind("unpack:", 0) == 0) {
      current = l[0] == 'p' ? pack : unpack;
      Case c;
      c.line = static_cast<int>(i + 1);
      c.input = After(l, l[0] == 'p' ? "pack:" : "unpack:");
      current->push_back(std::move(c));
    } else if (l.rfind("want:", 0) == 0 && current) {
      current->back().want = After(l, "want:");
    } else if (l.rfind("error:", 0) == 0 && current) {
      current->back().is_error = true;
      current->back().want = After(l, "error:");
    } else if (l.rfind("json:", 0) == 0 && current) {
      current->back().json = After(l, "json:");
    } else {
      FAIL() << "golden line " << i + 1 << " not understood: " << l;
    }
  }
}

void CheckOutputs(const std::vector<Case>& cases, const std::vector<std::string>& got,
                  const char* command) {
  ASSERT_EQ(got.size(), cases.size()) << command << ": one output line per input line";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    if (c.is_error) {
      EXPECT_EQ(got[i].rfind("error: ", 0), 0u) << command << " golden line " << c.line;
      EXPECT_NE(got[i].find(c.want), std::string::npos)
          << command << " golden line " << c.line << ": got " << got[i];
    } else {
      EXPECT_EQ(got[i], c.want) << command << " golden line " << c.line << ": " << c.input;
    }
  }
}

std::string JoinLines(const std::vector<Case>& cases) {
  std::string s;
  for (const Case& c : cases) s += c.input + "\n";
  return s;
}

TEST(TupleCli, GoldenPackVectorsInOneProcess) {
  std::vector<Case> pack, unpack;
  LoadGolden(&pack, &unpack);
  ASSERT_GT(pack.size(), 100u);
  const RunResult r = RunAspen("tuple pack", JoinLines(pack));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  CheckOutputs(pack, SplitLines(r.out), "pack");
}

TEST(TupleCli, GoldenPackedKeysUnpackToTheirTuples) {
  std::vector<Case> pack, unpack;
  LoadGolden(&pack, &unpack);
  std::vector<Case> back;
  for (const Case& c : pack) {
    if (c.is_error) continue;
    back.push_back(Case{c.line, c.want, false, c.json.empty() ? c.input : c.json, ""});
  }
  const RunResult r = RunAspen("tuple unpack", JoinLines(back));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  CheckOutputs(back, SplitLines(r.out), "unpack");
}

TEST(TupleCli, GoldenUnpackVectors) {
  std::vector<Case> pack, unpack;
  LoadGolden(&pack, &unpack);
  ASSERT_GT(unpack.size(), 20u);
  const RunResult r = RunAspen("tuple unpack", JoinLines(unpack));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  CheckOutputs(unpack, SplitLines(r.out), "unpack");
}

// ---- the line contract ----

TEST(TupleCli, EmptyInputPrintsNothing) {
  const RunResult r = RunAspen("tuple pack", "");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "");
}

TEST(TupleCli, FinalLineWithoutNewlineCounts) {
  const RunResult r = RunAspen("tuple pack", "[{\"int\":\"1\"}]\n[{\"bool\":true}]");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "1501\n27\n");
}

TEST(TupleCli, ErrorLinesDoNotStopTheRunAndExitCodeStaysZero) {
  const RunResult r = RunAspen("tuple pack", "[]\nnot json\n\n[{\"null\":null}]\n");
  EXPECT_EQ(r.exit_code, 0);
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], "");
  EXPECT_EQ(lines[1].rfind("error: invalid JSON", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], "error: empty line; a tuple is a JSON array such as []");
  EXPECT_EQ(lines[3], "00");
}

TEST(TupleCli, RawLineSeparatorsInsideStringsDoNotSplitLines) {
  // U+2028, U+0085 and "\r" are not line ends; only "\n" is.
  const RunResult r =
      RunAspen("tuple pack", "[{\"string\":\"\xe2\x80\xa8\xc2\x85\"}]\n[{\"int\":\"2\"}]\r\n");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "02e280a8c28500\n1502\n");  // "\r" is JSON whitespace
}

TEST(TupleCli, InvalidUtf8InPackInputIsAnErrorLine) {
  const RunResult r =
      RunAspen("tuple pack", "[{\"string\":\"\xff\"}]\n[{\"string\":\"\xed\xa0\x80\"}]\n");
  EXPECT_EQ(r.exit_code, 0);
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& l : lines) {
    EXPECT_EQ(l.rfind("error: invalid JSON", 0), 0u) << l;
    for (unsigned char c : l) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "error lines are ASCII";
  }
}

TEST(TupleCli, CarriageReturnInUnpackInputIsAnError) {
  const RunResult r = RunAspen("tuple unpack", "1501\r\n1501\n");
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("error: key:", 0), 0u);
  EXPECT_EQ(lines[1], "[{\"int\":\"1\"}]");
}

std::string Nested(int levels, const std::string& inner) {
  std::string s = "[";
  for (int i = 0; i < levels; ++i) s += "{\"tuple\":[";
  s += inner;
  for (int i = 0; i < levels; ++i) s += "]}";
  return s + "]";
}

TEST(TupleCli, NestingDepthIsBoundedBothWays) {
  const RunResult r = RunAspen("tuple pack", Nested(64, "{\"null\":null}") + "\n" + Nested(65, "") +
                                                 "\n" + Nested(50000, "") + "\n");
  const auto lines = SplitLines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  std::string want;
  for (int i = 0; i < 64; ++i) want += "05";
  want += "00ff";
  for (int i = 0; i < 64; ++i) want += "00";
  EXPECT_EQ(lines[0], want);
  EXPECT_EQ(lines[1], "error: tuples nested deeper than 64 levels");
  EXPECT_EQ(lines[2], "error: tuples nested deeper than 64 levels");
  // The same bound on the way back: 65 levels of 0x05 is a malformed key.
  std::string too_deep;
  for (int i = 0; i < 65; ++i) too_deep += "05";
  for (int i = 0; i < 65; ++i) too_deep += "00";
  const RunResult u = RunAspen("tuple unpack", want + "\n" + too_deep + "\n");
  const auto ulines = SplitLines(u.out);
  ASSERT_EQ(ulines.size(), 2u);
  EXPECT_EQ(ulines[0], Nested(64, "{\"null\":null}"));
  EXPECT_NE(ulines[1].find("nested deeper than 64 levels"), std::string::npos) << ulines[1];
}

TEST(TupleCli, BadUsageExitsNonZero) {
  EXPECT_NE(RunAspen("tuple", "").exit_code, 0);
  EXPECT_NE(RunAspen("tuple frobnicate", "").exit_code, 0);
  EXPECT_NE(RunAspen("tuple pack extra-arg", "").exit_code, 0);
}

}  // namespace
