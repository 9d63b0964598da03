// Maintenance with real processes: etcdctl's endpoint status, alarm, defrag
// and hashkv against aspen and a real etcd; the NOSPACE quota; backing up a
// 3-member cluster under write load and restoring it into a new cluster; a
// corrupted backup refused by status and restore.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
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

// Masks what legitimately differs between etcd and aspen: ports, ids,
// versions, sizes, indexes, hashes.
std::string Mask(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("{\"level\"")) continue;
    out += line + "\n";
  }
  out = std::regex_replace(out, std::regex("127\\.0\\.0\\.1:[0-9]+"), "EP");
  out = std::regex_replace(out, std::regex("[0-9.]+ (B|kB|MB)"), "SIZE");
  out = std::regex_replace(out, std::regex("\\b[0-9a-f]{6,16}\\b"), "ID");
  out = std::regex_replace(out, std::regex("[0-9]+(\\.[0-9]+)*"), "N");
  return out;
}

std::vector<std::string> StatusScript(const std::string& endpoint) {
  const std::vector<std::vector<std::string>> steps = {
      {"put", "a", "1"}, {"endpoint", "status"}, {"alarm", "list"},      {"alarm", "disarm"},
      {"defrag"},        {"endpoint", "hashkv"}, {"endpoint", "status"},
  };
  std::vector<std::string> out;
  for (const auto& s : steps) {
    ProgramRun r = Etcdctl(endpoint, s);
    std::string label;
    for (const std::string& a : s) label += a + " ";
    out.push_back(label + "-> exit " + std::to_string(r.exit_code) + "\n" + Mask(r.out) +
                  Mask(r.err));
  }
  return out;
}

TEST(MaintenanceTest, EtcdctlStatusAlarmDefragHashkvMatchEtcd) {
  Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  const std::vector<std::string> want = StatusScript((*etcd)->endpoint());
  etcd->reset();
  Result<std::string> dir = MakeTempDir("aspen-maint");
  ASSERT_TRUE(dir.ok());
  auto m = AspenMember::Start("n1", *dir + "/n1", PickMemberPorts(), {});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::vector<std::string> got = StatusScript((*m)->endpoint());
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]);
}

TEST(MaintenanceTest, NoSpaceRefusesWritesUntilSpaceIsFreedAndTheAlarmDisarmed) {
  Result<std::string> dir = MakeTempDir("aspen-nospace");
  ASSERT_TRUE(dir.ok());
  auto m =
      AspenMember::Start("n1", *dir + "/n1", PickMemberPorts(), {"--quota-backend-bytes=200000"});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const std::string ep = (*m)->endpoint();
  const std::string value(20000, 'v');
  int written = 0;
  ProgramRun last;
  for (int i = 0; i < 60; ++i) {
    last = Etcdctl(ep, {"put", "k" + std::to_string(i), value});
    if (last.exit_code != 0) break;
    ++written;
  }
  ASSERT_GT(written, 3);
  ASSERT_LT(written, 60) << "the quota never refused a write";
  EXPECT_NE(last.err.find("etcdserver: mvcc: database space exceeded"), std::string::npos)
      << last.err;
  ProgramRun alarms = Etcdctl(ep, {"alarm", "list"});
  EXPECT_TRUE(std::regex_search(alarms.out, std::regex("^memberID:[0-9]+ alarm:NOSPACE \n$")))
      << alarms.out;
  ProgramRun status = Etcdctl(ep, {"endpoint", "status"});
  EXPECT_NE(status.out.find("alarm:NOSPACE"), std::string::npos) << status.out;
  // Reads and deletes still work; puts do not, even after the delete.
  EXPECT_EQ(Etcdctl(ep, {"get", "k0"}).exit_code, 0);
  EXPECT_EQ(Etcdctl(ep, {"del", "k", "--prefix"}).exit_code, 0);
  EXPECT_NE(Etcdctl(ep, {"put", "x", "y"}).exit_code, 0);
  // aspen's own commands: defrag, then disarm.
  ProgramRun defrag = RunAspen({"defrag", "--endpoints", ep});
  EXPECT_EQ(defrag.exit_code, 0) << defrag.err;
  ProgramRun disarm = RunAspen({"alarm", "disarm", "--endpoints", ep});
  EXPECT_EQ(disarm.exit_code, 0) << disarm.err;
  EXPECT_NE(disarm.out.find("alarm:NOSPACE"), std::string::npos) << disarm.out;
  EXPECT_EQ(RunAspen({"alarm", "list", "--endpoints", ep}).out, "");
  ProgramRun put = Etcdctl(ep, {"put", "x", "y"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
}

struct Cluster {
  std::vector<std::unique_ptr<AspenMember>> members;
  std::vector<std::string> endpoints;
};

// Three members started with `extra` flags (nothing when the dirs hold a
// restored member already).
Cluster StartCluster(const std::string& dir, const std::vector<MemberPorts>& ports,
                     const std::vector<std::string>& extra) {
  Cluster c;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    auto m = AspenMember::Start("n" + std::to_string(i), dir + "/n" + std::to_string(i), ports[i],
                                extra, /*wait_ready=*/false);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return c;
    c.endpoints.push_back((*m)->endpoint());
    c.members.push_back(std::move(m).value());
  }
  return c;
}

std::string InitialCluster(const std::vector<MemberPorts>& ports) {
  std::string s;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    s += (i ? "," : "") + std::string("n") + std::to_string(i) + "=" + ports[i].peer_url();
  }
  return s;
}

