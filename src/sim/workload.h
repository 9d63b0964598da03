// Client: one simulated client of the cluster. It runs one operation at a
// time (put, get, delete or CAS on a small key set), sends it to the node it
// believes is the leader, retries elsewhere when a node refuses it (refused
// means certainly not executed), and gives up at a timeout, recording the
// operation's outcome as unknown. Every operation that may have taken effect
// ends up in the history.
//
// Values are unique ("c<client>.<n>"), which keeps the linearizability search
// small. In seeds with lease slots (options.h) a share of the operations act on
// a slot: grant a lease (TTL 1-2 s), put a slot key with a lease (usually a
// recent one, sometimes any lease ever granted, so puts with revoked or expired
// leases happen), put or delete a slot key without one, read the whole slot
// (one range), keep a lease alive, or revoke one. CAS expects a value the client saw on that key
// (or one it wrote), so a fair share of them succeed.
//
// Thread safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/history.h"
#include "sim/network.h"
#include "sim/options.h"
#include "sim/rng.h"
#include "sim/trace.h"

namespace aspen::sim {

// The leases the clients know of, per lease slot, in grant order (shared by
// every client: an application passes lease ids around). A grant is listed
// when invoked, so others may use a lease whose grant is still uncertain.
struct LeaseBook {
  std::vector<std::vector<std::int64_t>> slots;
};

class Client {
 public:
  // `leases` is shared by the run's clients; not owned.
  Client(int index, const SimOptions& options, Rng* rng, Trace* trace, LeaseBook* leases)
      : index_(index), options_(options), rng_(rng), trace_(trace), leases_(leases) {}

  Endpoint endpoint() const { return kClientBase + static_cast<Endpoint>(index_); }

  // Advances the client to now_ms: issues a new operation when idle and
  // `issue` is true, resends a refused one, or gives up at the timeout.
  // `nodes` are the ids a request may be sent to.
  void Tick(std::int64_t now_ms, bool issue, const std::vector<std::uint64_t>& nodes,
            std::uint64_t* next_request_id, std::vector<Packet>* out, History* history);
  void OnReply(const ClientReply& reply, std::int64_t now_ms, History* history);

  bool idle() const { return !current_.has_value(); }

 private:
  Operation NextOperation(std::int64_t now_ms);
  // An operation on lease slot `slot` (options.lease_slots > 0).
  void NextLeaseOperation(int slot, Operation* op);
  void SendCurrent(std::int64_t now_ms, const std::vector<std::uint64_t>& nodes,
                   std::vector<Packet>* out);
  void Finish(Outcome outcome, std::int64_t now_ms, History* history);

  const int index_;
  const SimOptions& options_;
  Rng* rng_;
  Trace* trace_;
  LeaseBook* leases_;
  std::uint64_t counter_ = 0;
  std::uint64_t leases_granted_ = 0;
  std::uint64_t leader_hint_ = 0;
  std::map<std::string, std::string> seen_;  // key -> a value seen or written
  std::optional<Operation> current_;
  std::uint64_t request_id_ = 0;
  std::int64_t deadline_ms_ = 0;
  bool resend_ = false;
  std::int64_t resend_at_ms_ = 0;
  std::int64_t next_issue_ms_ = 0;
};

}  // namespace aspen::sim
