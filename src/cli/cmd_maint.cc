// `aspen defrag`, `aspen alarm list|disarm` and `aspen verify`: etcdctl's
// maintenance commands (docs/OPERATIONS.md, "Quotas and alarms",
// "Defragmentation", "Verifying a member or a cluster").
//
//   defrag         Maintenance.Defragment on every endpoint, one at a time.
//   alarm list     every active alarm ("memberID:N alarm:NOSPACE", as etcdctl).
//   alarm disarm   deactivates every active alarm and prints what it disarmed.
//   verify --data-dir DIR
//                  checks a stopped member's data dir: the Raft log's chain
//                  hash, the state machine's rows (HashKV), no half-done ingest.
//   verify [--endpoints ...]
//                  HashKV of every endpoint at one revision: equal or not.
//   verify --rev R HashKV of every endpoint (or of the data dir) as of
//                  revision R (MVCC history): members that applied R agree.
// Exit codes (common.h): 0 success, 1 error, 2 members disagree (verify),
// 3 unavailable.
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "cli/maint_util.h"
#include "sm/reads.h"
#include "storage/log_store.h"
#include "storage/rocks_store.h"
#include "storage/snapshot.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct MaintFlags {
  ClientFlags common;
  std::string data_dir;
  int attempts = 10;
  std::int64_t rev = 0;  // 0: the current revision
};

int RunDefrag(const MaintFlags& f) {
  Result<client::ClientOptions> opts = maint::Options(f.common);
  if (!opts.ok()) return UsageError("defrag", opts.status().message());
  const std::vector<std::string>* endpoints = &opts->endpoints;
  int rc = 0;
  Json rows = Json::array();
  for (const std::string& ep : *endpoints) {
    grpc::ClientContext ctx;
    // Compaction of a large state takes long; allow ten command timeouts.
    maint::SetDeadline(&ctx, opts->call_timeout * 10);
    pb::DefragmentResponse resp;
    grpc::Status s = maint::Stub(ep)->Defragment(&ctx, pb::DefragmentRequest(), &resp);
    Json row = {{"endpoint", ep}, {"ok", s.ok()}};
    if (s.ok()) {
      if (!f.common.json()) std::cout << "Finished defragmenting etcd member[" << ep << "]\n";
    } else {
      std::cerr << "Failed to defragment etcd member[" << ep << "] (" << s.error_message() << ")\n";
      row["error"] = s.error_message();
      rc = ExitCodeFor(client::FromGrpc(s));
    }
    rows.push_back(std::move(row));
  }
  if (f.common.json()) PrintJson({{"endpoints", std::move(rows)}});
  return rc;
}

// Alarm on the first endpoint that answers.
grpc::Status CallAlarm(std::chrono::milliseconds timeout, const std::vector<std::string>& endpoints,
                       const pb::AlarmRequest& req, pb::AlarmResponse* resp) {
  grpc::Status s;
  for (const std::string& ep : endpoints) {
    grpc::ClientContext ctx;
    maint::SetDeadline(&ctx, timeout);
    s = maint::Stub(ep)->Alarm(&ctx, req, resp);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) return s;
  }
  return s;
}

void PrintAlarms(const pb::ResponseHeader& header, const pb::AlarmResponse& resp, bool json) {
  if (json) {
    Json alarms = Json::array();
    for (const pb::AlarmMember& a : resp.alarms()) {
      alarms.push_back({{"member_id", a.memberid()},
                        {"member_id_hex", Hex(a.memberid())},
                        {"alarm", pb::AlarmType_Name(a.alarm())}});
    }
    PrintJson({{"header", HeaderJson(header)}, {"alarms", std::move(alarms)}});
    return;
  }
  for (const pb::AlarmMember& a : resp.alarms()) {
    std::cout << "memberID:" << a.memberid() << " alarm:" << pb::AlarmType_Name(a.alarm()) << " \n";
  }
}

