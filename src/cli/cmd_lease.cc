// `aspen lease grant|revoke|keep-alive|timetolive|list`, as etcdctl's lease
// commands: IDs printed and accepted in hexadecimal, the same sentences in
// table form. Exit codes: 0 ok, 2 the lease does not exist (revoke, keep-alive,
// timetolive), 1 bad input or the server refused, 3 no endpoint answered.
//
// keep-alive renews the lease every TTL/3 (at least every 500 ms) and prints
// each answer until SIGINT/SIGTERM (exit 0) or the lease is gone (exit 2);
// --once renews once. With -o json it prints one JSON document per answer
// (JSON Lines); with --once that is exactly one document.
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct LeaseFlags {
  ClientFlags common;
  std::int64_t ttl = 0;
  std::string id_hex;
  bool once = false;
  bool keys = false;
};

Json IdJson(Json j, std::int64_t id) {
  j["id"] = id;
  j["id_hex"] = LeaseHex(id);
  return j;
}

int RunGrant(const LeaseFlags& f) {
  std::unique_ptr<client::Client> client = Connect("lease grant", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::LeaseGrantResponse> r = client->LeaseGrant(f.ttl);
  if (!r.ok()) return Fail("lease grant", r.status());
  if (f.common.json()) {
    PrintJson(IdJson({{"header", HeaderJson(r->header())}, {"ttl", r->ttl()}}, r->id()));
  } else {
    std::cout << "lease " << LeaseHex(r->id()) << " granted with TTL(" << r->ttl() << "s)\n";
  }
  return kExitOk;
}

// Parses the ID argument; prints the error and returns 0 when it is bad.
std::int64_t IdOrZero(const char* command, const LeaseFlags& f) {
  Result<std::int64_t> id = ParseLeaseHex(f.id_hex);
  if (!id.ok()) {
    UsageError(command, id.status().message());
    return 0;
  }
  return *id;
}

int RunRevoke(const LeaseFlags& f) {
  const std::int64_t id = IdOrZero("lease revoke", f);
  if (id == 0) return kExitError;
  std::unique_ptr<client::Client> client = Connect("lease revoke", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::LeaseRevokeResponse> r = client->LeaseRevoke(id);
  if (!r.ok()) {
    if (const std::string words = EtcdServerMessage(r.status()); !words.empty()) {
      std::cerr << "Error: failed to revoke lease (" << words << ")\n";  // etcdctl's words
      return ExitCodeFor(r.status());
    }
    return Fail("lease revoke", r.status());
  }
  if (f.common.json()) {
    PrintJson(IdJson({{"header", HeaderJson(r->header())}, {"revoked", true}}, id));
  } else {
    std::cout << "lease " << LeaseHex(id) << " revoked\n";
  }
  return kExitOk;
}

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int /*signal*/) {
  g_stop.store(true);
}

int RunKeepAlive(const LeaseFlags& f) {
  const std::int64_t id = IdOrZero("lease keep-alive", f);
  if (id == 0) return kExitError;
  std::unique_ptr<client::Client> client = Connect("lease keep-alive", f.common);
  if (client == nullptr) return kExitError;
  if (!f.once) {
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
  }
  while (!g_stop.load()) {
    Result<pb::LeaseKeepAliveResponse> r = client->LeaseKeepAliveOnce(id);
    if (!r.ok()) {
      if (r.status().code() == Code::kNotFound) {
        // The stream answers TTL 0 for a lease that is gone; etcdctl says so on
        // stdout while renewing, and fails with etcd's error for --once.
        if (f.once) {
          std::cerr << "Error: etcdserver: requested lease not found\n";
        } else {
          std::cout << "lease " << LeaseHex(id) << " expired or revoked.\n";
        }
        return kExitNegative;
      }
      return Fail("lease keep-alive", r.status());
    }
    if (f.common.json()) {
      PrintJson(IdJson({{"header", HeaderJson(r->header())}, {"ttl", r->ttl()}}, id));
    } else {
      std::cout << "lease " << LeaseHex(id) << " keepalived with TTL(" << r->ttl() << ")\n";
    }
    std::cout.flush();
    if (f.once) return kExitOk;
    const auto wait =
        std::max(std::chrono::milliseconds(500), std::chrono::milliseconds(r->ttl() * 1000 / 3));
    const auto until = std::chrono::steady_clock::now() + wait;
    while (!g_stop.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return kExitOk;
}

int RunTimeToLive(const LeaseFlags& f) {
  const std::int64_t id = IdOrZero("lease timetolive", f);
  if (id == 0) return kExitError;
  std::unique_ptr<client::Client> client = Connect("lease timetolive", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::LeaseTimeToLiveResponse> r = client->LeaseTimeToLive(id, f.keys);
  if (!r.ok()) return Fail("lease timetolive", r.status());
  // etcd answers an unknown or expired lease with TTL -1 and granted TTL 0.
  const bool expired = r->ttl() == -1 && r->grantedttl() == 0;
  if (f.common.json()) {
    Json j = IdJson({{"header", HeaderJson(r->header())},
                     {"ttl", r->ttl()},
                     {"granted_ttl", r->grantedttl()},
                     {"expired", expired}},
                    id);
    if (f.keys) {
      Json keys = Json::array();
      for (const std::string& k : r->keys()) keys.push_back(Base64(k));
      j["keys"] = keys;
    }
    PrintJson(j);
  } else if (expired) {
    std::cout << "lease " << LeaseHex(id) << " already expired\n";
  } else {
    std::cout << "lease " << LeaseHex(id) << " granted with TTL(" << r->grantedttl()
              << "s), remaining(" << r->ttl() << "s)";
    if (f.keys) {
      std::cout << ", attached keys([";
      for (int i = 0; i < r->keys_size(); ++i) std::cout << (i > 0 ? " " : "") << r->keys(i);
      std::cout << "])";
    }
    std::cout << "\n";
  }
  return expired ? kExitNegative : kExitOk;
}

int RunList(const LeaseFlags& f) {
  std::unique_ptr<client::Client> client = Connect("lease list", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::LeaseLeasesResponse> r = client->LeaseLeases();
  if (!r.ok()) return Fail("lease list", r.status());
  if (f.common.json()) {
    Json leases = Json::array();
    for (const pb::LeaseStatus& l : r->leases()) leases.push_back(IdJson(Json::object(), l.id()));
    PrintJson({{"header", HeaderJson(r->header())}, {"leases", leases}});
  } else {
    std::cout << "found " << r->leases_size() << " leases\n";
    for (const pb::LeaseStatus& l : r->leases()) std::cout << LeaseHex(l.id()) << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterLeaseCommands(CLI::App& app, int* exit_code) {
  CLI::App* lease = app.add_subcommand("lease", "Lease commands (etcd Lease API)");
  lease->require_subcommand(1);
  auto f = std::make_shared<LeaseFlags>();

  CLI::App* grant = lease->add_subcommand("grant", "Grant a lease with a TTL in seconds");
  grant->add_option("ttl", f->ttl, "TTL in seconds")
      ->required()
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{9'000'000'000}));
  AddClientFlags(grant, f->common);
  grant->callback([f, exit_code] { *exit_code = RunGrant(*f); });

  CLI::App* revoke = lease->add_subcommand("revoke", "Revoke a lease and delete its keys");
  revoke->add_option("id", f->id_hex, "Lease ID (hex)")->required();
  AddClientFlags(revoke, f->common);
  revoke->callback([f, exit_code] { *exit_code = RunRevoke(*f); });

  CLI::App* keep = lease->add_subcommand(
      "keep-alive", "Renew a lease every TTL/3 until interrupted (or once with --once)");
  keep->add_option("id", f->id_hex, "Lease ID (hex)")->required();
  keep->add_flag("--once", f->once, "Renew once and exit");
  AddClientFlags(keep, f->common);
  keep->callback([f, exit_code] { *exit_code = RunKeepAlive(*f); });

  CLI::App* ttl = lease->add_subcommand("timetolive", "Remaining TTL of a lease");
  ttl->add_option("id", f->id_hex, "Lease ID (hex)")->required();
  ttl->add_flag("--keys", f->keys, "Also list the keys attached to the lease");
  AddClientFlags(ttl, f->common);
  ttl->callback([f, exit_code] { *exit_code = RunTimeToLive(*f); });

  CLI::App* list = lease->add_subcommand("list", "List the IDs of every lease");
  AddClientFlags(list, f->common);
  list->callback([f, exit_code] { *exit_code = RunList(*f); });
}

}  // namespace aspen::cli
