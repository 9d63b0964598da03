// Proof that the checkers are not vacuous: with a known bug switched on, the
// simulator fails a seed within a fixed number of seeds; with the bug off the
// same seeds pass. Run against both runtimes (replica.h): node::Node (the
// product's Ready loop) and the simulator's raw loop.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "sim/simulation.h"

namespace aspen::sim {
namespace {

struct Sweep {
  std::uint64_t first_failing_seed = 0;  // 0: none failed
  std::string failure;
};

// A safety or linearizability verdict (not a liveness timeout or a message
// storm): what the bug-injection proof must produce.
bool IsCorrectnessFailure(const std::string& failure) {
  return failure.find("violated") != std::string::npos ||
         failure.find("replicas diverged") != std::string::npos ||
         failure.find("not linearizable") != std::string::npos;
}

// The first seed in [1, seeds] that fails with a correctness verdict (one
// containing `verdict`, when given).
Sweep RunUntilFailure(Runtime runtime, SimBug bug, std::uint64_t seeds,
                      const std::string& verdict = "") {
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    SimOptions o;
    o.seed = seed;
    o.nodes = 0;
    o.runtime = runtime;
    o.bug = bug;
    Simulation sim(o);
    const RunResult r = sim.Run();
    const bool expected = bug == SimBug::kNone || (IsCorrectnessFailure(r.failure) &&
                                                   r.failure.find(verdict) != std::string::npos);
    if (!r.ok && expected) return Sweep{seed, r.failure};
  }
  return Sweep{};
}

// How many seeds each injected bug is given to be caught in.
constexpr std::uint64_t kSeedBudget = 200;

void ExpectCaught(Runtime runtime, SimBug bug, const char* name) {
  const Sweep s = RunUntilFailure(runtime, bug, kSeedBudget);
  ASSERT_NE(s.first_failing_seed, 0u) << "no seed of " << kSeedBudget << " caught " << name;
  std::printf("%s caught at seed %llu: %s\n", name,
              static_cast<unsigned long long>(s.first_failing_seed), s.failure.c_str());
}

TEST(BugInjection, NodeAckingWritesBeforeTheyAreDurableIsCaught) {
  // node::Node's store acknowledges every write unsynced: votes and appended
  // entries are acknowledged before they are durable, so a crash forgets them
  // and two leaders share a term or a committed entry is lost.
  ExpectCaught(Runtime::kNode, SimBug::kSkipSync, "node skip-sync");
}

TEST(BugInjection, NodeOnRaftVoteWithoutLogCheckIsCaught) {
  // raft::TestingBug::kVoteWithoutLogCheck through NodeOptions::testing_bug:
  // a candidate missing committed entries can win an election.
  ExpectCaught(Runtime::kNode, SimBug::kRaftVoteWithoutLogCheck, "node vote-without-log-check");
}

TEST(BugInjection, NodeServingReadsWithoutReadIndexIsCaught) {
  // Gets answered from a replica's local state: stale reads break
  // linearizability.
  ExpectCaught(Runtime::kNode, SimBug::kStaleRead, "node stale-read");
}

TEST(BugInjection, NodeSnapshotInstalledWithoutItsKeysIsCaught) {
  // The snapshot transfer drops the kv column family: the receiver resumes
  // from the snapshot index with the right applied index and revision but no
  // keys. The replicas' HashKV (or a read) exposes it.
  ExpectCaught(Runtime::kNode, SimBug::kSnapshotDropKv, "node snapshot-drop-kv");
}

// One lease bug per lease check (sim/lease_check.h, docs/SIMULATOR.md
// "Leases"): each must be caught by the check it is aimed at.
void ExpectLeaseBugCaughtBy(SimBug bug, const std::string& verdict, const char* name) {
  const Sweep s = RunUntilFailure(Runtime::kNode, bug, kSeedBudget, verdict);
  ASSERT_NE(s.first_failing_seed, 0u)
      << "no seed of " << kSeedBudget << " caught " << name << " with '" << verdict << "'";
  std::printf("%s caught at seed %llu: %s\n", name,
              static_cast<unsigned long long>(s.first_failing_seed),
              s.failure.substr(0, 300).c_str());
}

TEST(BugInjection, RevocationLeavingAKeyBehindIsCaughtByTheAtomicityAudit) {
  // A revocation's write keeps one of the lease's keys: a replica holds a key
  // attached to a lease that no longer exists.
  ExpectLeaseBugCaughtBy(SimBug::kRevokeKeepsAKey, "did not vanish with it", "revoke-keeps-a-key");
}

TEST(BugInjection, PutWithARevokedLeaseAcceptedIsCaught) {
  // A revocation's write keeps the lease row: a later put with the revoked
  // lease is accepted instead of "lease not found".
  ExpectLeaseBugCaughtBy(SimBug::kRevokeKeepsLeaseRow, "was accepted, but lease",
                         "revoke-keeps-lease-row");
}

TEST(BugInjection, LeaseExpiredBeforeItsTtlIsCaught) {
  // The leader's steady clock runs three times too fast: leases expire at a
  // third of their TTL.
  ExpectLeaseBugCaughtBy(SimBug::kFastLeaseClock, "expired lease", "fast-lease-clock");
}

TEST(BugInjection, ReplicasDisagreeingOnTheLeaseSetIsCaught) {
  // A snapshot transfer leaves out the leases without keys: the receiver's
  // lease set differs from its peers' at the same applied index (no key is
  // orphaned, so only the comparison between replicas sees it).
  ExpectLeaseBugCaughtBy(SimBug::kSnapshotDropIdleLeases, "replicas disagree on the leases",
                         "snapshot-drop-idle-leases");
}

TEST(BugInjection, RevocationAcknowledgedBeforeItIsAppliedIsCaughtByLinearizability) {
  // A revocation is answered when proposed: a read after the answer still sees
  // the lease's keys, or the revocation is lost with its leader.
  ExpectLeaseBugCaughtBy(SimBug::kRevokeAckedBeforeApplied, "not linearizable",
                         "revoke-acked-before-applied");
}

TEST(BugInjection, RawSkipSyncIsCaught) {
  ExpectCaught(Runtime::kRaw, SimBug::kSkipSync, "raw skip-sync");
}

TEST(BugInjection, RawRaftVoteWithoutLogCheckIsCaught) {
  ExpectCaught(Runtime::kRaw, SimBug::kRaftVoteWithoutLogCheck, "raw vote-without-log-check");
}

TEST(BugInjection, SameSeedsPassWithoutTheBug) {
  for (Runtime runtime : {Runtime::kNode, Runtime::kRaw}) {
    const Sweep s = RunUntilFailure(runtime, SimBug::kNone, 40);
    EXPECT_EQ(s.first_failing_seed, 0u) << s.failure;
  }
}

}  // namespace
}  // namespace aspen::sim
