// `aspen member add|remove|promote|update|list` and `aspen move-leader`: the
// etcd Cluster calls and Maintenance.MoveLeader, printed like etcdctl
// (`-w simple`). IDs are hexadecimal, as etcdctl prints and takes them.
// Flags, -o json and exit codes are common.h's: 0 ok, 1 bad flags or the
// server refused, 2 not found (unknown member), 3 unavailable.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "client/client.h"
#include "server/config.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct MemberFlags {
  ClientFlags common;
  std::string name;
  std::string id;
  std::string peer_urls;
  bool learner = false;
};

Json MembersJson(const google::protobuf::RepeatedPtrField<pb::Member>& members) {
  Json out = Json::array();
  for (const pb::Member& m : members) out.push_back(MemberJson(m));
  return out;
}

int RunAdd(const MemberFlags& f) {
  const std::vector<std::string> urls = server::SplitList(f.peer_urls);
  if (urls.empty()) return UsageError("member add", "--peer-urls is required");
  auto c = Connect("member add", f.common);
  if (c == nullptr) return kExitError;
  auto r = c->MemberAdd(urls, f.learner);
  if (!r.ok()) return Fail("member add", r.status());
  if (f.common.json()) {
    PrintJson({{"header", HeaderJson(r->header())},
               {"member", MemberJson(r->member())},
               {"members", MembersJson(r->members())}});
    return kExitOk;
  }
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
  return kExitOk;
}

// Parses the id, connects, runs `call`; `call` prints its answer.
int RunWithId(const char* command, const MemberFlags& f,
              const std::function<Status(client::Client&, std::uint64_t, bool json)>& call) {
  Result<std::uint64_t> id = ParseMemberHex(f.id);
  if (!id.ok()) return UsageError(command, id.status().message());
  auto c = Connect(command, f.common);
  if (c == nullptr) return kExitError;
  Status s = call(*c, *id, f.common.json());
  return s.ok() ? kExitOk : Fail(command, s);
}

// The answer of remove/promote/update: the member changed and the members after.
template <typename Response>
void PrintChange(const Response& r, std::uint64_t id, bool json, const char* verb) {
  if (json) {
    PrintJson({{"header", HeaderJson(r.header())},
               {"id", id},
               {"id_hex", Hex(id)},
               {"members", MembersJson(r.members())}});
    return;
  }
  std::cout << "Member " << Hex(id) << " " << verb << " cluster " << Hex(r.header().cluster_id())
            << "\n";
}

}  // namespace

void RegisterMemberCommands(CLI::App& app, int* exit_code) {
  // One flag set per subcommand (CLI11 binds options to their storage).
  auto add_flags = std::make_shared<MemberFlags>();
  auto remove_flags = std::make_shared<MemberFlags>();
  auto promote_flags = std::make_shared<MemberFlags>();
  auto update_flags = std::make_shared<MemberFlags>();
  auto move_flags = std::make_shared<MemberFlags>();
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
  add->add_option("name", add_flags->name, "The new member's name")->required();
  add->add_option("--peer-urls", add_flags->peer_urls, "Its peer URLs, comma-separated")
      ->required();
  add->add_flag("--learner", add_flags->learner, "Add it as a learner (promote it once caught up)");
  AddClientFlags(add, add_flags->common);
  add->callback([add_flags, exit_code] { *exit_code = RunAdd(*add_flags); });

  CLI::App* remove = member->add_subcommand("remove", "Remove a member");
  remove->add_option("id", remove_flags->id, "Member ID (hex)")->required();
  AddClientFlags(remove, remove_flags->common);
  remove->callback([remove_flags, exit_code] {
    *exit_code = RunWithId("member remove", *remove_flags,
                           [](client::Client& c, std::uint64_t id, bool json) {
                             auto r = c.MemberRemove(id);
                             if (!r.ok()) return r.status();
                             PrintChange(*r, id, json, "removed from");
                             return Status::Ok();
                           });
  });

  CLI::App* promote = member->add_subcommand("promote", "Promote a learner to a voter");
  promote->add_option("id", promote_flags->id, "Member ID (hex)")->required();
  AddClientFlags(promote, promote_flags->common);
  promote->callback([promote_flags, exit_code] {
    *exit_code = RunWithId("member promote", *promote_flags,
                           [](client::Client& c, std::uint64_t id, bool json) {
                             auto r = c.MemberPromote(id);
                             if (!r.ok()) return r.status();
                             PrintChange(*r, id, json, "promoted in");
                             return Status::Ok();
                           });
  });

  CLI::App* update = member->add_subcommand("update", "Change a member's peer URLs");
  update->add_option("id", update_flags->id, "Member ID (hex)")->required();
  update->add_option("--peer-urls", update_flags->peer_urls, "The new peer URLs, comma-separated")
      ->required();
  AddClientFlags(update, update_flags->common);
  update->callback([update_flags, exit_code] {
    const std::vector<std::string> urls = server::SplitList(update_flags->peer_urls);
    *exit_code = RunWithId("member update", *update_flags,
                           [urls](client::Client& c, std::uint64_t id, bool json) {
                             auto r = c.MemberUpdate(id, urls);
                             if (!r.ok()) return r.status();
                             PrintChange(*r, id, json, "updated in");
                             return Status::Ok();
                           });
  });

  CLI::App* move = app.add_subcommand("move-leader",
                                      "Hand raft leadership to another voter "
                                      "(--endpoints must reach the leader)");
  move->add_option("id", move_flags->id, "Target member ID (hex)")->required();
  AddClientFlags(move, move_flags->common);
  move->callback([move_flags, exit_code] {
    *exit_code =
        RunWithId("move-leader", *move_flags, [](client::Client& c, std::uint64_t id, bool json) {
          auto r = c.MoveLeader(id);
          if (!r.ok()) return r.status();
          if (json) {
            PrintJson({{"header", HeaderJson(r->header())},
                       {"from", r->header().member_id()},
                       {"from_hex", Hex(r->header().member_id())},
                       {"to", id},
                       {"to_hex", Hex(id)}});
          } else {
            std::cout << "Leadership transferred from " << Hex(r->header().member_id()) << " to "
                      << Hex(id) << "\n";
          }
          return Status::Ok();
        });
  });
}

}  // namespace aspen::cli
