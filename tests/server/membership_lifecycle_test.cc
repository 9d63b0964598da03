// A member's life after `member add` and until `member remove`, with real
// processes on loopback:
//   - a started member publishes its name and client URLs through raft:
//     `etcdctl member list -w json` answers as etcd's does after add + start
//     (ids, ports and terms masked), also on a restarted member whose peers
//     are down;
//   - removing the leader through a follower's endpoint hands leadership over
//     first: writes resume well within the election timeout;
//   - a removed member stops with "the member has been permanently removed
//     from the cluster" and exit code 3, whether it applied its own removal or
//     (down while it was removed) learns it from its peers, who ignore it.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// `member list -w json` with ids, ports and header numbers masked, members
// sorted (their order follows the ids).
std::string MaskedMemberList(const std::string& endpoint) {
  ProgramRun r = Etcdctl(endpoint, {"member", "list", "-w", "json"});
  std::string out = "exit " + std::to_string(r.exit_code) + "\n";
  static const std::regex member("\\{\"ID\":[0-9]+[^{}]*\\}");
  std::vector<std::string> members;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), member);
       it != std::sregex_iterator(); ++it) {
    std::string m = it->str();
    m = std::regex_replace(m, std::regex("127\\.0\\.0\\.1:[0-9]+"), "ADDR");
    m = std::regex_replace(m, std::regex("[0-9]+"), "N");
    members.push_back(m);
  }
  std::sort(members.begin(), members.end());
  for (const std::string& m : members) out += m + "\n";
  std::string header = std::regex_replace(r.out, member, "");
  header = std::regex_replace(header, std::regex("[0-9]+"), "N");
  return out + header;
}