// Every key the writer wrote ("key..."), by key.
std::map<std::string, mvccpb::KeyValue> AllKeys(client::Client* c, std::int64_t* revision) {
  client::GetOptions o;
  o.prefix = true;
  std::map<std::string, mvccpb::KeyValue> out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto r = c->Get("key", o);
    if (!r.ok()) {
      std::this_thread::sleep_for(100ms);
      continue;
    }
    for (const auto& kv : r->kvs()) out[kv.key()] = kv;
    *revision = r->header().revision();
    return out;
  }
  ADD_FAILURE() << "no answer from the cluster";
  return out;
}

TEST(MaintenanceTest, BackupUnderLoadRestoresIntoANewClusterWithEveryKeyAndRevision) {
  Result<std::string> dir = MakeTempDir("aspen-backup");
  ASSERT_TRUE(dir.ok());
  std::filesystem::create_directories(*dir + "/old");
  std::filesystem::create_directories(*dir + "/new");
  std::vector<MemberPorts> ports = {PickMemberPorts(), PickMemberPorts(), PickMemberPorts()};
  Cluster old =
      StartCluster(*dir + "/old", ports,
                   {"--initial-cluster=" + InitialCluster(ports), "--initial-cluster-token=old"});
  ASSERT_EQ(old.members.size(), 3u);
  auto writer_client = ClientFor(old.endpoints);
  std::atomic<bool> stop{false};
  std::atomic<int> acked{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load() && i < 100000; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "key%06d", i);
      if (writer_client->Put(key, "value-" + std::to_string(i)).ok()) {
        acked.store(i + 1);
      } else {
        std::this_thread::sleep_for(20ms);
        --i;  // retry the same key until it is acknowledged
      }
    }
  });
  // The writer stops and is joined however the test leaves this scope (a
  // failed ASSERT must not destroy a running thread: that aborts the run).
  struct StopWriter {
    std::atomic<bool>* stop;
    std::thread* writer;
    ~StopWriter() {
      stop->store(true);
      if (writer->joinable()) writer->join();
    }
  } stop_writer{&stop, &writer};
  const auto load_deadline = std::chrono::steady_clock::now() + 60s;
  while (acked.load() < 200 && std::chrono::steady_clock::now() < load_deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GE(acked.load(), 200) << "the writer made no progress";
  const int acked_before_save = acked.load();
  const std::string file = *dir + "/backup.snap";
  ProgramRun save = RunAspen({"snapshot", "save", file, "--endpoints", old.endpoints[1]});
  ASSERT_EQ(save.exit_code, 0) << save.out << save.err;
  std::this_thread::sleep_for(300ms);
  stop.store(true);
  writer.join();
  ASSERT_GT(acked.load(), acked_before_save) << "the load did not run during the backup";

  ProgramRun status = RunAspen({"snapshot", "status", file, "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(status.out, m, std::regex("\"revision\":([0-9]+)")));
  const std::int64_t snap_revision = std::stoll(m[1]);
  std::int64_t old_revision = 0;
  const auto old_keys = AllKeys(ClientFor(old.endpoints).get(), &old_revision);
  old.members.clear();

  std::vector<MemberPorts> fresh = {PickMemberPorts(), PickMemberPorts(), PickMemberPorts()};
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    ProgramRun r = RunAspen(
        {"snapshot", "restore", file, "--data-dir", *dir + "/new/n" + std::to_string(i), "--name",
         "n" + std::to_string(i), "--initial-cluster", InitialCluster(fresh),
         "--initial-advertise-peer-urls", fresh[i].peer_url(), "--initial-cluster-token", "new"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  Cluster restored = StartCluster(*dir + "/new", fresh, {});
  ASSERT_EQ(restored.members.size(), 3u);
  std::int64_t new_revision = 0;
  const auto new_keys = AllKeys(ClientFor(restored.endpoints).get(), &new_revision);
  EXPECT_EQ(new_revision, snap_revision);
  EXPECT_LE(new_revision, old_revision);
  EXPECT_GE(new_keys.size(), static_cast<std::size_t>(acked_before_save));
  // Every restored key is the old cluster's, revisions included (keys are
  // written once, so the old cluster still holds them unchanged).
  for (const auto& [key, kv] : new_keys) {
    auto it = old_keys.find(key);
    ASSERT_NE(it, old_keys.end()) << key;
    EXPECT_EQ(kv.value(), it->second.value()) << key;
    EXPECT_EQ(kv.create_revision(), it->second.create_revision()) << key;
    EXPECT_EQ(kv.mod_revision(), it->second.mod_revision()) << key;
    EXPECT_EQ(kv.version(), it->second.version()) << key;
    EXPECT_LE(kv.mod_revision(), snap_revision);
  }
  // Every old key at or below the snapshot's revision is restored.
  for (const auto& [key, kv] : old_keys) {
    if (kv.mod_revision() <= snap_revision) {
      EXPECT_TRUE(new_keys.count(key)) << key;
    }
  }
  // The new cluster takes writes, is a different cluster, and its members agree.
  auto c = ClientFor(restored.endpoints);
  auto put = c->Put("after-restore", "1");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->header().revision(), snap_revision + 1);
  std::string eps =
      restored.endpoints[0] + "," + restored.endpoints[1] + "," + restored.endpoints[2];
  ProgramRun verify = RunAspen({"verify", "--endpoints", eps});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("OK: 3 member(s) agree"), std::string::npos) << verify.out;
}

