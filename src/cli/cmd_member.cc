// `aspen member add|remove|promote|update|list` and `aspen move-leader`: the
// etcd Cluster calls and Maintenance.MoveLeader, printed like etcdctl
// (`-w simple`). IDs are hexadecimal, as etcdctl prints and takes them.
// Exit codes: 0 success, 1 bad flags, 2 the request failed (message on stderr).
//
// Connect/Fail duplicate cmd_kv.cc's until the shared src/cli/common.h lands.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "client/client.h"
#include "client/endpoints.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;

struct MemberFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::int64_t dial_timeout_ms = 2000;
  std::int64_t command_timeout_ms = 10000;
  std::string name;
  std::string id;
  std::string peer_urls;
  bool learner = false;
};

std::unique_ptr<client::Client> Connect(const char* command, const MemberFlags& f) {
  Result<std::vector<std::string>> endpoints = client::ParseEndpointList(f.endpoints);
  if (!endpoints.ok()) {
    std::cerr << "aspen " << command << ": --endpoints: " << endpoints.status().message() << "\n";
    return nullptr;
  }
  client::ClientOptions options;
  options.endpoints = std::move(endpoints).value();
  options.dial_timeout = std::chrono::milliseconds(f.dial_timeout_ms);
  options.call_timeout = std::chrono::milliseconds(f.command_timeout_ms);
  Result<std::unique_ptr<client::Client>> created = client::Client::Create(options);
  if (!created.ok()) {
    std::cerr << "aspen " << command << ": " << created.status().message() << "\n";
    return nullptr;
  }
  return std::move(created).value();
}

int Fail(const char* command, const Status& status) {
  std::cerr << "aspen " << command << ": " << status.message() << "\n";
  return 2;
}

std::string Hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return buf;
}

// A hexadecimal member id (etcdctl's form); false when `text` is not one.
bool ParseId(const std::string& text, std::uint64_t* id) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *id, 16);
  return !text.empty() && ec == std::errc() && ptr == end && *id != 0;
}

