// `aspen member list`, `aspen endpoint status`, `aspen endpoint health`.
//
// member list asks any endpoint (with failover). endpoint status and health ask
// every --endpoints entry on its own (in parallel, one row each, in the order
// given) and exit 3 when any endpoint fails; the other rows are still printed.
// health is etcdctl's check: a linearizable read of the key "health" must
// succeed within --command-timeout (so a member without a quorum is unhealthy).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/maint_util.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

int RunMemberList(const ClientFlags& f) {
  std::unique_ptr<client::Client> client = Connect("member list", f);
  if (client == nullptr) return kExitError;
  Result<pb::MemberListResponse> r = client->MemberList();
  if (!r.ok()) return Fail("member list", r.status());
  if (f.json()) {
    Json members = Json::array();
    for (const pb::Member& m : r->members()) members.push_back(MemberJson(m));
    PrintJson({{"header", HeaderJson(r->header())}, {"members", members}});
    return kExitOk;
  }
  // etcdctl -w simple: ID, status, name, peer URLs, client URLs, is learner.
  for (const pb::Member& m : r->members()) {
    std::cout << Hex(m.id()) << ", " << (m.name().empty() ? "unstarted" : "started") << ", "
              << m.name() << ", " << Join(m.peerurls()) << ", " << Join(m.clienturls()) << ", "
              << (m.islearner() ? "true" : "false") << "\n";
  }
  return kExitOk;
}

// What one endpoint answered.
struct Probe {
  std::string endpoint;
  Status status;
  pb::StatusResponse response;  // endpoint status
  std::chrono::microseconds took{0};
};

// Runs probe once per endpoint of f, in parallel; returns the results in order,
// or an InvalidArgument for bad flags.
Result<std::vector<Probe>> ProbeEach(const ClientFlags& f, bool health) {
  Result<client::ClientOptions> options = OptionsFrom(f);
  if (!options.ok()) return options.status();
  std::vector<Probe> probes(options->endpoints.size());
  std::vector<std::thread> threads;
  threads.reserve(probes.size());  // at most client::kMaxEndpoints
  for (std::size_t i = 0; i < probes.size(); ++i) {
    probes[i].endpoint = options->endpoints[i];
    threads.emplace_back([&, i] {
      Probe& p = probes[i];
      client::ClientOptions one = *options;
      one.endpoints = {p.endpoint};
      Result<std::unique_ptr<client::Client>> c = client::Client::Create(one);
      if (!c.ok()) {
        p.status = c.status();
        return;
      }
      const auto start = std::chrono::steady_clock::now();
      if (health) {
        Result<pb::RangeResponse> r = (*c)->Get("health");
        p.status = r.status();
      } else {
        Result<pb::StatusResponse> r = (*c)->EndpointStatus();
        p.status = r.status();
        if (r.ok()) p.response = std::move(r).value();
      }
      p.took = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start);
    });
  }
  for (std::thread& t : threads) t.join();
  return probes;
}

int RunEndpointStatus(const ClientFlags& f) {
  Result<std::vector<Probe>> probes = ProbeEach(f, false);
  if (!probes.ok()) return UsageError("endpoint status", probes.status().message());
  bool all_ok = true;
  Json rows = Json::array();
  for (const Probe& p : *probes) {
    const pb::StatusResponse& s = p.response;
    const bool is_leader = s.leader() != 0 && s.leader() == s.header().member_id();
    if (!p.status.ok()) {
      all_ok = false;
      std::cerr << "aspen endpoint status: " << p.endpoint << ": " << p.status.message() << "\n";
      rows.push_back({{"endpoint", p.endpoint}, {"ok", false}, {"error", p.status.message()}});
      continue;
    }
    if (f.json()) {
      rows.push_back(
          {{"endpoint", p.endpoint},
           {"ok", true},
           {"header", HeaderJson(s.header())},
           {"member_id_hex", Hex(s.header().member_id())},
           {"version", s.version()},
           {"db_size", s.dbsize()},
           {"db_size_in_use", s.dbsizeinuse()},
           {"leader", s.leader()},
           {"is_leader", is_leader},
           {"is_learner", s.islearner()},
           {"raft_term", s.raftterm()},
           {"raft_index", s.raftindex()},
           {"raft_applied_index", s.raftappliedindex()},
           {"errors", Json(std::vector<std::string>(s.errors().begin(), s.errors().end()))}});
      continue;
    }
    // etcdctl -w simple: endpoint, ID, version, db size, is leader, is learner,
    // raft term, raft index, raft applied index, errors.
    std::string errors;
    for (const std::string& e : s.errors()) errors += (errors.empty() ? "" : ", ") + e;
    std::cout << p.endpoint << ", " << Hex(s.header().member_id()) << ", " << s.version() << ", "
              << maint::HumanBytes(static_cast<std::uint64_t>(s.dbsize())) << ", "
              << (is_leader ? "true" : "false") << ", " << (s.islearner() ? "true" : "false")
              << ", " << s.raftterm() << ", " << s.raftindex() << ", " << s.raftappliedindex()
              << ", " << errors << "\n";
  }
  if (f.json()) PrintJson({{"endpoints", rows}});
  return all_ok ? kExitOk : kExitUnavailable;
}

int RunEndpointHealth(const ClientFlags& f) {
  Result<std::vector<Probe>> probes = ProbeEach(f, true);
  if (!probes.ok()) return UsageError("endpoint health", probes.status().message());
  bool all_ok = true;
  Json rows = Json::array();
  for (const Probe& p : *probes) {
    // etcd's check counts "permission denied" as healthy: the member answered.
    const bool healthy = p.status.ok() || p.status.code() == Code::kFailedPrecondition;
    all_ok = all_ok && healthy;
    const double took_ms = static_cast<double>(p.took.count()) / 1000.0;
    if (f.json()) {
      Json row = {{"endpoint", p.endpoint}, {"health", healthy}, {"took_ms", took_ms}};
      if (!healthy) row["error"] = p.status.message();
      rows.push_back(row);
    } else if (healthy) {
      std::cout << p.endpoint << " is healthy: successfully committed proposal: took = " << took_ms
                << "ms\n";
    } else {
      std::cout << p.endpoint << " is unhealthy: failed to commit proposal: " << p.status.message()
                << "\n";
    }
  }
  if (f.json()) PrintJson({{"endpoints", rows}});
  if (!all_ok) std::cerr << "aspen endpoint health: unhealthy cluster\n";
  return all_ok ? kExitOk : kExitUnavailable;
}

}  // namespace

void RegisterClusterCommands(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<ClientFlags>();
  CLI::App* member = app.add_subcommand("member", "Cluster membership (etcd Cluster API)");
  member->require_subcommand(1);
  CLI::App* list = member->add_subcommand("list", "List the members of the cluster");
  AddClientFlags(list, *f);
  list->callback([f, exit_code] { *exit_code = RunMemberList(*f); });

  CLI::App* endpoint = app.add_subcommand("endpoint", "Per-endpoint status and health");
  endpoint->require_subcommand(1);
  CLI::App* status = endpoint->add_subcommand("status", "Maintenance.Status of every endpoint");
  AddClientFlags(status, *f);
  status->callback([f, exit_code] { *exit_code = RunEndpointStatus(*f); });
  CLI::App* health = endpoint->add_subcommand(
      "health", "Whether every endpoint serves a linearizable read (exit 3 if any does not)");
  AddClientFlags(health, *f);
  health->callback([f, exit_code] { *exit_code = RunEndpointHealth(*f); });
}

}  // namespace aspen::cli
