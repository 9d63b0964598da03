// One Node: recovery and replay, restart on RocksDB, crash safety of
// acknowledged writes, leases, TTL keys, bounds, syncs per Ready, lifecycle.
#include "node/node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "node/cluster.h"
#include "node/raft_storage.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"
#include "storage/test_util.h"

namespace aspen::node::testing {
namespace {

NodeOptions SoloOptions(storage::Store* store) {
  NodeOptions o;
  o.id = 1;
  o.store = store;
  o.tick_interval_ms = 10;
  o.expiry_interval_ms = 50;
  o.request_timeout_ms = 2000;
  o.log = [](std::string_view) {};
  return o;
}

std::unique_ptr<Node> OpenStarted(const NodeOptions& o) {
  auto opened = Node::Open(o);
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  if (!opened.ok()) return nullptr;
  std::unique_ptr<Node> n = std::move(opened).value();
  EXPECT_TRUE(n->Start().ok());
  EXPECT_TRUE(WaitFor([&] { return n->GetStatus().role == Role::kLeader; }));
  return n;
}

// Writes a log of committed puts by hand, as a node that crashed after
// committing them but before applying them would have left it.
void WriteCommittedButUnappliedLog(storage::Store* store, int puts) {
  auto log = storage::LogStore::Open(store);
  ASSERT_TRUE(log.ok());
  RaftStorage rs(log->get());
  raft::Ready rd;
  rpb::Entry noop;
  noop.set_index(1);
  noop.set_term(1);
  rd.entries.push_back(noop);
  for (int i = 0; i < puts; ++i) {
    rpb::Entry e;
    e.set_index(2 + i);
    e.set_term(1);
    e.set_data(PutCmd("replayed" + std::to_string(i), "r").SerializeAsString());
    rd.entries.push_back(e);
  }
  rpb::HardState hs;
  hs.set_term(1);
  hs.set_vote(1);
  hs.set_commit(1 + puts);
  rd.hard_state = hs;
  storage::WriteBatch batch;
  rpb::ConfState cs;
  cs.add_voters(1);
  rs.SetConfState(&batch, cs);
  ASSERT_TRUE(rs.PersistReady(rd, &batch).ok());
  ASSERT_TRUE(store->Write(batch, true).ok());
}

TEST(Node, RecoveryReappliesCommittedEntriesAboveAppliedIndexAndReportsThem) {
  storage::MemStore store;
  WriteCommittedButUnappliedLog(&store, 5);
  std::vector<std::string> lines;
  NodeOptions o = SoloOptions(&store);
  std::mutex mu;
  o.log = [&](std::string_view l) {
    std::lock_guard lock(mu);
    lines.emplace_back(l);
  };
  auto n = OpenStarted(o);
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(WaitFor([&] { return n->GetStatus().applied_index >= 6; }));
  EXPECT_EQ(n->GetStatus().replayed_entries, 6u);  // the no-op and 5 puts
  for (int i = 0; i < 5; ++i) EXPECT_EQ(GetValue(n.get(), "replayed" + std::to_string(i), 0), "r");
  n->Stop();
  std::lock_guard lock(mu);
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("recovery: replayed 6 committed entries") != std::string::npos;
  }));
}

TEST(Node, RestartOnRocksStoreKeepsAppliedStateAndContinuesRevisions) {
  storage::testing::TempDir dir;
  std::int64_t revision = 0;
  std::uint64_t applied = 0;
  {
    auto store = storage::RocksStore::Open(dir.Sub("db"));
    ASSERT_TRUE(store.ok());
    auto n = OpenStarted(SoloOptions(store->get()));
    ASSERT_NE(n, nullptr);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(ProposeSync(n.get(), PutCmd("k" + std::to_string(i), "v")).ok());
    }
    revision = n->GetStatus().revision;
    applied = n->GetStatus().applied_index;
  }
  auto store = storage::RocksStore::Open(dir.Sub("db"));
  ASSERT_TRUE(store.ok());
  auto n = OpenStarted(SoloOptions(store->get()));
  ASSERT_NE(n, nullptr);
  EXPECT_GE(n->GetStatus().applied_index, applied);
  EXPECT_EQ(n->GetStatus().revision, revision);
  EXPECT_EQ(GetValue(n.get(), "k9", 0), "v");
  auto r = ProposeSync(n.get(), PutCmd("after", "restart"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->put().header().revision(), revision + 1);
}

