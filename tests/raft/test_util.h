// Small helpers for raft unit tests that drive one RawNode by hand.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "raft/memory_storage.h"
#include "raft/raw_node.h"

namespace aspen::raft::testing {

inline pb::Entry Ent(std::uint64_t index, std::uint64_t term, std::string data = "") {
  pb::Entry e;
  e.set_index(index);
  e.set_term(term);
  e.set_data(std::move(data));
  return e;
}

inline pb::Message Msg(pb::MessageType t, NodeId from, NodeId to, std::uint64_t term) {
  pb::Message m;
  m.set_type(t);
  m.set_from(from);
  m.set_to(to);
  m.set_term(term);
  return m;
}

// A node with its own storage; voters/learners form its initial configuration.
struct Solo {
  MemoryStorage storage;
  std::unique_ptr<RawNode> node;

  Solo(NodeId id, std::vector<NodeId> voters, std::vector<NodeId> learners = {},
       Config tweak = {}) {
    pb::ConfState cs;
    for (NodeId v : voters) cs.add_voters(v);
    for (NodeId l : learners) cs.add_learners(l);
    storage.SetConfState(cs);
    tweak.id = id;
    tweak.storage = &storage;
    Result<std::unique_ptr<RawNode>> r = RawNode::Create(tweak);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().ToString());
    node = std::move(r).value();
  }

  const Raft& raft() const { return node->raft(); }

  // Handles every Ready (persisting into storage) and answers the messages.
  std::vector<pb::Message> Drain() {
    std::vector<pb::Message> out;
    while (node->HasReady()) {
      Ready rd = node->GetReady();
      if (rd.snapshot) {
        const Error e = storage.ApplySnapshot(*rd.snapshot);
        EXPECT_TRUE(e.ok()) << e.ToString();
      }
      const Error e = storage.Append(rd.entries);
      EXPECT_TRUE(e.ok()) << e.ToString();
      if (rd.hard_state) storage.SetHardState(*rd.hard_state);
      for (const pb::Entry& c : rd.committed_entries) committed.push_back(c);
      for (const ReadState& rs : rd.read_states) reads.push_back(rs);
      for (pb::Message& m : rd.messages) out.push_back(std::move(m));
      node->Advance();
    }
    return out;
  }

  // Steps a peer message and answers what the node sends back.
  std::vector<pb::Message> StepAndDrain(const pb::Message& m) {
    const Error e = node->Step(m);
    EXPECT_TRUE(e.ok()) << e.ToString();
    return Drain();
  }

  // Makes this node leader of a configuration of peers that all grant votes
  // (pre-vote and vote) and answers the messages of its first term.
  std::vector<pb::Message> BecomeLeader() {
    node->Campaign();
    for (int round = 0; round < 2 && raft().role() != Role::kLeader; ++round) {
      std::vector<pb::Message> reqs = Drain();
      for (const pb::Message& r : reqs) {
        if (r.type() != pb::MSG_VOTE && r.type() != pb::MSG_PRE_VOTE) continue;
        pb::Message resp = Msg(VoteRespType(r.type()), r.to(), r.from(), r.term());
        const Error e = node->Step(resp);
        EXPECT_TRUE(e.ok()) << e.ToString();
      }
    }
    EXPECT_EQ(raft().role(), Role::kLeader);
    return Drain();
  }

  std::vector<pb::Entry> committed;
  std::vector<ReadState> reads;
};

inline std::vector<pb::Message> OfType(const std::vector<pb::Message>& msgs, pb::MessageType t) {
  std::vector<pb::Message> out;
  for (const pb::Message& m : msgs) {
    if (m.type() == t) out.push_back(m);
  }
  return out;
}

}  // namespace aspen::raft::testing
