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
#include <utility>
#include <vector>

namespace aspen::sim {

// kRange, kLeaseGrant, kLeaseRevoke, kKeepAlive and kLeaseExpire act on a
// lease slot (LeaseSlotPrefix): its keys and the leases granted for them.
// kLeaseExpire is not a client's: it is a revocation the leader proposed when
// a lease expired, recorded when a replica first applied it (unknown answer,
// applied_by_ms set, invoke_ms = when the leader proposed it).
enum class OpKind {
  kPut,
  kGet,
  kDelete,
  kCas,
  kRange,
  kLeaseGrant,
  kLeaseRevoke,
  kKeepAlive,
  kLeaseExpire
};
enum class Outcome { kOk, kUnknown };

// A key's value as a client observes it: absent, or a value with its etcd
// per-key version (1 on creation, +1 per put, reset by a delete) and the
// lease it is attached to (0: none).
struct KeyState {
  bool present = false;
  std::string value;
  std::int64_t version = 0;
  std::int64_t lease = 0;
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
  // kPut: the lease to attach (0: none). Lease ops: the lease. kLeaseGrant:
  // its TTL in seconds.
  std::int64_t lease = 0;
  std::int64_t ttl_s = 0;
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
  // kPut with a lease: flag = refused with "lease not found" (nothing
  // written). kLeaseGrant: flag = refused "lease already exists".
  // kLeaseRevoke, kKeepAlive: flag = the lease was found. kRange: `range`
  // holds every present key of the slot, in key order.
  KeyState read;
  bool flag = false;
  std::vector<std::pair<std::string, KeyState>> range;
};

using History = std::vector<Operation>;

std::string DescribeOperation(const Operation& op);

// Lease slots: slot s owns the keys "l<s>/<name>" and every lease granted for
// them; a lease is only ever attached to keys of its own slot, so a slot is
// closed under revocation and is checked as one unit (linearizability.h).
std::string LeaseSlotPrefix(int slot);
// The unit the linearizability checker searches an operation in: the slot
// prefix for a key with a '/', else the key itself.
std::string PartitionOf(const std::string& key);
// Lease ids name their slot, so the simulator knows a lease's slot from the id
// alone (an expiry carries only the id): (slot + 1) << 40 | client << 24 | n.
std::int64_t MakeLeaseId(int slot, int client, std::uint64_t n);
int LeaseSlotOf(std::int64_t lease);

}  // namespace aspen::sim