// Every "hash":N of `etcdctl endpoint hashkv -w json`, in endpoint order.
std::vector<std::uint64_t> HashesOf(const std::string& json) {
  std::vector<std::uint64_t> out;
  const std::regex re("\"hash\":([0-9]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back(std::stoull((*it)[1]));
  }
  return out;
}

// HashKV --rev R on every member of `eps`, retried while a member has not
// applied R yet ("future revision").
std::vector<std::uint64_t> HashesAt(const std::string& eps, std::int64_t rev) {
  ProgramRun r;
  for (int attempt = 0; attempt < 50; ++attempt) {
    r = Etcdctl(eps, {"endpoint", "hashkv", "--rev=" + std::to_string(rev), "-w", "json"});
    if (r.exit_code == 0) return HashesOf(r.out);
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "hashkv --rev " << rev << ": " << r.out << r.err;
  return {};
}

TEST(MaintenanceTest, HashkvAtAPastRevisionIsEqualOnEveryMemberAndChangesWithTheRevision) {
  Result<std::string> dir = MakeTempDir("aspen-hashkv-rev");
  ASSERT_TRUE(dir.ok());
  std::vector<MemberPorts> ports = {PickMemberPorts(), PickMemberPorts(), PickMemberPorts()};
  Cluster c = StartCluster(
      *dir, ports,
      {"--initial-cluster=" + InitialCluster(ports), "--initial-cluster-token=hashkv"});
  ASSERT_EQ(c.members.size(), 3u);
  const std::string eps = c.endpoints[0] + "," + c.endpoints[1] + "," + c.endpoints[2];
  auto client = ClientFor(c.endpoints);
  std::int64_t r = 0;
  for (int i = 0; i < 20; ++i) {
    auto put = client->Put("k" + std::to_string(i % 7), "v" + std::to_string(i));
    for (int attempt = 0; !put.ok() && attempt < 100; ++attempt) {
      std::this_thread::sleep_for(100ms);
      put = client->Put("k" + std::to_string(i % 7), "v" + std::to_string(i));
    }
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    r = put->header().revision();
  }
  const std::vector<std::uint64_t> at_r_before = HashesAt(eps, r);
  ASSERT_EQ(at_r_before.size(), 3u);
  // More writes: an overwrite, a delete and a new key.
  ASSERT_TRUE(client->Put("k1", "changed").ok());
  ASSERT_TRUE(client->Delete("k2").ok());
  auto last = client->Put("new", "1");
  ASSERT_TRUE(last.ok());
  const std::int64_t r_now = last->header().revision();
  ASSERT_EQ(r_now, r + 3);

  const std::vector<std::uint64_t> at_r = HashesAt(eps, r);
  ASSERT_EQ(at_r.size(), 3u);
  EXPECT_EQ(at_r, at_r_before) << "HashKV at a past revision changed with later writes";
  EXPECT_EQ(at_r[0], at_r[1]);
  EXPECT_EQ(at_r[0], at_r[2]);
  for (std::int64_t k = 1; k <= 3; ++k) {
    const std::vector<std::uint64_t> later = HashesAt(eps, r + k);
    ASSERT_EQ(later.size(), 3u);
    EXPECT_EQ(later[0], later[1]);
    EXPECT_EQ(later[0], later[2]);
    EXPECT_NE(later[0], at_r[0]) << "revision " << r + k;
  }
  // At the current revision the history answer equals the current rows' one.
  const std::vector<std::uint64_t> now = HashesAt(eps, 0);
  ASSERT_EQ(now.size(), 3u);
  EXPECT_EQ(now[0], HashesAt(eps, r_now)[0]);

  // aspen verify --rev agrees; etcd's errors above and below the kept range.
  ProgramRun verify = RunAspen({"verify", "--rev", std::to_string(r), "--endpoints", eps});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("OK: 3 member(s) agree at revision " + std::to_string(r)),
            std::string::npos)
      << verify.out;
  EXPECT_NE(verify.out.find("hashkv " + std::to_string(at_r[0])), std::string::npos) << verify.out;
  ProgramRun future = Etcdctl(c.endpoints[0], {"endpoint", "hashkv", "--rev=1000000"});
  EXPECT_NE(future.exit_code, 0);
  EXPECT_NE(future.err.find("required revision is a future revision"), std::string::npos)
      << future.err;
  ProgramRun compact = Etcdctl(c.endpoints[0], {"compact", std::to_string(r)});
  ASSERT_EQ(compact.exit_code, 0) << compact.err;
  ProgramRun compacted =
      Etcdctl(c.endpoints[0], {"endpoint", "hashkv", "--rev=" + std::to_string(r - 1)});
  EXPECT_NE(compacted.exit_code, 0);
  EXPECT_NE(compacted.err.find("required revision has been compacted"), std::string::npos)
      << compacted.err;
  // At the compact revision itself the answer is unchanged, and reports it.
  const std::vector<std::uint64_t> at_c = HashesAt(eps, r);
  ASSERT_EQ(at_c.size(), 3u);
  EXPECT_EQ(at_c, at_r);
  ProgramRun json =
      Etcdctl(c.endpoints[0], {"endpoint", "hashkv", "--rev=" + std::to_string(r), "-w", "json"});
  EXPECT_NE(json.out.find("\"compact_revision\":" + std::to_string(r)), std::string::npos)
      << json.out;
  // A stopped member's data dir gives the same hash at R.
  c.members[0]->process().Stop(SIGTERM, 5s);
  ProgramRun offline = RunAspen({"verify", "--data-dir", *dir + "/n0", "--rev", std::to_string(r)});
  EXPECT_EQ(offline.exit_code, 0) << offline.out << offline.err;
  EXPECT_NE(
      offline.out.find("revision " + std::to_string(r) + ", hashkv " + std::to_string(at_r[0])),
      std::string::npos)
      << offline.out;
}