TEST(Node, CrashLosingUnsyncedWritesKeepsEveryAcknowledgedWrite) {
  storage::MemStore store;
  {
    auto n = OpenStarted(SoloOptions(&store));
    ASSERT_NE(n, nullptr);
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(ProposeSync(n.get(), PutCmd("acked" + std::to_string(i), "v")).ok());
    }
    n->Stop();
  }
  store.Crash();  // drops every write after the last synced one
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(ReadBarrierSync(n.get()).ok());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(GetValue(n.get(), "acked" + std::to_string(i), 0), "v") << i;
  }
}

TEST(Node, LeaseKeptAliveSurvivesAndRevokesItsKeysOnceKeepAlivesStop) {
  storage::MemStore store;
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  sm::v1::Command grant;
  grant.mutable_lease_grant()->set_ttl(1);
  auto g = ProposeSync(n.get(), grant);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const std::int64_t lease = g->lease_grant().id();
  ASSERT_NE(lease, 0);
  ASSERT_TRUE(ProposeSync(n.get(), PutCmd("leased", "v", lease)).ok());
  for (int i = 0; i < 8; ++i) {
    auto ttl = n->KeepAlive(lease);
    ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
    EXPECT_EQ(*ttl, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(GetValue(n.get(), "leased", 0), "v");
  auto left = n->LeaseTimeToLive(lease);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->granted_ttl_s, 1);
  EXPECT_LE(left->remaining_ttl_s, 1);
  // No more keep-alives: the leader revokes it, with its key.
  EXPECT_TRUE(WaitFor([&] { return !GetValue(n.get(), "leased", 0).has_value(); },
                      std::chrono::seconds(4)));
  // The Lessor forgot the lease before its keys' deletion became visible.
  EXPECT_EQ(n->LeaseTimeToLive(lease).status().code(), Code::kNotFound);
  EXPECT_EQ(n->KeepAlive(lease).status().code(), Code::kNotFound);
}

TEST(Node, TtlKeysAreHiddenAtOnceAndDeletedByTheLeader) {
  storage::MemStore store;
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(ProposeSync(n.get(), PutCmd("short", "v", 0, 100)).ok());
  ASSERT_TRUE(ProposeSync(n.get(), PutCmd("forever", "v")).ok());
  const std::int64_t rev = n->GetStatus().revision;
  EXPECT_EQ(GetValue(n.get(), "short", n->NowMs()), "v");
  EXPECT_TRUE(
      WaitFor([&] { return !GetValue(n.get(), "short", 0).has_value(); }, std::chrono::seconds(3)));
  // Deleted through an ExpireKeys entry; GetStatus's revision never trails
  // what readers see (docs/NODE.md).
  EXPECT_GT(n->GetStatus().revision, rev);
  EXPECT_EQ(GetValue(n.get(), "forever", 0), "v");
}

TEST(Node, ProposalsBeyondThePendingBoundAreRefusedAtOnce) {
  storage::MemStore store;
  NodeOptions o = SoloOptions(&store);
  o.max_pending_proposals = 4;
  auto opened = Node::Open(o);
  ASSERT_TRUE(opened.ok());
  Node* n = opened->get();
  // Driven by hand: nothing is processed until RunOnce.
  for (int i = 0; i < 10 && n->GetStatus().role != Role::kLeader; ++i) n->RunOnce();
  ASSERT_EQ(n->GetStatus().role, Role::kLeader);
  std::vector<Result<sm::v1::Response>> results;
  for (int i = 0; i < 5; ++i) {
    n->Propose(PutCmd("bp" + std::to_string(i), "v"),
               [&](Result<sm::v1::Response> r) { results.push_back(std::move(r)); });
  }
  ASSERT_EQ(results.size(), 1u);  // the fifth, answered inline
  EXPECT_EQ(results[0].status().code(), Code::kResourceExhausted);
  EXPECT_NE(results[0].status().message().find("too many pending proposals (limit 4)"),
            std::string::npos);
  for (int i = 0; i < 10 && results.size() < 5; ++i) n->RunOnce();
  ASSERT_EQ(results.size(), 5u);
  for (int i = 1; i < 5; ++i) EXPECT_TRUE(results[i].ok()) << results[i].status().ToString();
}

TEST(Node, ReadBarriersBeyondThePendingBoundAreRefusedAtOnce) {
  storage::MemStore store;
  NodeOptions o = SoloOptions(&store);
  o.max_pending_reads = 3;
  auto opened = Node::Open(o);
  ASSERT_TRUE(opened.ok());
  Node* n = opened->get();
  for (int i = 0; i < 10 && n->GetStatus().role != Role::kLeader; ++i) n->RunOnce();
  ASSERT_EQ(n->GetStatus().role, Role::kLeader);
  std::vector<Status> got;
  for (int i = 0; i < 4; ++i) n->ReadBarrier([&](Status s) { got.push_back(s); });
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].code(), Code::kResourceExhausted);
  EXPECT_NE(got[0].message().find("too many pending reads (limit 3)"), std::string::npos);
  for (int i = 0; i < 10 && got.size() < 4; ++i) n->RunOnce();
  ASSERT_EQ(got.size(), 4u);
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(got[i].ok()) << got[i].ToString();
}

