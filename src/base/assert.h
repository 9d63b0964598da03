// Invariant checks that stay on in release builds (Tiger Style).
//
// ASPEN_ASSERT(cond) is for cheap checks of internal invariants: a failure is a
// bug in Aspen, never a reaction to outside input, so the process aborts with
// the file, line and condition. Outside input (network, files, CLI, SQL) is
// validated and answered with a Status instead.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace aspen::base {

[[noreturn]] inline void AssertFail(const char* cond, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "aspen: assertion failed: %s at %s:%d%s%s\n", cond, file, line,
               msg[0] ? ": " : "", msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace aspen::base

#define ASPEN_ASSERT(cond)                                      \
  do {                                                          \
    if (!(cond)) [[unlikely]]                                   \
      ::aspen::base::AssertFail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define ASPEN_ASSERT_MSG(cond, msg)                                \
  do {                                                             \
    if (!(cond)) [[unlikely]]                                      \
      ::aspen::base::AssertFail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)

// Expensive checks: only in debug and sanitizer builds.
#if !defined(NDEBUG) || defined(__SANITIZE_ADDRESS__)
#define ASPEN_DASSERT(cond) ASPEN_ASSERT(cond)
#else
#define ASPEN_DASSERT(cond) \
  do {                      \
  } while (0)
#endif
