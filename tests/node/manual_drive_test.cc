// Nodes driven by hand on one thread (no Start(), a manual clock and a queued
// network), as the simulator drives them: the same inputs give the same run.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "node/hand_cluster.h"
#include "sm/reads.h"

namespace aspen::node {
namespace {

using testing::HandCluster;

std::vector<std::string> RunScenario() {
  HandCluster c(3);
  for (int i = 0; i < 200 && c.Leader() == 0; ++i) c.Step();
  const NodeId leader = c.Leader();
  EXPECT_NE(leader, 0u);
  if (leader == 0) return c.trace;
  int answered = 0;
  for (int i = 0; i < 5; ++i) {
    sm::v1::Command cmd;
    cmd.mutable_put()->set_key("k" + std::to_string(i));
    cmd.mutable_put()->set_value("v");
    c.nodes.at(leader)->Propose(std::move(cmd), [&](Result<sm::v1::Response> r) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      ++answered;
    });
  }
  for (int i = 0; i < 50 && answered < 5; ++i) c.Step();
  EXPECT_EQ(answered, 5);
  for (int i = 0; i < 5; ++i) c.Step();  // followers learn the commit index
  for (auto& [id, n] : c.nodes) {
    sm::v1::RangeRequest req;
    req.set_key("k4");
    auto got = sm::Range(*n->GetSnapshot(), req, 0);
    EXPECT_TRUE(got.ok());
    EXPECT_EQ(got->kvs_size(), 1) << "node " << id;
  }
  return c.trace;
}

TEST(ManualDrive, HandDrivenClusterElectsReplicatesAndRepeatsExactly) {
  const std::vector<std::string> first = RunScenario();
  const std::vector<std::string> second = RunScenario();
  EXPECT_FALSE(first.empty());
  EXPECT_EQ(first, second);
}

}  // namespace
}  // namespace aspen::node
