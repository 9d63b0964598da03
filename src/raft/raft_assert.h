// Invariant checks for raft/, on in every build (Tiger Style).
//
// raft/ includes nothing else of Aspen (DESIGN.md), so it keeps this tiny header
// instead of base/assert.h. RAFT_ASSERT guards internal invariants: a failure is
// a bug (or a storage that broke its contract), never a reaction to a peer's
// message; those are validated and answered with an Error instead.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace aspen::raft {

[[noreturn]] inline void RaftAssertFail(const char* cond, const char* file, int line,
                                        const char* msg) {
  std::fprintf(stderr, "raft: assertion failed: %s at %s:%d%s%s\n", cond, file, line,
               msg[0] != '\0' ? ": " : "", msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace aspen::raft

#define RAFT_ASSERT(cond)                                           \
  do {                                                              \
    if (!(cond)) [[unlikely]]                                       \
      ::aspen::raft::RaftAssertFail(#cond, __FILE__, __LINE__, ""); \
  } while (0)

#define RAFT_ASSERT_MSG(cond, msg)                                     \
  do {                                                                 \
    if (!(cond)) [[unlikely]]                                          \
      ::aspen::raft::RaftAssertFail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