TEST(MaintenanceTest, CorruptedBackupIsRefusedByStatusAndRestore) {
  Result<std::string> dir = MakeTempDir("aspen-corrupt");
  ASSERT_TRUE(dir.ok());
  {
    auto m = AspenMember::Start("n1", *dir + "/n1", PickMemberPorts(), {});
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(Etcdctl((*m)->endpoint(), {"put", "k" + std::to_string(i), "v"}).exit_code, 0);
    }
    ProgramRun save = Etcdctl((*m)->endpoint(), {"snapshot", "save", *dir + "/etcdctl.snap"});
    ASSERT_EQ(save.exit_code, 0) << save.err;
  }
  const std::string good = *dir + "/etcdctl.snap";
  EXPECT_EQ(RunAspen({"snapshot", "status", good}).exit_code, 0);
  std::string bytes;
  {
    std::ifstream in(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 600u);
  auto write = [&](const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary);
    out << data;
  };
  std::string flipped = bytes;
  flipped[100] ^= 0x01;
  write(*dir + "/flipped.snap", flipped);
  write(*dir + "/truncated.snap", bytes.substr(0, bytes.size() - 40));
  for (const std::string name : {"flipped", "truncated"}) {
    const std::string path = *dir + "/" + name + ".snap";
    ProgramRun st = RunAspen({"snapshot", "status", path});
    EXPECT_EQ(st.exit_code, 1) << name;
    EXPECT_NE(st.err.find("snapshot: "), std::string::npos) << st.err;
    const std::string data_dir = *dir + "/restored-" + name;
    ProgramRun r = RunAspen({"snapshot", "restore", path, "--data-dir", data_dir, "--name", "m1",
                             "--initial-cluster", "m1=http://127.0.0.1:1",
                             "--initial-advertise-peer-urls", "http://127.0.0.1:1"});
    EXPECT_EQ(r.exit_code, 1) << name;
    EXPECT_NE(r.err.find("snapshot: "), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(data_dir)) << name;
    EXPECT_FALSE(std::filesystem::exists(data_dir + ".restore-tmp")) << name;
  }
}

}  // namespace
}  // namespace aspen::testing