TEST(Node, WithoutALeaderProposalsAndReadsAreUnavailableAtOnce) {
  storage::MemStore store;
  NodeOptions o = SoloOptions(&store);
  o.initial_cluster = {{1, "a"}, {2, "b"}, {3, "c"}};  // the peers never answer
  Network net;
  LocalTransport transport(&net, 1);
  o.transport = &transport;
  auto opened = Node::Open(o);
  ASSERT_TRUE(opened.ok());
  Node* n = opened->get();
  std::vector<Status> got;
  n->Propose(PutCmd("k", "v"), [&](Result<sm::v1::Response> r) { got.push_back(r.status()); });
  n->ReadBarrier([&](Status s) { got.push_back(s); });
  n->RunOnce();
  ASSERT_EQ(got.size(), 2u);
  for (const Status& s : got) {
    EXPECT_EQ(s.code(), Code::kUnavailable);
    EXPECT_EQ(s.message(), "no leader");
  }
}

TEST(Node, InboxBoundDropsPeerMessagesWithAClearError) {
  storage::MemStore store;
  NodeOptions o = SoloOptions(&store);
  o.max_inbox_messages = 2;
  auto n = Node::Open(o);
  ASSERT_TRUE(n.ok());
  rpb::Message m;
  m.set_type(rpb::MSG_HEARTBEAT);
  m.set_to(1);
  m.set_from(2);
  EXPECT_TRUE((*n)->Receive(m).ok());
  EXPECT_TRUE((*n)->Receive(m).ok());
  Status full = (*n)->Receive(m);
  EXPECT_EQ(full.code(), Code::kResourceExhausted);
  EXPECT_NE(full.message().find("max_inbox_messages 2"), std::string::npos);
  m.set_to(9);
  EXPECT_EQ((*n)->Receive(m).code(), Code::kInvalidArgument);
  (*n)->RunOnce();  // a message from a non-member is dropped, never a crash
}

TEST(Node, ReceiveBatchQueuesUpToTheInboxBoundAndSkipsMisaddressedMessages) {
  storage::MemStore store;
  NodeOptions o = SoloOptions(&store);
  o.max_inbox_messages = 2;
  auto n = Node::Open(o);
  ASSERT_TRUE(n.ok());
  rpb::Message m;
  m.set_type(rpb::MSG_HEARTBEAT);
  m.set_to(1);
  m.set_from(2);
  rpb::Message stray = m;
  stray.set_to(9);
  EXPECT_EQ((*n)->ReceiveBatch({m, stray, m, m}), 2u);  // the stray skipped, the last dropped
  EXPECT_EQ((*n)->Receive(m).code(), Code::kResourceExhausted);
  EXPECT_EQ((*n)->ReceiveBatch({m}), 0u);
  (*n)->RunOnce();  // drains the inbox
  EXPECT_EQ((*n)->ReceiveBatch({m}), 1u);
}

// Every Ready that must sync costs exactly one synced Store write (log, hard
// state and applied state in one batch), and concurrent proposers share them.
TEST(Node, OneSyncedWritePerReadyAndFewerSyncsThanWritesUnder32Proposers) {
  storage::MemStore store;
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  const std::uint64_t store_syncs0 = store.stats().synced_writes;
  const NodeStatus s0 = n->GetStatus();
  constexpr int kThreads = 32;
  constexpr int kPerThread = 20;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (ProposeSync(n.get(), PutCmd(std::to_string(t) + "/" + std::to_string(i), "v")).ok()) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(ok.load(), kThreads * kPerThread);
  const NodeStatus s1 = n->GetStatus();
  const std::uint64_t store_syncs = store.stats().synced_writes - store_syncs0;
  const std::uint64_t node_syncs = s1.synced_writes - s0.synced_writes;
  EXPECT_EQ(store_syncs, node_syncs);
  EXPECT_LE(node_syncs, s1.readies - s0.readies);
  EXPECT_LT(store_syncs, static_cast<std::uint64_t>(kThreads * kPerThread));
  std::printf("%d writes, %llu synced writes, %llu readies\n", kThreads * kPerThread,
              static_cast<unsigned long long>(store_syncs),
              static_cast<unsigned long long>(s1.readies - s0.readies));
}