int RunAlarm(const MaintFlags& f, bool disarm) {
  const char* name = disarm ? "alarm disarm" : "alarm list";
  Result<client::ClientOptions> opts = maint::Options(f.common);
  if (!opts.ok()) return UsageError(name, opts.status().message());
  const std::vector<std::string>* endpoints = &opts->endpoints;
  pb::AlarmRequest get;
  get.set_action(pb::AlarmRequest::GET);
  pb::AlarmResponse list;
  grpc::Status s = CallAlarm(opts->call_timeout, *endpoints, get, &list);
  if (!s.ok()) return maint::FailGrpc(name, "", s);
  if (!disarm) {
    PrintAlarms(list.header(), list, f.common.json());
    return 0;
  }
  pb::AlarmResponse disarmed;
  for (const pb::AlarmMember& a : list.alarms()) {
    pb::AlarmRequest req;
    req.set_action(pb::AlarmRequest::DEACTIVATE);
    req.set_memberid(a.memberid());
    req.set_alarm(a.alarm());
    pb::AlarmResponse one;
    s = CallAlarm(opts->call_timeout, *endpoints, req, &one);
    if (!s.ok()) return maint::FailGrpc(name, "", s);
    for (const pb::AlarmMember& m : one.alarms()) *disarmed.add_alarms() = m;
  }
  PrintAlarms(list.header(), disarmed, f.common.json());
  return 0;
}

// A stopped member's data dir.
int VerifyDataDir(const MaintFlags& f) {
  storage::RocksOptions o;
  o.create_if_missing = false;
  Result<std::unique_ptr<storage::RocksStore>> store =
      storage::RocksStore::Open(f.data_dir + "/db", o);
  if (!store.ok()) {
    if (store.status().code() == Code::kFailedPrecondition) {
      return Fail("verify", Status(store.status().code(),
                                   store.status().message() +
                                       "; verify a stopped member, or use --endpoints to compare "
                                       "running members"));
    }
    return Fail("verify", store.status());
  }
  Result<bool> partial = storage::IngestIncomplete(store->get());
  if (!partial.ok()) return Fail("verify", partial.status());
  if (*partial) {
    return Fail("verify",
                Status::Corruption("the data dir holds a partially ingested snapshot (a member "
                                   "finishes a raft snapshot install a crash interrupted when it "
                                   "starts; a partial `aspen snapshot restore` must be redone)"));
  }
  storage::LogStoreOptions lo;
  lo.verify_chain_on_open = false;
  Result<std::unique_ptr<storage::LogStore>> log = storage::LogStore::Open(store->get(), lo);
  if (!log.ok()) return Fail("verify", log.status());
  if (Status s = (*log)->VerifyChain(); !s.ok()) return Fail("verify", s);
  auto snap = (*store)->GetSnapshot();
  Result<sm::KvHashAt> at = sm::HashKVAt(*snap, f.rev);
  if (!at.ok()) return Fail("verify", at.status());
  const sm::KvHash* kv = &at->hash;
  Result<sm::AppliedState> applied = sm::ReadAppliedState(*snap);
  if (!applied.ok()) return Fail("verify", applied.status());
  const std::uint64_t first = (*log)->FirstIndex();
  const std::uint64_t last = (*log)->LastIndex();
  if (f.common.json()) {
    PrintJson({{"logFirstIndex", first},
               {"logLastIndex", last},
               {"chainTip", storage::ChainHashHex((*log)->LastChainHash())},
               {"appliedIndex", applied->applied_index},
               {"revision", kv->revision},
               {"hashKV", kv->hash32}});
    return 0;
  }
  std::cout << "log: entries " << first << ".." << last << ", chain hash verified (tip "
            << storage::ChainHashHex((*log)->LastChainHash()) << ")\n"
            << "state: applied index " << applied->applied_index << ", revision " << kv->revision
            << ", hashkv " << kv->hash32 << "\n"
            << "OK\n";
  return 0;
}

// Prints each member's HashKV at `revision` (a line each, or one JSON
// document) and whether they agree: exit 0, or 2 when they differ.
int ReportHashes(const MaintFlags& f, const std::vector<std::string>& endpoints,
                 const std::vector<pb::HashKVResponse>& hashes, std::int64_t revision) {
  bool equal = true;
  Json members = Json::array();
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const pb::HashKVResponse& h = hashes[i];
    equal &= h.hash() == hashes[0].hash();
    if (f.common.json()) {
      members.push_back({{"endpoint", endpoints[i]},
                         {"member_id", h.header().member_id()},
                         {"member_id_hex", Hex(h.header().member_id())},
                         {"hash", h.hash()},
                         {"compact_revision", h.compact_revision()}});
      continue;
    }
    std::cout << endpoints[i] << ": member " << Hex(h.header().member_id()) << ", revision "
              << revision << ", hashkv " << h.hash();
    if (f.rev > 0) std::cout << ", compact revision " << h.compact_revision();
    std::cout << "\n";
  }
  if (f.common.json()) {
    PrintJson({{"revision", revision}, {"agree", equal}, {"members", std::move(members)}});
  }
  if (!equal) {
    std::cerr << "aspen verify: HashKV at revision " << revision << " differs between members\n";
    return kExitNegative;
  }
  if (!f.common.json()) {
    std::cout << "OK: " << endpoints.size() << " member(s) agree at revision " << revision << "\n";
  }
  return kExitOk;
}

