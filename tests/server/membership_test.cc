// Membership changes and catch-up with real `aspen serve` processes on
// loopback, driven by the real etcdctl: etcdctl's member commands against a
// real etcd and against Aspen (ids, ports and timestamps masked); growing
// 1 -> 3 -> 5 members under writes and shrinking back to 1; replacing a
// member whose data dir was lost; a follower that comes back after the log
// was compacted past it catches up by snapshot.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"
#include "server/test_client.h"

namespace aspen::testing {
namespace {

using namespace std::chrono_literals;

// etcdctl's output with what differs between two servers masked: hex ids,
// loopback addresses, and everything on stderr but the "Error:" line.
std::string Masked(const ProgramRun& r, bool sort_lines = false) {
  static const std::regex hex_id("\\b[0-9a-f]{12,16}\\b");
  static const std::regex addr("127\\.0\\.0\\.1:[0-9]+");
  std::string err;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Error:", 0) == 0) err += line + "\n";
  }
  // etcdctl pads ids with leading zero nibbles with spaces (%16x).
  std::string body = std::regex_replace(r.out, std::regex("  +([0-9a-f]{11,16})\\b"), " $1");
  // Table widths follow the id length: collapse padding and border runs.
  body = std::regex_replace(body, std::regex("-{2,}"), "-");
  body = std::regex_replace(body, std::regex(" {2,}"), " ");
  // `member add` lists the cluster in the servers' member order (by id).
  static const std::regex initial("ETCD_INITIAL_CLUSTER=\"([^\"]*)\"");
  std::smatch m;
  if (std::regex_search(body, m, initial)) {
    std::vector<std::string> items;
    std::istringstream in(m[1].str());
    for (std::string item; std::getline(in, item, ',');) items.push_back(item);
    std::sort(items.begin(), items.end());
    std::string joined;
    for (const std::string& item : items) joined += (joined.empty() ? "" : ",") + item;
    body = m.prefix().str() + "ETCD_INITIAL_CLUSTER=\"" + joined + "\"" + m.suffix().str();
  }
  if (sort_lines) {
    // Member order follows the ids, which differ between the servers.
    std::vector<std::string> rows;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
      rows.push_back(std::regex_replace(line, hex_id, "ID"));
    }
    std::sort(rows.begin(), rows.end());
    body.clear();
    for (const std::string& row : rows) body += row + "\n";
  }
  std::string out = "exit " + std::to_string(r.exit_code) + "\n" + body + err;
  out = std::regex_replace(out, hex_id, "ID");
  // etcdctl pads a 15-digit id with a space.
  out = std::regex_replace(out, std::regex(" +ID"), " ID");
  return std::regex_replace(out, addr, "ADDR");
}

// The hex id etcdctl prints in "Member <id> added to cluster ...".
std::string AddedId(const ProgramRun& r) {
  // etcdctl prints the id with %16x: space-padded when it has leading zeros.
  static const std::regex added("Member +([0-9a-f]+) added");
  std::smatch m;
  return std::regex_search(r.out, m, added) ? m[1].str() : "";
}

// `member list` rows (etcdctl -w simple): id -> the whole line.
std::map<std::string, std::string> MemberRows(const std::string& endpoint) {
  std::map<std::string, std::string> rows;
  std::istringstream lines(Etcdctl(endpoint, {"member", "list"}).out);
  for (std::string line; std::getline(lines, line);) {
    const std::size_t comma = line.find(',');
    if (comma != std::string::npos) rows[line.substr(0, comma)] = line;
  }
  return rows;
}

// The member's id as etcdctl prints it; "" when it does not answer.
std::string SelfIdHex(const std::string& endpoint) {
  const std::uint64_t id = SelfId(endpoint);
  return id == 0 ? "" : MemberHex(id);
}

// HashKV of `endpoint` up to `revision` (0: all of it).
std::uint32_t HashKv(const std::string& endpoint, std::int64_t revision = 0) {
  // `endpoint hashkv -w simple` prints "<endpoint>, <hash>".
  ProgramRun r = Etcdctl(endpoint, {"endpoint", "hashkv", "--rev=" + std::to_string(revision)});
  const std::size_t comma = r.out.rfind(", ");
  if (r.exit_code != 0 || comma == std::string::npos) return 0;
  return static_cast<std::uint32_t>(std::stoul(r.out.substr(comma + 2)));
}

