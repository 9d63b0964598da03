// `aspen put|get|del`: the etcd KV calls from the command line, as etcdctl.
//
// Output: `-o table` (default) prints like `etcdctl -w simple`: put prints OK,
// get prints each key and value on their own lines, del prints the number of
// deleted keys. `-o json` prints one JSON object like `etcdctl -w json`: keys
// and values base64-encoded (they are bytes), revisions as numbers.
// Exit codes (cli/common.h): 0 ok, 1 bad flags or the server refused, 2 get
// matched no key (output still printed) or the lease of put is unknown, 3 no
// endpoint answered.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "client/client.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct KvFlags {
  ClientFlags common;
  std::string key;
  std::string value;      // put
  std::string range_end;  // get, del
  std::string lease_hex;  // put
  bool prefix = false;
  bool from_key = false;
  bool prev_kv = false;
  std::int64_t limit = 0;
  std::int64_t revision = 0;
  std::string consistency = "l";
  bool keys_only = false;
  bool count_only = false;
};

int RunPut(const KvFlags& f) {
  client::PutOptions options;
  options.prev_kv = f.prev_kv;
  if (!f.lease_hex.empty()) {
    Result<std::int64_t> lease = ParseLeaseHex(f.lease_hex);
    if (!lease.ok()) return UsageError("put", "--lease: " + lease.status().message());
    options.lease = *lease;
  }
  std::unique_ptr<client::Client> client = Connect("put", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::PutResponse> r = client->Put(f.key, f.value, options);
  if (!r.ok()) return Fail("put", r.status());
  if (f.common.json()) {
    Json j = {{"header", HeaderJson(r->header())}};
    if (r->has_prev_kv()) j["prev_kv"] = KvJson(r->prev_kv());
    PrintJson(j);
    return 0;
  }
  std::cout << "OK\n";
  if (r->has_prev_kv()) std::cout << r->prev_kv().key() << "\n" << r->prev_kv().value() << "\n";
  return 0;
}

// The range_end the get/del flags ask for: explicit, prefix, or from-key.
std::string RangeEnd(const KvFlags& f) {
  if (f.prefix) return client::PrefixEnd(f.key);
  if (f.from_key) return std::string(1, '\0');
  return f.range_end;
}

int RunGet(const KvFlags& f) {
  client::GetOptions options;
  options.range_end = RangeEnd(f);
  options.limit = f.limit;
  options.revision = f.revision;
  options.serializable = f.consistency == "s";
  options.keys_only = f.keys_only;
  options.count_only = f.count_only;
  std::unique_ptr<client::Client> client = Connect("get", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::RangeResponse> r = client->Get(f.key, options);
  if (!r.ok()) return Fail("get", r.status());
  const int code = r->count() == 0 ? kExitNegative : kExitOk;
  if (f.common.json()) {
    Json kvs = Json::array();
    for (const mvccpb::KeyValue& kv : r->kvs()) kvs.push_back(KvJson(kv));
    Json j = {{"header", HeaderJson(r->header())}, {"kvs", kvs}, {"count", r->count()}};
    if (r->more()) j["more"] = true;
    PrintJson(j);
    return code;
  }
  if (f.count_only) {
    std::cout << r->count() << "\n";
    return code;
  }
  for (const mvccpb::KeyValue& kv : r->kvs()) {
    std::cout << kv.key() << "\n";
    if (!f.keys_only) std::cout << kv.value() << "\n";
  }
  return code;
}

int RunDel(const KvFlags& f) {
  client::DeleteOptions options;
  options.range_end = RangeEnd(f);
  options.prev_kv = f.prev_kv;
  std::unique_ptr<client::Client> client = Connect("del", f.common);
  if (client == nullptr) return kExitError;
  Result<pb::DeleteRangeResponse> r = client->Delete(f.key, options);
  if (!r.ok()) return Fail("del", r.status());
  if (f.common.json()) {
    Json prev = Json::array();
    for (const mvccpb::KeyValue& kv : r->prev_kvs()) prev.push_back(KvJson(kv));
    Json j = {{"header", HeaderJson(r->header())}, {"deleted", r->deleted()}};
    if (!prev.empty()) j["prev_kvs"] = prev;
    PrintJson(j);
    return 0;
  }
  std::cout << r->deleted() << "\n";
  for (const mvccpb::KeyValue& kv : r->prev_kvs()) {
    std::cout << kv.key() << "\n" << kv.value() << "\n";
  }
  return 0;
}

void AddRangeFlags(CLI::App* cmd, KvFlags& f) {
  cmd->add_option("range_end", f.range_end, "End of the range [key, range_end)");
  cmd->add_flag("--prefix", f.prefix, "Every key starting with key");
  cmd->add_flag("--from-key", f.from_key, "Every key >= key");
}

}  // namespace

void RegisterKvCommands(CLI::App& app, int* exit_code) {
  auto put = std::make_shared<KvFlags>();
  CLI::App* put_cmd = app.add_subcommand("put", "Put a key (etcd KV.Put)");
  put_cmd->add_option("key", put->key, "Key")->required();
  put_cmd->add_option("value", put->value, "Value")->required();
  put_cmd->add_option("--lease", put->lease_hex, "Lease ID in hex, as etcdctl prints it");
  put_cmd->add_flag("--prev-kv", put->prev_kv, "Print the previous key-value");
  AddClientFlags(put_cmd, put->common);
  put_cmd->callback([put, exit_code] { *exit_code = RunPut(*put); });

  auto get = std::make_shared<KvFlags>();
  CLI::App* get_cmd = app.add_subcommand("get", "Read a key or range (etcd KV.Range)");
  get_cmd->add_option("key", get->key, "Key")->required();
  AddRangeFlags(get_cmd, *get);
  get_cmd->add_option("--limit", get->limit, "At most this many keys (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  get_cmd->add_option("--rev", get->revision, "Read at this revision (0 = newest)")
      ->check(CLI::NonNegativeNumber);
  get_cmd->add_option("--consistency", get->consistency, "l (linearizable) or s (serializable)")
      ->check(CLI::IsMember({"l", "s"}))
      ->capture_default_str();
  get_cmd->add_flag("--keys-only", get->keys_only, "Only keys");
  get_cmd->add_flag("--count-only", get->count_only, "Only the number of keys");
  AddClientFlags(get_cmd, get->common);
  get_cmd->callback([get, exit_code] { *exit_code = RunGet(*get); });

  auto del = std::make_shared<KvFlags>();
  CLI::App* del_cmd = app.add_subcommand("del", "Delete a key or range (etcd KV.DeleteRange)");
  del_cmd->add_option("key", del->key, "Key")->required();
  AddRangeFlags(del_cmd, *del);
  del_cmd->add_flag("--prev-kv", del->prev_kv, "Print the deleted key-values");
  AddClientFlags(del_cmd, del->common);
  del_cmd->callback([del, exit_code] { *exit_code = RunDel(*del); });
}

}  // namespace aspen::cli
