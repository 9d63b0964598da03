// Trace: the readable log of a run (aspen-sim --trace). Lines are kept only
// when tracing is on, so a normal run pays nothing for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aspen::sim {

class Trace {
 public:
  explicit Trace(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  void Line(std::int64_t now_ms, const std::string& text) {
    if (enabled_) lines_.push_back(std::to_string(now_ms) + "ms " + text);
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  bool enabled_;
  std::vector<std::string> lines_;
};

}  // namespace aspen::sim