std::uint64_t AppliedIndex(const std::string& endpoint) {
  auto s = ClientFor({endpoint})->EndpointStatus();
  return s.ok() ? s->raftappliedindex() : 0;
}

// Waits until `endpoint` has applied what `reference` had committed at the
// start of the wait.
bool CaughtUp(const std::string& endpoint, const std::string& reference,
              std::chrono::milliseconds timeout) {
  auto s = ClientFor({reference})->EndpointStatus();
  if (!s.ok()) return false;
  const std::uint64_t target = s->raftindex();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (AppliedIndex(endpoint) >= target) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Every key from "\x01" on (an etcd range from a key to "\0" is "from key").
std::map<std::string, std::string> AllKeys(const std::string& endpoint) {
  client::GetOptions o;
  o.range_end = std::string(1, '\0');
  auto got = ClientFor({endpoint})->Get("\x01", o);
  std::map<std::string, std::string> out;
  if (!got.ok()) return out;
  for (const auto& kv : got->kvs()) out[kv.key()] = kv.value();
  return out;
}

// A put retried a few times (a loaded machine may see a leader change).
bool PutRetry(client::Client* c, const std::string& k, const std::string& v) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (c->Put(k, v).ok()) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

struct Member {
  std::string name;
  MemberPorts ports;
  std::unique_ptr<AspenMember> process;
};

// Starts member `name` joining the cluster whose members are `members`.
std::unique_ptr<AspenMember> Join(const std::string& dir, const std::string& name,
                                  const MemberPorts& ports, const std::vector<Member*>& members,
                                  const std::vector<std::string>& extra = {}) {
  std::string initial = name + "=" + ports.peer_url();
  for (const Member* m : members) initial += "," + m->name + "=" + m->ports.peer_url();
  std::vector<std::string> flags = {"--initial-cluster=" + initial,
                                    "--initial-cluster-state=existing"};
  flags.insert(flags.end(), extra.begin(), extra.end());
  auto p = AspenMember::Start(name, dir + "/" + name, ports, flags);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

// A writer that puts keys through `endpoint` until stopped, remembering every
// acknowledged write.
class Writer {
 public:
  explicit Writer(std::string endpoint) : client_(ClientFor({std::move(endpoint)})) {
    thread_ = std::thread([this] {
      for (int i = 0; !stop_.load(); ++i) {
        const std::string k = "w" + std::to_string(i), v = "v" + std::to_string(i);
        if (client_->Put(k, v).ok()) {
          std::lock_guard lock(mu_);
          acked_[k] = v;
        }
      }
    });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::map<std::string, std::string> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  std::unique_ptr<client::Client> client_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::map<std::string, std::string> acked_;
  std::thread thread_;
};

TEST(MembershipTest, EtcdctlMemberCommandsAnswerAsEtcdDoes) {
  auto etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  Result<std::string> dir = MakeTempDir("aspen-member-diff");
  ASSERT_TRUE(dir.ok());
  auto aspen = AspenMember::Start("default", *dir + "/a", PickMemberPorts(), {});
  ASSERT_TRUE(aspen.ok()) << aspen.status().ToString();

  const std::string etcd_ep = (*etcd)->endpoint(), aspen_ep = (*aspen)->endpoint();
  const std::string url1 = "http://127.0.0.1:" + std::to_string(PickFreeLoopbackPort().value());
  const std::string url2 = "http://127.0.0.1:" + std::to_string(PickFreeLoopbackPort().value());
  const std::string url3 = "http://127.0.0.1:" + std::to_string(PickFreeLoopbackPort().value());

  // Runs the same etcdctl command on both and compares the masked output.
  auto both = [&](const std::vector<std::string>& etcd_args,
                  const std::vector<std::string>& aspen_args) {
    const ProgramRun e = Etcdctl(etcd_ep, etcd_args);
    const ProgramRun a = Etcdctl(aspen_ep, aspen_args);
    const bool list = aspen_args[1] == "list";
    EXPECT_EQ(Masked(a, list), Masked(e, list))
        << "etcdctl " << aspen_args[0] << " " << aspen_args[1];
    return std::make_pair(e, a);
  };
  auto same = [&](const std::vector<std::string>& args) { return both(args, args); };

  auto [e_add, a_add] = same({"member", "add", "m2", "--learner", "--peer-urls=" + url1});
  const std::string e_id = AddedId(e_add), a_id = AddedId(a_add);
  ASSERT_FALSE(e_id.empty()) << e_add.out << e_add.err;
  ASSERT_FALSE(a_id.empty()) << a_add.out << a_add.err;
  same({"member", "add", "m3", "--learner", "--peer-urls=" + url2});  // too many learners
  // etcd derives a new member's id from its URLs and the time in seconds: in
  // the same second as the first add it would answer "member ID already
  // exist" instead.
  std::this_thread::sleep_for(1100ms);
  same({"member", "add", "m3", "--peer-urls=" + url1});            // URL taken
  same({"member", "add", "m3", "--peer-urls=ftp://x"});            // bad URL
  both({"member", "promote", e_id}, {"member", "promote", a_id});  // not in sync
  same({"member", "list"});
  same({"member", "list", "-w", "table"});
  // etcd 3.4's MemberUpdate drops the learner flag from its member list (the
  // member stays a learner in raft); Aspen keeps it, so only the update
  // itself is compared.
  both({"member", "update", e_id, "--peer-urls=" + url3},
       {"member", "update", a_id, "--peer-urls=" + url3});
  EXPECT_NE(Etcdctl(aspen_ep, {"member", "list"}).out.find(url3.substr(7) + ", , true"),
            std::string::npos);
  both({"member", "remove", e_id}, {"member", "remove", a_id});
  same({"member", "remove", "1234"});
  same({"member", "update", "1234", "--peer-urls=" + url2});
  same({"member", "promote", "1234"});
  both({"member", "promote", SelfIdHex(etcd_ep)}, {"member", "promote", SelfIdHex(aspen_ep)});
  both({"move-leader", SelfIdHex(etcd_ep)}, {"move-leader", SelfIdHex(aspen_ep)});
  same({"move-leader", "1234"});
  same({"member", "list", "-w", "table"});
}

TEST(MembershipTest, GrowsOneToFiveUnderWritesAndShrinksBackToOne) {
  Result<std::string> dir = MakeTempDir("aspen-member-grow");
  ASSERT_TRUE(dir.ok());
  std::vector<std::unique_ptr<Member>> members;
  members.push_back(std::make_unique<Member>(Member{"n0", PickMemberPorts(), nullptr}));
  auto first = AspenMember::Start("n0", *dir + "/n0", members[0]->ports, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  members[0]->process = std::move(first).value();
  const std::string n0 = members[0]->process->endpoint();

  Writer writer(n0);
  for (int i = 1; i < 5; ++i) {
    const std::string name = "n" + std::to_string(i);
    MemberPorts ports = PickMemberPorts();
    ProgramRun add = Etcdctl(n0, {"member", "add", name, "--peer-urls=" + ports.peer_url()});
    ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
    std::vector<Member*> existing;
    for (auto& m : members) existing.push_back(m.get());
    auto p = Join(*dir, name, ports, existing);
    ASSERT_NE(p, nullptr);
    members.push_back(std::make_unique<Member>(Member{name, ports, std::move(p)}));
    ASSERT_TRUE(CaughtUp(members.back()->process->endpoint(), n0, 20s))
        << members.back()->process->Log();
  }
  EXPECT_EQ(MemberRows(n0).size(), 5u);

  // Every member left holds every write acknowledged so far, and they agree.
  // The writer keeps writing, so members are hashed up to one revision that
  // all of them have applied.
  auto check_members = [&](const char* stage) {
    const std::map<std::string, std::string> acked = writer.acked();
    EXPECT_GT(acked.size(), 50u) << stage;
    auto status = ClientFor({n0})->EndpointStatus();
    ASSERT_TRUE(status.ok()) << status.status().ToString();
    const std::int64_t revision = status->header().revision();
    std::set<std::uint32_t> hashes;
    for (auto& m : members) {
      const std::string ep = m->process->endpoint();
      ASSERT_TRUE(CaughtUp(ep, n0, 10s)) << stage << ": " << m->name;
      std::map<std::string, std::string> have = AllKeys(ep);
      for (const auto& [k, v] : acked) {
        auto it = have.find(k);
        ASSERT_TRUE(it != have.end())
            << stage << ": " << m->name << " lacks acknowledged key " << k;
        EXPECT_EQ(it->second, v);
      }
      hashes.insert(HashKv(ep, revision));
    }
    EXPECT_EQ(hashes.size(), 1u) << stage;
    EXPECT_EQ(hashes.count(0), 0u) << stage;
  };

  // Shrink one member at a time (whoever leads: removing the leader hands
  // leadership over first), under writes, down to n0 alone.
  auto remove_last = [&] {
    const std::string id = SelfIdHex(members.back()->process->endpoint());
    ASSERT_FALSE(id.empty());
    ProgramRun rm = Etcdctl(n0, {"member", "remove", id});
    ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
    members.back()->process->process().Stop(SIGTERM, 5s);
    members.pop_back();
  };
  for (int i = 0; i < 2; ++i) ASSERT_NO_FATAL_FAILURE(remove_last());
  EXPECT_EQ(MemberRows(n0).size(), 3u);
  std::this_thread::sleep_for(300ms);
  ASSERT_NO_FATAL_FAILURE(check_members("at 3 members"));

  for (int i = 0; i < 2; ++i) ASSERT_NO_FATAL_FAILURE(remove_last());
  EXPECT_EQ(MemberRows(n0).size(), 1u);
  // The lone member still takes writes on its own.
  const std::size_t before = writer.acked().size();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (writer.acked().size() < before + 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  writer.Stop();
  EXPECT_GE(writer.acked().size(), before + 20) << "n0 alone stopped taking writes";
  ASSERT_NO_FATAL_FAILURE(check_members("at 1 member"));
}

// Starts a 3-member cluster with `extra` flags on every member.
std::vector<std::unique_ptr<Member>> StartThree(const std::string& dir,
                                                const std::vector<std::string>& extra) {
  std::vector<std::unique_ptr<Member>> members;
  std::string initial;
  for (int i = 0; i < 3; ++i) {
    members.push_back(
        std::make_unique<Member>(Member{"n" + std::to_string(i), PickMemberPorts(), nullptr}));
    initial += (i ? "," : "") + members[i]->name + "=" + members[i]->ports.peer_url();
  }
  for (auto& m : members) {
    std::vector<std::string> flags = {"--initial-cluster=" + initial};
    flags.insert(flags.end(), extra.begin(), extra.end());
    auto p = AspenMember::Start(m->name, dir + "/" + m->name, m->ports, flags, false);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (p.ok()) m->process = std::move(p).value();
  }
  return members;
}

// The member that leads, by index, once all of `members` agree (-1 if not
// within the timeout).
int LeaderIndex(const std::vector<std::unique_ptr<Member>>& members,
                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < members.size(); ++i) {
      auto s = ClientFor({members[i]->process->endpoint()})->EndpointStatus();
      if (s.ok() && s->leader() != 0 && s->leader() == s->header().member_id()) {
        return static_cast<int>(i);
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  return -1;
}

TEST(MembershipTest, ReplacesAMemberWhoseDataDirWasDeleted) {
  Result<std::string> dir = MakeTempDir("aspen-member-replace");
  ASSERT_TRUE(dir.ok());
  auto members = StartThree(*dir, {});
  ASSERT_EQ(members.size(), 3u);
  const int leader = LeaderIndex(members, 20s);
  ASSERT_GE(leader, 0);
  const int lost = (leader + 1) % 3, keep = leader;
  const std::string ep = members[keep]->process->endpoint();
  auto c = ClientFor({ep});
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(c->Put("k" + std::to_string(i), "v").ok());

  const std::string old_id = SelfIdHex(members[lost]->process->endpoint());
  members[lost]->process->Kill();
  members[lost]->process.reset();
  std::filesystem::remove_all(*dir + "/" + members[lost]->name);

  ProgramRun rm = Etcdctl(ep, {"member", "remove", old_id});
  ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  ProgramRun add = Etcdctl(
      ep, {"member", "add", members[lost]->name, "--peer-urls=" + members[lost]->ports.peer_url()});
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  for (int i = 40; i < 60; ++i) ASSERT_TRUE(c->Put("k" + std::to_string(i), "v").ok());

  std::vector<Member*> others;
  for (int i = 0; i < 3; ++i) {
    if (i != lost) others.push_back(members[i].get());
  }
  members[lost]->process = Join(*dir, members[lost]->name, members[lost]->ports, others);
  ASSERT_NE(members[lost]->process, nullptr);
  const std::string fresh = members[lost]->process->endpoint();
  ASSERT_TRUE(CaughtUp(fresh, ep, 20s)) << members[lost]->process->Log();
  EXPECT_NE(SelfIdHex(fresh), old_id);  // a new member, not the old one back
  EXPECT_EQ(AllKeys(fresh).size(), 60u);
  EXPECT_EQ(HashKv(fresh), HashKv(ep));
  EXPECT_EQ(MemberRows(ep).size(), 3u);
  EXPECT_EQ(MemberRows(ep).count(old_id), 0u);
}

TEST(MembershipTest, FollowerBehindTheCompactedLogCatchesUpBySnapshot) {
  Result<std::string> dir = MakeTempDir("aspen-member-snap");
  ASSERT_TRUE(dir.ok());
  const std::vector<std::string> policy = {"--snapshot-count=100", "--snapshot-catchup-entries=20"};
  auto members = StartThree(*dir, policy);
  const int leader = LeaderIndex(members, 20s);
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  const std::string ep = members[leader]->process->endpoint();
  auto c = ClientFor({ep});
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(PutRetry(c.get(), "a" + std::to_string(i), "v"));
  ASSERT_TRUE(CaughtUp(members[follower]->process->endpoint(), ep, 10s));

  members[follower]->process->process().Stop(SIGTERM, 5s);
  // Well past the compaction point: the leader cuts its log without the
  // stopped follower (it is not recently active).
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(PutRetry(c.get(), "b" + std::to_string(i % 200), std::to_string(i)));
  }
  auto restarted = AspenMember::Start(members[follower]->name, *dir + "/" + members[follower]->name,
                                      members[follower]->ports, policy);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  members[follower]->process = std::move(restarted).value();
  const std::string fep = members[follower]->process->endpoint();
  ASSERT_TRUE(CaughtUp(fep, ep, 20s)) << members[follower]->process->Log();
  EXPECT_NE(members[follower]->process->Log().find("installed a snapshot at index"),
            std::string::npos)
      << members[follower]->process->Log();
  EXPECT_EQ(HashKv(fep), HashKv(ep));
  EXPECT_EQ(AllKeys(fep), AllKeys(ep));
  // And it keeps replicating after the snapshot.
  ASSERT_TRUE(PutRetry(c.get(), "after", "snapshot"));
  ASSERT_TRUE(CaughtUp(fep, ep, 10s));
  EXPECT_EQ(AllKeys(fep).count("after"), 1u);
}

// A real crash (SIGKILL) of a follower while it installs a snapshot: killed
// as soon as its SST staging dir appears (a kill lands in step 1, or later
// when the install outruns the poll). Restarted, it is consistent, catches up
// and matches the leader. node_snapshot_install_test covers each step
// deterministically.
TEST(MembershipTest, FollowerKilledDuringASnapshotInstallRestartsAndCatchesUp) {
  Result<std::string> dir = MakeTempDir("aspen-member-snapkill");
  ASSERT_TRUE(dir.ok());
  const std::vector<std::string> policy = {"--snapshot-count=100", "--snapshot-catchup-entries=20"};
  auto members = StartThree(*dir, policy);
  const int leader = LeaderIndex(members, 20s);
  ASSERT_GE(leader, 0);
  const int follower = (leader + 1) % 3;
  const std::string ep = members[leader]->process->endpoint();
  auto c = ClientFor({ep});
  ASSERT_TRUE(PutRetry(c.get(), "before", "v"));
  ASSERT_TRUE(CaughtUp(members[follower]->process->endpoint(), ep, 10s));
  members[follower]->process->process().Stop(SIGTERM, 5s);
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(PutRetry(c.get(), "b" + std::to_string(i % 300),
                         std::string(8192, static_cast<char>('a' + i % 26))));
  }
  const std::string fdir = *dir + "/" + members[follower]->name;
  auto start = [&] {
    auto p = AspenMember::Start(members[follower]->name, fdir, members[follower]->ports, policy,
                                /*wait_ready=*/false);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    members[follower]->process = std::move(p).value();
  };
  start();
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool staged = false;
  for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
    if (std::filesystem::exists(fdir + "/snapshot-ingest")) {
      staged = true;
      break;
    }
    if (i % 50 == 0 &&
        members[follower]->process->Log().find("installed a snapshot") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(1ms);
  }
  members[follower]->process->Kill();
  RecordProperty("killed_while_staged", staged ? "yes" : "no");
  start();
  const std::string fep = members[follower]->process->endpoint();
  ASSERT_TRUE(CaughtUp(fep, ep, 30s)) << members[follower]->process->Log();
  EXPECT_EQ(HashKv(fep), HashKv(ep));
  EXPECT_EQ(AllKeys(fep), AllKeys(ep));
  ASSERT_TRUE(PutRetry(c.get(), "after", "kill"));
  ASSERT_TRUE(CaughtUp(fep, ep, 10s));
  EXPECT_EQ(AllKeys(fep).count("after"), 1u);
}

}  // namespace
}  // namespace aspen::testing

namespace aspen::testing {
namespace {

TEST(MembershipTest, AspenMemberCommandsAddPromoteUpdateRemoveAndMoveLeader) {
  Result<std::string> dir = MakeTempDir("aspen-member-cli");
  ASSERT_TRUE(dir.ok());
  auto n1 = AspenMember::Start("n1", *dir + "/n1", PickMemberPorts(), {});
  ASSERT_TRUE(n1.ok()) << n1.status().ToString();
  const std::string ep = "--endpoints=" + (*n1)->endpoint();
  const std::string url = "http://127.0.0.1:" + std::to_string(PickFreeLoopbackPort().value());

  ProgramRun add = RunAspen({"member", "add", "n2", "--learner", "--peer-urls=" + url, ep});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("ASPEN_INITIAL_CLUSTER_STATE=\"existing\""), std::string::npos);
  const std::string id = AddedId(add);
  ASSERT_FALSE(id.empty()) << add.out;
  ProgramRun list = RunAspen({"member", "list", ep});
  EXPECT_NE(list.out.find(id + ", unstarted, , " + url + ", , true"), std::string::npos)
      << list.out;
  // common.h's exit codes: 1 the server refused, 2 not found.
  ProgramRun promote = RunAspen({"member", "promote", id, ep});
  EXPECT_EQ(promote.exit_code, 1);
  EXPECT_NE(promote.err.find("can only promote a learner member which is in sync with leader"),
            std::string::npos)
      << promote.err;
  EXPECT_EQ(RunAspen({"member", "update", id, "--peer-urls=" + url + "0", ep}).exit_code, 0);
  EXPECT_NE(RunAspen({"member", "list", ep}).out.find(url + "0"), std::string::npos);
  ProgramRun removed = RunAspen({"member", "remove", id, ep, "-o", "json"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  // One JSON document: the removed id and the members left (n1 alone).
  EXPECT_NE(removed.out.find("\"id_hex\":\"" + id + "\""), std::string::npos) << removed.out;
  EXPECT_NE(removed.out.find("\"members\":[{"), std::string::npos) << removed.out;
  EXPECT_NE(removed.out.find("\"name\":\"n1\""), std::string::npos) << removed.out;
  EXPECT_EQ(RunAspen({"member", "list", ep}).out.find(id), std::string::npos);
  ProgramRun again = RunAspen({"member", "remove", id, ep});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("etcdserver: member not found"), std::string::npos) << again.err;
  EXPECT_EQ(RunAspen({"member", "remove", "not-hex", ep}).exit_code, 1);
  // Before n3 joins as a voter that never starts: n1 alone then loses its
  // quorum and steps down after an election timeout ("not leader").
  ProgramRun move = RunAspen({"move-leader", "1234", ep});
  EXPECT_EQ(move.exit_code, 1);
  EXPECT_NE(move.err.find("etcdserver: bad leader transferee"), std::string::npos) << move.err;
  ProgramRun add_json =
      RunAspen({"member", "add", "n3", "--peer-urls=" + url + "1", ep, "-o", "json"});
  EXPECT_EQ(add_json.exit_code, 0) << add_json.err;
  EXPECT_NE(add_json.out.find("\"member\":{"), std::string::npos) << add_json.out;
  EXPECT_NE(add_json.out.find(url + "1"), std::string::npos) << add_json.out;
}

}  // namespace
}  // namespace aspen::testing