// Waits until `member list` on `endpoint` shows member `name` with a client URL.
bool ListsStarted(const std::string& endpoint, const std::string& name,
                  std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    ProgramRun r = Etcdctl(endpoint, {"member", "list", "-w", "json"});
    if (std::regex_search(r.out,
                          std::regex("\"name\":\"" + name + "\"[^{}]*\"clientURLs\":\\[\"http"))) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// The peer URL etcd lists for its first member.
std::string FirstPeerUrl(const std::string& endpoint) {
  ProgramRun r = Etcdctl(endpoint, {"member", "list", "-w", "json"});
  std::smatch m;
  if (!std::regex_search(r.out, m, std::regex("\"peerURLs\":\\[\"([^\"]+)\""))) return "";
  return m[1];
}

TEST(MembershipLifecycleTest, AStartedMemberPublishesItsNameAndClientUrlsAsEtcdDoes) {
  Result<std::string> dir = MakeTempDir("aspen-member-attrs");
  ASSERT_TRUE(dir.ok());

  // etcd: one member, add m1, start it.
  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  const std::string etcd_ep = (*etcd)->endpoint();
  const std::string etcd_first_peer = FirstPeerUrl(etcd_ep);
  ASSERT_FALSE(etcd_first_peer.empty());
  const MemberPorts em1 = PickMemberPorts();
  ProgramRun eadd = Etcdctl(etcd_ep, {"member", "add", "m1", "--peer-urls=" + em1.peer_url()});
  ASSERT_EQ(eadd.exit_code, 0) << eadd.err;
  const std::string em1_url = "http://" + em1.client_endpoint();
  auto etcd_m1 = ChildProcess::Spawn(
      {"/usr/bin/etcd", "--name=m1", "--data-dir=" + *dir + "/etcd-m1",
       "--listen-client-urls=" + em1_url, "--advertise-client-urls=" + em1_url,
       "--listen-peer-urls=" + em1.peer_url(), "--initial-advertise-peer-urls=" + em1.peer_url(),
       "--initial-cluster=default=" + etcd_first_peer + ",m1=" + em1.peer_url(),
       "--initial-cluster-state=existing", "--log-level=warn", "--logger=zap"},
      *dir + "/etcd-m1.log");
  ASSERT_TRUE(etcd_m1.ok()) << etcd_m1.status().ToString();
  ASSERT_TRUE(ListsStarted(etcd_ep, "m1", 20s));

  // Aspen: the same steps.
  const MemberPorts a0 = PickMemberPorts();
  auto n0 = AspenMember::Start("default", *dir + "/default", a0, {});
  ASSERT_TRUE(n0.ok()) << n0.status().ToString();
  const std::string ep = (*n0)->endpoint();
  const MemberPorts a1 = PickMemberPorts();
  ProgramRun add = Etcdctl(ep, {"member", "add", "m1", "--peer-urls=" + a1.peer_url()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto m1 =
      AspenMember::Start("m1", *dir + "/m1", a1,
                         {"--initial-cluster=default=" + a0.peer_url() + ",m1=" + a1.peer_url(),
                          "--initial-cluster-state=existing"});
  ASSERT_TRUE(m1.ok()) << m1.status().ToString();
  ASSERT_TRUE(ListsStarted(ep, "m1", 20s)) << (*m1)->Log();
  ASSERT_TRUE(ListsStarted((*m1)->endpoint(), "default", 20s)) << (*m1)->Log();

  EXPECT_EQ(MaskedMemberList(ep), MaskedMemberList(etcd_ep));
  EXPECT_EQ(MaskedMemberList((*m1)->endpoint()), MaskedMemberList(em1.client_endpoint()));
  (*etcd_m1)->Stop(SIGTERM, 5s);

  // The names live in the replicated record: with m1 down, a restarted
  // `default` still lists m1's name and client URL (nobody to ask).
  (*m1)->process().Stop(SIGTERM, 5s);
  (*n0)->process().Stop(SIGTERM, 5s);
  // Same ports (an ephemeral port of another connection may hold one for a
  // moment: retry then).
  for (int attempt = 0; attempt < 10; ++attempt) {
    n0 = AspenMember::Start("default", *dir + "/default", a0, {}, /*wait_ready=*/false);
    ASSERT_TRUE(n0.ok());
    const std::optional<int> early = (*n0)->process().Wait(2s);
    if (!early.has_value()) break;
    ASSERT_NE((*n0)->Log().find("address already in use"), std::string::npos) << (*n0)->Log();
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_TRUE(ListsStarted(ep, "m1", 20s)) << Etcdctl(ep, {"member", "list"}).out;
  ProgramRun list = Etcdctl(ep, {"member", "list"});
  EXPECT_NE(list.out.find(", started, m1, " + a1.peer_url() + ", http://" + a1.client_endpoint()),
            std::string::npos)
      << list.out;
}

struct Running {
  std::string name;
  MemberPorts ports;
  std::unique_ptr<AspenMember> process;
};

std::vector<Running> StartThree(const std::string& dir, const std::vector<std::string>& extra) {
  std::vector<Running> members(3);
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    members[i].name = "n" + std::to_string(i);
    members[i].ports = PickMemberPorts();
    initial += (i ? "," : "") + members[i].name + "=" + members[i].ports.peer_url();
  }
  for (auto& m : members) {
    std::vector<std::string> flags = {"--initial-cluster=" + initial};
    flags.insert(flags.end(), extra.begin(), extra.end());
    auto p = AspenMember::Start(m.name, dir + "/" + m.name, m.ports, flags, false);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (p.ok()) m.process = std::move(p).value();
  }
  return members;
}

// The index of the member every member names as leader (-1 on timeout).
int AgreedLeader(std::vector<Running>& members, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    std::uint64_t leader = 0;
    bool agree = true;
    for (auto& m : members) {
      if (m.process == nullptr) continue;
      auto s = ClientFor({m.process->endpoint()}, 1000ms)->EndpointStatus();
      if (!s.ok() || s->leader() == 0 || (leader != 0 && s->leader() != leader)) {
        agree = false;
        break;
      }
      leader = s->leader();
    }
    if (agree && leader != 0) {
      for (std::size_t i = 0; i < members.size(); ++i) {
        if (members[i].process != nullptr && SelfId(members[i].process->endpoint()) == leader) {
          return static_cast<int>(i);
        }
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  return -1;
}

// The election timeout the removal tests run with: long, so that a cluster
// that waits for one is told apart from one that hands leadership over.
constexpr int kElectionTimeoutMs = 4000;

TEST(MembershipLifecycleTest, RemovingTheLeaderThroughAFollowerHandsOverAndTheLeaderExits) {
  Result<std::string> dir = MakeTempDir("aspen-member-rmleader");
  ASSERT_TRUE(dir.ok());
  auto members = StartThree(*dir, {"--election-timeout=" + std::to_string(kElectionTimeoutMs)});
  const int leader = AgreedLeader(members, 30s);
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  const std::string fep = members[follower].process->endpoint();
  auto c = ClientFor({fep});
  ASSERT_TRUE(c->Put("before", "1").ok());
  const std::uint64_t leader_id = SelfId(members[leader].process->endpoint());

  const auto start = SteadyClock::now();
  ProgramRun rm = Etcdctl(fep, {"member", "remove", MemberHex(leader_id)});
  const auto removed = SteadyClock::now();
  ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  // etcdctl pads the id with spaces (%16x).
  EXPECT_TRUE(std::regex_search(rm.out, std::regex("Member +" + MemberHex(leader_id) + " removed")))
      << rm.out;
  // Writes through the follower resume at once: a new leader is in place.
  auto put = ClientFor({fep}, 1000ms)->Put("after", "1");
  for (int attempt = 0; !put.ok() && attempt < 40; ++attempt) {
    std::this_thread::sleep_for(25ms);
    put = ClientFor({fep}, 1000ms)->Put("after", "1");
  }
  const auto resumed = SteadyClock::now();
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  const auto remove_ms = std::chrono::duration_cast<std::chrono::milliseconds>(removed - start);
  const auto resume_ms = std::chrono::duration_cast<std::chrono::milliseconds>(resumed - removed);
  std::cout << "member remove (leader, through a follower): " << remove_ms.count()
            << " ms; first write after it: " << resume_ms.count() << " ms\n";
  EXPECT_LT(resume_ms.count(), kElectionTimeoutMs / 2);
  EXPECT_LT(remove_ms.count(), kElectionTimeoutMs);

  // The removed leader stops on its own with etcd's message and exit code 3.
  std::optional<int> code = members[leader].process->process().Wait(20s);
  ASSERT_TRUE(code.has_value()) << members[leader].process->Log();
  EXPECT_EQ(*code, 3);
  EXPECT_NE(members[leader].process->Log().find(
                "the member has been permanently removed from the cluster"),
            std::string::npos)
      << members[leader].process->Log();
  ProgramRun list = Etcdctl(fep, {"member", "list"});
  EXPECT_EQ(list.out.find(MemberHex(leader_id)), std::string::npos) << list.out;
}

TEST(MembershipLifecycleTest, AMemberRemovedWhileDownLearnsItFromItsPeersAndExits) {
  Result<std::string> dir = MakeTempDir("aspen-member-rmdown");
  ASSERT_TRUE(dir.ok());
  auto members = StartThree(*dir, {"--election-timeout=1000"});
  const int leader = AgreedLeader(members, 30s);
  ASSERT_GE(leader, 0);
  const int down = (leader + 1) % 3;
  const std::string lep = members[leader].process->endpoint();
  ASSERT_TRUE(ClientFor({lep})->Put("k", "v").ok());
  const std::uint64_t down_id = SelfId(members[down].process->endpoint());
  const std::uint64_t leader_id = SelfId(lep);

  // Down (stopped) while it is removed: restarted, it never hears from a
  // leader (its peers refuse its messages) and asks them.
  members[down].process->process().Stop(SIGTERM, 5s);
  ProgramRun rm = Etcdctl(lep, {"member", "remove", MemberHex(down_id)});
  ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(ClientFor({lep})->Put("k" + std::to_string(i), "v").ok());
  }
  // Restarted on the same ports (its peer URL names it). An ephemeral port
  // of some other connection may hold one of them for a moment: retry then.
  Result<std::unique_ptr<AspenMember>> again = Status::Unavailable("not started");
  std::optional<int> code;
  for (int attempt = 0; attempt < 10; ++attempt) {
    again = AspenMember::Start(members[down].name, *dir + "/" + members[down].name,
                               members[down].ports, {}, /*wait_ready=*/false);
    ASSERT_TRUE(again.ok());
    code = (*again)->process().Wait(30s);
    if (code != 2 || (*again)->Log().find("address already in use") == std::string::npos) break;
    std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(code.has_value()) << (*again)->Log();
  EXPECT_EQ(*code, 3) << (*again)->Log();
  EXPECT_NE((*again)->Log().find("the member has been permanently removed from the cluster (the "
                                 "other members no longer list it)"),
            std::string::npos)
      << (*again)->Log();
  // Its campaigns disturbed nobody: the leader is unchanged and takes writes.
  auto s = ClientFor({lep})->EndpointStatus();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->leader(), leader_id);
  EXPECT_TRUE(ClientFor({lep})->Put("after", "v").ok());
}

}  // namespace
}  // namespace aspen::testing