std::vector<std::string> SplitUrls(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    if (comma > pos) out.push_back(s.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

int RunAdd(const MemberFlags& f) {
  const std::vector<std::string> urls = SplitUrls(f.peer_urls);
  if (urls.empty()) {
    std::cerr << "aspen member add: --peer-urls is required\n";
    return 1;
  }
  auto c = Connect("member add", f);
  if (c == nullptr) return 1;
  auto r = c->MemberAdd(urls, f.learner);
  if (!r.ok()) return Fail("member add", r.status());
  std::cout << "Member " << Hex(r->member().id()) << " added to cluster "
            << Hex(r->header().cluster_id()) << "\n\n";
  std::string initial;
  for (const pb::Member& m : r->members()) {
    const std::string name = m.id() == r->member().id() ? f.name : m.name();
    for (const std::string& u : m.peerurls()) {
      if (!name.empty()) initial += (initial.empty() ? "" : ",") + name + "=" + u;
    }
  }
  std::cout << "ASPEN_NAME=\"" << f.name << "\"\nASPEN_INITIAL_CLUSTER=\"" << initial
            << "\"\nASPEN_INITIAL_ADVERTISE_PEER_URLS=\"" << f.peer_urls
            << "\"\nASPEN_INITIAL_CLUSTER_STATE=\"existing\"\n";
  return 0;
}

int RunWithId(const char* command, const MemberFlags& f,
              const std::function<Status(client::Client&, std::uint64_t)>& call) {
  std::uint64_t id = 0;
  if (!ParseId(f.id, &id)) {
    std::cerr << "aspen " << command << ": bad member ID '" << f.id
              << "' (a non-zero hexadecimal ID, as `aspen member list` prints it)\n";
    return 1;
  }
  auto c = Connect(command, f);
  if (c == nullptr) return 1;
  Status s = call(*c, id);
  return s.ok() ? 0 : Fail(command, s);
}

void AddCommon(CLI::App* cmd, MemberFlags& f) {
  cmd->add_option("--endpoints", f.endpoints, "host:port,... (default: 127.0.0.1:2379)");
  cmd->add_option("--dial-timeout", f.dial_timeout_ms, "ms (default: 2000)");
  cmd->add_option("--command-timeout", f.command_timeout_ms, "ms (default: 10000)");
}

}  // namespace

void RegisterMemberCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<MemberFlags>();
  MemberFlags& f = *flags;
  // `member list` lives in cmd_cluster.cc (RegisterClusterCommands runs
  // first); the changes join the same `member` command.
  CLI::App* member = nullptr;
  try {
    member = app.get_subcommand("member");
  } catch (const CLI::OptionNotFound&) {
    member = app.add_subcommand("member", "Membership: add, remove, promote, update, list");
    member->require_subcommand(1);
  }

  CLI::App* add = member->add_subcommand("add",
                                         "Add a member (then start it with "
                                         "--initial-cluster-state existing)");
  add->add_option("name", f.name, "The new member's name")->required();
  add->add_option("--peer-urls", f.peer_urls, "Its peer URLs, comma-separated")->required();
  add->add_flag("--learner", f.learner, "Add it as a learner (promote it once caught up)");
  AddCommon(add, f);
  add->callback([flags, exit_code] { *exit_code = RunAdd(*flags); });

  CLI::App* remove = member->add_subcommand("remove", "Remove a member");
  remove->add_option("id", f.id, "Member ID (hex)")->required();
  AddCommon(remove, f);
  remove->callback([flags, exit_code] {
    *exit_code = RunWithId("member remove", *flags, [](client::Client& c, std::uint64_t id) {
      auto r = c.MemberRemove(id);
      if (!r.ok()) return r.status();
      std::cout << "Member " << Hex(id) << " removed from cluster " << Hex(r->header().cluster_id())
                << "\n";
      return Status::Ok();
    });
  });

  CLI::App* promote = member->add_subcommand("promote", "Promote a learner to a voter");
  promote->add_option("id", f.id, "Member ID (hex)")->required();
  AddCommon(promote, f);
  promote->callback([flags, exit_code] {
    *exit_code = RunWithId("member promote", *flags, [](client::Client& c, std::uint64_t id) {
      auto r = c.MemberPromote(id);
      if (!r.ok()) return r.status();
      std::cout << "Member " << Hex(id) << " promoted in cluster " << Hex(r->header().cluster_id())
                << "\n";
      return Status::Ok();
    });
  });

  CLI::App* update = member->add_subcommand("update", "Change a member's peer URLs");
  update->add_option("id", f.id, "Member ID (hex)")->required();
  update->add_option("--peer-urls", f.peer_urls, "The new peer URLs, comma-separated")->required();
  AddCommon(update, f);
  update->callback([flags, exit_code] {
    const std::vector<std::string> urls = SplitUrls(flags->peer_urls);
    *exit_code = RunWithId("member update", *flags, [urls](client::Client& c, std::uint64_t id) {
      auto r = c.MemberUpdate(id, urls);
      if (!r.ok()) return r.status();
      std::cout << "Member " << Hex(id) << " updated in cluster " << Hex(r->header().cluster_id())
                << "\n";
      return Status::Ok();
    });
  });

  CLI::App* move = app.add_subcommand("move-leader",
                                      "Hand raft leadership to another voter "
                                      "(--endpoints must reach the leader)");
  move->add_option("id", f.id, "Target member ID (hex)")->required();
  AddCommon(move, f);
  move->callback([flags, exit_code] {
    *exit_code = RunWithId("move-leader", *flags, [](client::Client& c, std::uint64_t id) {
      auto r = c.MoveLeader(id);
      if (!r.ok()) return r.status();
      std::cout << "Leadership transferred from " << Hex(r->header().member_id()) << " to "
                << Hex(id) << "\n";
      return Status::Ok();
    });
  });
}

}  // namespace aspen::cli
