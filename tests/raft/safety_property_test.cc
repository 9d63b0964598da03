// Randomized safety test: many seeds drive the harness through message loss,
// duplication, reordering, partitions, crashes/restarts, compaction,
// leadership transfers and membership changes. The harness asserts Raft's
// safety properties after every step (at most one leader per term, log
// matching, leader completeness, every node applies the same entry at each
// index). After the faults stop, the cluster must elect a leader, commit a
// final entry and converge (liveness).
//
// A failing seed reproduces exactly: the run depends only on the seed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "raft/harness.h"

namespace aspen::raft {
namespace {

using testing::Cluster;
using testing::ClusterOptions;

class Chaos {
 public:
  Chaos(std::uint64_t seed, bool pre_vote, bool check_quorum)
      : rng_(seed),
        c_({.voters = 5,
            .pre_vote = pre_vote,
            .check_quorum = check_quorum,
            .max_size_per_msg = 256,
            .max_inflight_msgs = 4,
            .seed = seed}) {}

  void Run(int steps) {
    for (int step = 0; step < steps && !::testing::Test::HasFailure(); ++step) {
      const int dice = Uniform(100);
      if (dice < 45) {
        DeliverSome();
      } else if (dice < 52) {
        DropSome();
      } else if (dice < 55) {
        if (!c_.queue().empty()) c_.DuplicateAt(Uniform(c_.queue().size()));
      } else if (dice < 75) {
        c_.Tick(RandomNode());
      } else if (dice < 87) {
        Propose();
      } else if (dice < 90) {
        Repartition();
      } else if (dice < 91) {
        c_.Restart(RandomNode());
      } else if (dice < 93) {
        CompactSome();
      } else if (dice < 94) {
        Transfer();
      } else if (dice < 95) {
        ChangeMembership();
      } else {
        c_.Heal();
      }
      c_.CheckSafety();
    }
  }

  // Faults stop: the cluster must make progress and converge.
  void Settle() {
    if (::testing::Test::HasFailure()) return;
    c_.Heal();
    NodeId leader = kNone;
    for (int round = 0; round < 400; ++round) {
      c_.TickAll(1).Stabilize();
      ReportSnapshots();
      leader = c_.Leader();
      if (leader != kNone &&
          c_.raft(leader).pending_conf_index() <= c_.node(leader).applied_index &&
          c_.TryPropose(leader, "final").ok()) {
        break;
      }
      leader = kNone;
    }
    ASSERT_NE(leader, kNone) << "no leader after healing";
    for (int round = 0; round < 400; ++round) {
      c_.TickAll(1).Stabilize();
      ReportSnapshots();
      if (Done()) break;
      // Like a client, retry a proposal lost to a leader change.
      const NodeId l = c_.Leader();
      if (round % 20 == 19 && l != kNone) {
        const Error e = c_.TryPropose(l, "final");
        (void)e;
      }
    }
    EXPECT_TRUE(Done()) << "cluster did not converge after healing:\n" << Describe();
    std::uint64_t max_term = 0;
    for (NodeId id : c_.ids()) max_term = std::max(max_term, c_.raft(id).term());
    if (std::getenv("RAFT_CHAOS_STATS") != nullptr) {
      std::printf("terms=%llu applied=%llu values=%d\n", static_cast<unsigned long long>(max_term),
                  static_cast<unsigned long long>(c_.node(leader).applied_index), next_value_);
    }
  }

