// Invariant checks for the tuple layer, always on (release builds too).
//
// tuple/ includes nothing else of Aspen (DESIGN.md), so it keeps this tiny
// header instead of base/assert.h. A failed ASPEN_TUPLE_ASSERT is a bug in the
// caller or in tuple/ itself, never a reaction to outside bytes: malformed
// input is answered with a tuple::Error.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace aspen::tuple::internal {

[[noreturn]] inline void AssertFail(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "aspen tuple: assertion failed: %s at %s:%d\n", cond, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace aspen::tuple::internal

#define ASPEN_TUPLE_ASSERT(cond)                                       \
  do {                                                                 \
    if (!(cond)) [[unlikely]]                                          \
      ::aspen::tuple::internal::AssertFail(#cond, __FILE__, __LINE__); \
  } while (0)
