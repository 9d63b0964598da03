// `aspen txn` (etcdctl's txn, interactive or from a file/stdin) and `aspen cas`
// (compare-and-swap on one key). Grammar: cli/txn_parse.h. Exit codes: 0 the
// compares held (txn: success branch; cas: swapped), 2 they did not (txn:
// failure branch ran; cas: nothing written), 1 bad input or the server refused,
// 3 no endpoint answered.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "cli/txn_parse.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct TxnFlags {
  ClientFlags common;
  std::string file;
  bool interactive = false;
};

int RunTxn(const TxnFlags& f) {
  // Parse everything before touching the network: bad input never sends a txn.
  Result<pb::TxnRequest> request = Status::InvalidArgument("no input");
  if (!f.file.empty()) {
    std::ifstream in(f.file, std::ios::binary);
    if (!in) return UsageError("txn", "-f: cannot open '" + f.file + "'");
    request = ReadTxn(in, nullptr);
  } else {
    const bool prompt = f.interactive || ::isatty(STDIN_FILENO) == 1;
    request = ReadTxn(std::cin, prompt ? &std::cout : nullptr);
  }
  if (!request.ok()) return UsageError("txn", request.status().message());
  std::unique_ptr<client::Client> client = Connect("txn", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::TxnResponse> r = client->Txn(*request);
  if (!r.ok()) return Fail("txn", r.status());
  if (f.common.json()) {
    PrintJson(TxnJson(*r));
  } else {
    PrintTxn(*request, *r);
  }
  return r->succeeded() ? kExitOk : kExitNegative;
}

struct CasFlags {
  ClientFlags common;
  std::vector<std::string> args;  // KEY EXPECTED NEW, or KEY NEW with --mod-rev/--create
  std::int64_t mod_rev = -1;
  bool create = false;
  std::string lease_hex;
};

int RunCas(const CasFlags& f) {
  const bool by_value = f.mod_rev < 0 && !f.create;
  if (f.mod_rev >= 0 && f.create) {
    return UsageError("cas", "--mod-rev and --create exclude each other");
  }
  if (f.args.size() != (by_value ? 3u : 2u)) {
    return UsageError("cas", by_value ? "expects KEY EXPECTED NEW"
                                      : "with --mod-rev or --create expects KEY NEW");
  }
  const std::string& key = f.args[0];
  pb::TxnRequest txn;
  pb::Compare* cmp = txn.add_compare();
  cmp->set_key(key);
  cmp->set_result(pb::Compare::EQUAL);
  if (by_value) {
    cmp->set_target(pb::Compare::VALUE);
    cmp->set_value(f.args[1]);
  } else if (f.create) {
    cmp->set_target(pb::Compare::CREATE);  // create_revision 0: the key is absent
    cmp->set_create_revision(0);
  } else {
    cmp->set_target(pb::Compare::MOD);
    cmp->set_mod_revision(f.mod_rev);
  }
  pb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(f.args.back());
  if (!f.lease_hex.empty()) {
    Result<std::int64_t> lease = ParseLeaseHex(f.lease_hex);
    if (!lease.ok()) return UsageError("cas", "--lease: " + lease.status().message());
    put->set_lease(*lease);
  }
  txn.add_failure()->mutable_request_range()->set_key(key);  // show what is there

  std::unique_ptr<client::Client> client = Connect("cas", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::TxnResponse> r = client->Txn(txn);
  if (!r.ok()) return Fail("cas", r.status());
  const mvccpb::KeyValue* current = nullptr;
  if (!r->succeeded() && r->responses_size() == 1 && r->responses(0).has_response_range() &&
      r->responses(0).response_range().kvs_size() == 1) {
    current = &r->responses(0).response_range().kvs(0);
  }
  if (f.common.json()) {
    Json j = {{"header", HeaderJson(r->header())}, {"swapped", r->succeeded()}};
    if (!r->succeeded()) j["current"] = current == nullptr ? Json(nullptr) : KvJson(*current);
    PrintJson(j);
  } else if (r->succeeded()) {
    std::cout << "OK\n";
  } else {
    std::cout << "FAILED\n";
    if (current != nullptr) {
      std::cout << current->key() << "\n"
                << current->value() << "\n"
                << "mod_revision " << current->mod_revision() << "\n";
    }
  }
  return r->succeeded() ? kExitOk : kExitNegative;
}

}  // namespace

void RegisterTxnCommands(CLI::App& app, int* exit_code) {
  auto txn = std::make_shared<TxnFlags>();
  CLI::App* txn_cmd = app.add_subcommand(
      "txn", "Run a transaction (etcd KV.Txn) read from stdin or a file in etcdctl's grammar");
  txn_cmd->add_option("-f,--file", txn->file, "Read the transaction from this file");
  txn_cmd->add_flag("-i,--interactive", txn->interactive,
                    "Print the prompts even when stdin is not a terminal");
  AddClientFlags(txn_cmd, txn->common);
  txn_cmd->callback([txn, exit_code] { *exit_code = RunTxn(*txn); });

  auto cas = std::make_shared<CasFlags>();
  CLI::App* cas_cmd = app.add_subcommand(
      "cas", "Compare-and-swap: put KEY NEW only if KEY's value is EXPECTED (exit 2 if not)");
  cas_cmd->add_option("args", cas->args, "KEY EXPECTED NEW (KEY NEW with --mod-rev/--create)")
      ->required();
  cas_cmd
      ->add_option("--mod-rev", cas->mod_rev,
                   "Compare KEY's mod revision with this instead of its value (0: absent)")
      ->check(CLI::NonNegativeNumber);
  cas_cmd->add_flag("--create", cas->create, "Put only if KEY does not exist");
  cas_cmd->add_option("--lease", cas->lease_hex, "Attach the new value to this lease (hex)");
  AddClientFlags(cas_cmd, cas->common);
  cas_cmd->callback([cas, exit_code] { *exit_code = RunCas(*cas); });
}

}  // namespace aspen::cli