 private:
  std::size_t Uniform(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  NodeId RandomNode() {
    std::vector<NodeId> ids = c_.ids();
    return ids[Uniform(ids.size())];
  }

  void DeliverSome() {
    const std::size_t n = std::min<std::size_t>(c_.queue().size(), 1 + Uniform(4));
    for (std::size_t k = 0; k < n && !c_.queue().empty(); ++k) {
      // Mostly in order, sometimes any queued message: reordering.
      const std::size_t at = Uniform(4) == 0 ? Uniform(c_.queue().size()) : 0;
      c_.DeliverAt(at);
    }
  }

  void DropSome() {
    if (c_.queue().empty()) return;
    c_.queue().erase(c_.queue().begin() + static_cast<std::ptrdiff_t>(Uniform(c_.queue().size())));
  }

  void Propose() {
    const NodeId id = RandomNode();
    if (Uniform(20) == 0 && id == c_.Leader()) {
      // The leader sends its new entry, then crashes before its own fsync.
      const Error e = c_.raw(id).Propose("v" + std::to_string(next_value_++));
      (void)e;
      c_.SendThenCrashBeforePersist(id);
      return;
    }
    const Error e = c_.TryPropose(id, "v" + std::to_string(next_value_++));
    (void)e;  // dropped proposals are expected under faults
  }

  void Repartition() {
    std::set<NodeId> a;
    std::set<NodeId> b;
    for (NodeId id : c_.ids()) (Uniform(2) == 0 ? a : b).insert(id);
    c_.Heal().Partition(a, b);
  }

  void CompactSome() {
    const NodeId id = RandomNode();
    const testing::TestNode& n = c_.node(id);
    if (n.applied_index > c_.raft(id).log().FirstIndex()) c_.Compact(id);
  }

  void Transfer() {
    const NodeId l = c_.Leader();
    if (l == kNone) return;
    const Error e = c_.raw(l).TransferLeadership(RandomNode());
    (void)e;
    c_.HandleReady(l);
  }

  // Demotes a voter to learner or promotes a learner back, one at a time.
  void ChangeMembership() {
    const NodeId l = c_.Leader();
    if (l == kNone) return;
    const NodeId target = RandomNode();
    pb::ConfChange cc;
    cc.set_node_id(target);
    const ProgressTracker& trk = c_.raft(l).tracker();
    if (trk.IsLearner(target)) {
      cc.set_type(pb::CONF_CHANGE_ADD_NODE);
    } else if (trk.IsVoter(target) && target != l && trk.voters().size() > 3) {
      cc.set_type(pb::CONF_CHANGE_ADD_LEARNER_NODE);
    } else {
      return;
    }
    const Error e = c_.raw(l).ProposeConfChange(cc);
    (void)e;
    c_.HandleReady(l);
  }

  void ReportSnapshots() {
    const NodeId l = c_.Leader();
    if (l == kNone) return;
    for (const auto& [id, pr] : c_.raft(l).tracker().progress()) {
      if (pr.state() == ProgressState::kSnapshot) c_.raw(l).ReportSnapshot(id, false);
    }
  }

  std::string Describe() {
    std::string out;
    for (NodeId id : c_.ids()) {
      const Raft& r = c_.raft(id);
      out += "node " + std::to_string(id) + " " + std::string(RoleName(r.role())) +
             " term=" + std::to_string(r.term()) + " lead=" + std::to_string(r.lead()) +
             " last=" + std::to_string(r.log().LastIndex()) +
             " commit=" + std::to_string(r.log().committed()) +
             " applied=" + std::to_string(c_.node(id).applied_index) +
             " voter=" + std::to_string(r.Promotable()) + "\n";
      if (r.role() != Role::kLeader) continue;
      for (const auto& [peer, pr] : r.tracker().progress()) {
        out += "  peer " + std::to_string(peer) + " " + std::string(ProgressStateName(pr.state())) +
               " match=" + std::to_string(pr.match()) + " next=" + std::to_string(pr.next()) +
               " paused=" + std::to_string(pr.IsPaused()) + "\n";
      }
    }
    return out;
  }

  bool Done() {
    for (NodeId id : c_.ids()) {
      const auto& applied = c_.node(id).applied;
      if (applied.empty() || applied.rbegin()->second.data != "final") return false;
    }
    return c_.Converged();
  }

  std::mt19937_64 rng_;
  Cluster c_;
  int next_value_ = 0;
};

class SafetyProperty : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(SafetyProperty, HoldsUnderRandomFaultsWithPreVoteAndCheckQuorum) {
  Chaos chaos(GetParam(), true, true);
  chaos.Run(3000);
  chaos.Settle();
}

TEST_P(SafetyProperty, HoldsUnderRandomFaultsWithPlainElections) {
  Chaos chaos(GetParam() + 1000, false, false);
  chaos.Run(3000);
  chaos.Settle();
}

INSTANTIATE_TEST_SUITE_P(Seeds, SafetyProperty, ::testing::Range<std::uint64_t>(1, 31));

}  // namespace
}  // namespace aspen::raft