// Every endpoint's HashKV at one revision.
int VerifyCluster(const MaintFlags& f) {
  Result<client::ClientOptions> opts = maint::Options(f.common);
  if (!opts.ok()) return UsageError("verify", opts.status().message());
  const std::vector<std::string>* endpoints = &opts->endpoints;
  std::vector<pb::HashKVResponse> hashes(endpoints->size());
  if (f.rev > 0) {
    // At a fixed past revision every member must answer the same hash.
    for (std::size_t i = 0; i < endpoints->size(); ++i) {
      grpc::ClientContext ctx;
      maint::SetDeadline(&ctx, opts->call_timeout);
      pb::HashKVRequest req;
      req.set_revision(f.rev);
      grpc::Status s = maint::Stub((*endpoints)[i])->HashKV(&ctx, req, &hashes[i]);
      if (!s.ok()) return maint::FailGrpc("verify", (*endpoints)[i] + ": ", s);
    }
    return ReportHashes(f, *endpoints, hashes, f.rev);
  }
  for (int attempt = 0; attempt < f.attempts; ++attempt) {
    bool same_revision = true;
    for (std::size_t i = 0; i < endpoints->size(); ++i) {
      grpc::ClientContext ctx;
      maint::SetDeadline(&ctx, opts->call_timeout);
      grpc::Status s = maint::Stub((*endpoints)[i])->HashKV(&ctx, pb::HashKVRequest(), &hashes[i]);
      if (!s.ok()) return maint::FailGrpc("verify", (*endpoints)[i] + ": ", s);
      same_revision &= hashes[i].header().revision() == hashes[0].header().revision();
    }
    if (!same_revision) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 * (attempt + 1)));
      continue;
    }
    return ReportHashes(f, *endpoints, hashes, hashes[0].header().revision());
  }
  return Fail("verify", Status::Unavailable("the members were never at the same revision in " +
                                            std::to_string(f.attempts) +
                                            " attempts (writes in flight?); try again"));
}

}  // namespace

void RegisterMaintCommands(CLI::App& app, int* exit_code) {
  auto defrag = std::make_shared<MaintFlags>();
  CLI::App* defrag_cmd = app.add_subcommand("defrag", "Compact every endpoint's state");
  AddClientFlags(defrag_cmd, defrag->common);
  defrag_cmd->callback([defrag, exit_code] { *exit_code = RunDefrag(*defrag); });

  CLI::App* alarm_cmd = app.add_subcommand("alarm", "List or disarm alarms");
  alarm_cmd->require_subcommand(1);
  auto list = std::make_shared<MaintFlags>();
  CLI::App* list_cmd = alarm_cmd->add_subcommand("list", "Every active alarm");
  AddClientFlags(list_cmd, list->common);
  list_cmd->callback([list, exit_code] { *exit_code = RunAlarm(*list, false); });
  auto disarm = std::make_shared<MaintFlags>();
  CLI::App* disarm_cmd = alarm_cmd->add_subcommand("disarm", "Deactivate every alarm");
  AddClientFlags(disarm_cmd, disarm->common);
  disarm_cmd->callback([disarm, exit_code] { *exit_code = RunAlarm(*disarm, true); });

  auto verify = std::make_shared<MaintFlags>();
  CLI::App* verify_cmd = app.add_subcommand(
      "verify", "Check a stopped member's data dir, or compare running members' HashKV");
  verify_cmd->add_option("--data-dir", verify->data_dir, "A stopped member's data dir");
  verify_cmd
      ->add_option("--attempts", verify->attempts, "Tries to catch every member at one revision")
      ->capture_default_str();
  verify_cmd
      ->add_option("--rev", verify->rev, "Compare HashKV as of this revision (0: the current one)")
      ->check(CLI::NonNegativeNumber);
  AddClientFlags(verify_cmd, verify->common);
  verify_cmd->callback([verify, exit_code] {
    *exit_code = verify->data_dir.empty() ? VerifyCluster(*verify) : VerifyDataDir(*verify);
  });
}

}  // namespace aspen::cli