// A sole voter appends, commits and applies each batch in one Ready and one
// synced write: nothing is left unsynced once a put is acknowledged, so a
// crash right after it has nothing to replay.
TEST(Node, SoleVoterAppliesEachBatchInTheOneSyncedWriteThatLogsIt) {
  storage::MemStore store;
  {
    auto n = OpenStarted(SoloOptions(&store));
    ASSERT_NE(n, nullptr);
    ASSERT_TRUE(WaitFor([&] { return n->GetStatus().applied_index >= 1; }));
    const storage::StoreStats st0 = store.stats();
    const NodeStatus s0 = n->GetStatus();
    constexpr int kPuts = 20;
    for (int i = 0; i < kPuts; ++i) {
      ASSERT_TRUE(ProposeSync(n.get(), PutCmd("one" + std::to_string(i), "v")).ok());
      EXPECT_EQ(store.unsynced_writes(), 0u) << "put " << i << " left an unsynced write";
    }
    const storage::StoreStats st1 = store.stats();
    const NodeStatus s1 = n->GetStatus();
    EXPECT_EQ(st1.writes - st0.writes, static_cast<std::uint64_t>(kPuts));
    EXPECT_EQ(st1.synced_writes - st0.synced_writes, static_cast<std::uint64_t>(kPuts));
    EXPECT_EQ(s1.readies - s0.readies, s1.synced_writes - s0.synced_writes);
    EXPECT_EQ(s1.applied_index, s1.commit_index);
    EXPECT_EQ(s1.applied_index, s1.last_index);
    n->Stop();
  }
  store.Crash();
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->GetStatus().replayed_entries, 0u) << "the applied state was in the synced write";
  for (int i = 0; i < 20; ++i) EXPECT_EQ(GetValue(n.get(), "one" + std::to_string(i), 0), "v");
}

// A crash after the Ready's write failed (nothing of it stored): the batch
// was neither logged nor applied, the node restarts with the state before it.
TEST(Node, SoleVoterWriteThatFailsLeavesNeitherLogNorStateOfItsBatch) {
  storage::MemStore store;
  std::int64_t revision = 0;
  {
    auto n = OpenStarted(SoloOptions(&store));
    ASSERT_NE(n, nullptr);
    ASSERT_TRUE(ProposeSync(n.get(), PutCmd("kept", "v")).ok());
    revision = n->GetStatus().revision;
    store.FailNextWrites(1, Status::IOError("injected"));
    EXPECT_FALSE(ProposeSync(n.get(), PutCmd("lost", "v")).ok());
    n->Stop();
  }
  store.Crash();
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  ASSERT_TRUE(ReadBarrierSync(n.get()).ok());
  EXPECT_EQ(GetValue(n.get(), "kept", 0), "v");
  EXPECT_FALSE(GetValue(n.get(), "lost", 0).has_value());
  EXPECT_EQ(n->GetStatus().revision, revision);
}

TEST(Node, GroupCommitOnRocksStoreFsyncsLessThanOncePerWrite) {
  storage::testing::TempDir dir;
  storage::RocksOptions ro;
  ro.count_syncs = true;
  auto store = storage::RocksStore::Open(dir.Sub("db"), ro);
  ASSERT_TRUE(store.ok());
  auto n = OpenStarted(SoloOptions(store->get()));
  ASSERT_NE(n, nullptr);
  const std::uint64_t syncs0 = (*store)->sync_calls();
  constexpr int kThreads = 32;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (ProposeSync(n.get(), PutCmd(std::to_string(t) + "-" + std::to_string(i), "v")).ok()) {
          ok.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(ok.load(), kThreads * kPerThread);
  const std::uint64_t syncs = (*store)->sync_calls() - syncs0;
  EXPECT_LT(syncs, static_cast<std::uint64_t>(kThreads * kPerThread));
  std::printf("%d writes, %llu OS syncs\n", kThreads * kPerThread,
              static_cast<unsigned long long>(syncs));
}

TEST(Node, StopAnswersPendingAndLaterRequestsWithUnavailable) {
  storage::MemStore store;
  auto opened = Node::Open(SoloOptions(&store));
  ASSERT_TRUE(opened.ok());
  Node* n = opened->get();
  std::vector<Status> got;
  // Not started: the proposal and the read wait in the inbox.
  n->Propose(PutCmd("a", "b"), [&](Result<sm::v1::Response> r) { got.push_back(r.status()); });
  n->ReadBarrier([&](Status s) { got.push_back(s); });
  EXPECT_TRUE(got.empty());
  n->Stop();
  ASSERT_EQ(got.size(), 2u);
  for (const Status& s : got) EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  n->Propose(PutCmd("a", "b"), [&](Result<sm::v1::Response> r) { got.push_back(r.status()); });
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].code(), Code::kUnavailable);
  EXPECT_EQ(n->Start().code(), Code::kFailedPrecondition);
}

