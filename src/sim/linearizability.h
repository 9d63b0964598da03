// Linearizability checker for the client history of a run: the Wing–Gong
// search with Lowe's memoization (WGL), split per partition (PartitionOf in
// history.h: a plain key, or a lease slot with its keys and leases; every
// operation touches one partition, so the history is linearizable iff each
// partition's sub-history is), against a sequential model of etcd's
// put/get/delete/CAS and leases.
//
// Sequential model (etcd semantics, one key):
//   put(v)            -> answers the previous state (prev_kv); the key becomes
//                        present with value v and version = previous version
//                        + 1 (1 when it was absent).
//   get               -> answers the state (absent, or value and version).
//   delete            -> answers whether the key was present; it becomes absent.
//   cas(expected, v)  -> a Txn comparing VALUE == expected: succeeds (and acts
//                        as put(v)) iff the key is present with that value
//                        (etcd: a value compare on a missing key fails).
//   put(v, lease L)   -> L alive: as put, the key attached to L; else answers
//                        "lease not found" and changes nothing.
//   range(slot)       -> answers every present key of the slot (value,
//                        version, lease).
//   grant(L)          -> L becomes alive (L already alive: "already exists").
//   revoke(L), expire(L) -> L alive: every key attached to L is deleted and
//                        L is dead, in one step (answer "found"); else "lease
//                        not found" and nothing changes.
//   keepalive(L)      -> "not found" only if L is not alive. "found" only if L
//                        was ever granted: etcd's keep-alive is answered from
//                        the leader's lessor without a read barrier, so a
//                        deposed leader may still renew a lease its successor
//                        revoked; only the one-sided promise is checked.
//
// Unknown outcomes: an operation recorded with Outcome::kUnknown has no return
// event; the search may linearize it at any point after its invocation, or
// never, and accepts any answer for it; when it has applied_by_ms it must be
// linearized by then (any answer). A kGet with unknown outcome constrains
// nothing and is ignored.
//
// The search is bounded: when one key's search memoizes more than
// `max_states_per_key` (linearized set, state) pairs it stops and answers
// kBoundExceeded. Callers MUST treat that as a failure (the history was not
// shown linearizable), never as a pass.
//
// Thread safety: pure functions over their arguments.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "sim/history.h"

namespace aspen::sim {

struct LinearizabilityOptions {
  std::size_t max_states_per_key = 1'000'000;
};

enum class LinVerdict { kLinearizable, kNotLinearizable, kBoundExceeded };

struct LinearizabilityResult {
  LinVerdict verdict = LinVerdict::kLinearizable;
  // The key whose sub-history failed (empty when linearizable).
  std::string key;
  // Human-readable explanation: the failing key's operations in invocation
  // order, or the bound that was crossed.
  std::string message;
  // Memoized states over all keys searched.
  std::size_t states = 0;

  bool ok() const { return verdict == LinVerdict::kLinearizable; }
};

// The state of one partition: its present keys, the leases alive, and every
// lease ever granted (for keepalive's one-sided check).
struct ModelState {
  std::map<std::string, KeyState> keys;
  std::set<std::int64_t> alive;
  std::set<std::int64_t> granted;
  auto operator<=>(const ModelState&) const = default;
};

// The model's transition: the state after `op` when `op`'s recorded answer is
// consistent with `state` (any answer is consistent for kUnknown), else
// nullopt.
std::optional<ModelState> ModelStep(const ModelState& state, const Operation& op);

// Checks the whole history (all keys; keys are searched in sorted order).
LinearizabilityResult CheckLinearizable(const History& history,
                                        const LinearizabilityOptions& options = {});

}  // namespace aspen::sim
