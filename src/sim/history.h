// The client history of a simulation run, as the linearizability checker
// (linearizability.h) reads it.
//
// Every operation a client issued is recorded with the simulated time it was
// invoked and the time its answer arrived. An operation whose outcome the
// client cannot know (it timed out, or the leader it talked to lost
// leadership before answering) is recorded with outcome kUnknown: it may or
// may not have taken effect, at any time after its invocation. Operations that
// certainly did not take effect (refused before being proposed) are not
// recorded at all.
//
// The simulator sees every replica, so it narrows unknown writes down after
// the run (Simulation::ResolveUnknownWrites): a put or CAS whose unique value
// some replica applied gets `applied_by_ms`; one that no replica applied by
// the end of the run (after the liveness phase made every member apply every
// committed entry) never took effect and is dropped. Both are facts about the
// run, so the check stays sound; they only shrink the search.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aspen::sim {

enum class OpKind { kPut, kGet, kDelete, kCas };
enum class Outcome { kOk, kUnknown };

// A key's value as a client observes it: absent, or a value with its etcd
// per-key version (1 on creation, +1 per put, reset by a delete).
struct KeyState {
  bool present = false;
  std::string value;
  std::int64_t version = 0;
  auto operator<=>(const KeyState&) const = default;
};

struct Operation {
  int client = 0;
  OpKind kind = OpKind::kGet;
  std::string key;
  // kPut, kCas: the value written. kCas: `expected` is compared with the
  // current value (etcd: a value compare on a missing key fails).
  std::string value;
  std::string expected;
  std::int64_t invoke_ms = 0;
  // Meaningful only for outcome kOk.
  std::int64_t return_ms = 0;
  // Outcome kUnknown only: when >= 0, the operation certainly took effect no
  // later than this time (the simulator saw a replica apply it), though its
  // answer is unknown. The checker then must linearize it before this time.
  std::int64_t applied_by_ms = -1;
  Outcome outcome = Outcome::kUnknown;
  // Results (outcome kOk only). kGet: the state read. kPut: the previous
  // state (prev_kv). kDelete: whether a key was deleted. kCas: succeeded.
  KeyState read;
  bool flag = false;
};

using History = std::vector<Operation>;

std::string DescribeOperation(const Operation& op);

}  // namespace aspen::sim