// Replies of a batch go out on the completion runner's thread, so the loop
// can start its next write meanwhile; a lone reply is answered on the loop.
// Stop answers every request, handed off or not.
TEST(Node, RepliesOfABatchRunOnTheReplyThreadAndStopAnswersEveryRequest) {
  storage::MemStore store;
  auto n = OpenStarted(SoloOptions(&store));
  ASSERT_NE(n, nullptr);
  auto thread_name = [] {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    return std::string(name);
  };
  std::mutex mu;
  std::map<std::string, int> by_thread;
  std::atomic<int> answered{0};
  // Slow writes make proposals queue up into batches.
  store.DelayWrites(std::chrono::microseconds(2000));
  constexpr int kProposals = 400;
  for (int i = 0; i < kProposals; ++i) {
    n->Propose(PutCmd("k" + std::to_string(i), "v"), [&](Result<sm::v1::Response> r) {
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      std::lock_guard lock(mu);
      ++by_thread[thread_name()];
      answered.fetch_add(1);
    });
  }
  ASSERT_TRUE(WaitFor([&] { return answered.load() == kProposals; }));
  {
    std::lock_guard lock(mu);
    EXPECT_GT(by_thread["aspen-replies"], 0);
    for (const auto& [name, count] : by_thread) {
      EXPECT_TRUE(name == "aspen-replies" || name == "aspen-raft") << name;
    }
  }
  // Requests in flight at Stop are answered before Stop returns.
  std::atomic<int> late{0};
  for (int i = 0; i < kProposals; ++i) {
    n->Propose(PutCmd("late" + std::to_string(i), "v"),
               [&](Result<sm::v1::Response>) { late.fetch_add(1); });
  }
  n->Stop();
  EXPECT_EQ(late.load(), kProposals);
}

TEST(Node, OpenRefusesInvalidOptionsNamingTheField) {
  storage::MemStore store;
  NodeOptions o = SoloOptions(&store);
  o.id = 0;
  EXPECT_EQ(Node::Open(o).status().code(), Code::kInvalidArgument);
  o = SoloOptions(&store);
  o.store = nullptr;
  EXPECT_NE(Node::Open(o).status().message().find("store"), std::string::npos);
  o = SoloOptions(&store);
  o.initial_cluster = {{2, "a"}, {3, "b"}};
  Network net;
  LocalTransport transport(&net, 1);
  o.transport = &transport;
  auto r = Node::Open(o);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("does not contain this node's id 1"), std::string::npos);
  o = SoloOptions(&store);
  o.initial_cluster = {{1, "a"}, {2, "b"}};
  EXPECT_NE(Node::Open(o).status().message().find("transport must be set"), std::string::npos);
  o = SoloOptions(&store);
  o.heartbeat_tick = 10;
  EXPECT_EQ(Node::Open(o).status().code(), Code::kInvalidArgument);
}

TEST(Node, RestartedNodeKeepsItsStoredMembershipOverInitialCluster) {
  storage::MemStore store;
  {
    auto n = OpenStarted(SoloOptions(&store));
    ASSERT_NE(n, nullptr);
  }
  NodeOptions o = SoloOptions(&store);
  o.initial_cluster = {{1, "me"}, {2, "other"}, {3, "third"}};
  Network net;  // nobody else is attached: every send is dropped
  LocalTransport transport(&net, 1);
  o.transport = &transport;
  auto n = OpenStarted(o);  // still the only voter: elects itself
  ASSERT_NE(n, nullptr);
  auto members = n->Members();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].id, 1u);
  EXPECT_EQ(members[0].peer_address, "me");
}

}  // namespace
}  // namespace aspen::node::testing
