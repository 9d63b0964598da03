// `aspen put|get|del`: the etcd KV calls from the command line, as etcdctl.
//
// Output: `-o table` (default) prints like `etcdctl -w simple`: put prints OK,
// get prints each key and value on their own lines, del prints the number of
// deleted keys. `-o json` prints one JSON object like `etcdctl -w json`: keys
// and values base64-encoded (they are bytes), revisions as numbers.
// Exit codes: 0 success, 1 bad flags, 2 the request failed (message on stderr).
#include <charconv>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "client/client.h"
#include "client/endpoints.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct CommonFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::int64_t dial_timeout_ms = 2000;
  std::int64_t command_timeout_ms = 5000;
  std::string output = "table";
};

struct KvFlags {
  CommonFlags common;
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

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=');
  }
  return out;
}

Json HeaderJson(const pb::ResponseHeader& h) {
  return {{"cluster_id", h.cluster_id()},
          {"member_id", h.member_id()},
          {"revision", h.revision()},
          {"raft_term", h.raft_term()}};
}

Json KvJson(const mvccpb::KeyValue& kv) {
  Json j = {{"key", Base64(kv.key())},
            {"create_revision", kv.create_revision()},
            {"mod_revision", kv.mod_revision()},
            {"version", kv.version()}};
  if (!kv.value().empty()) j["value"] = Base64(kv.value());
  if (kv.lease() != 0) j["lease"] = kv.lease();
  return j;
}

// Builds a client from the common flags; prints the error and returns null.
std::unique_ptr<client::Client> Connect(const char* command, const CommonFlags& flags) {
  Result<std::vector<std::string>> endpoints = client::ParseEndpointList(flags.endpoints);
  if (!endpoints.ok()) {
    std::cerr << "aspen " << command << ": --endpoints: " << endpoints.status().message() << "\n";
    return nullptr;
  }
  client::ClientOptions options;
  options.endpoints = std::move(endpoints).value();
  options.dial_timeout = std::chrono::milliseconds(flags.dial_timeout_ms);
  options.call_timeout = std::chrono::milliseconds(flags.command_timeout_ms);
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

int RunPut(const KvFlags& f) {
  client::PutOptions options;
  options.prev_kv = f.prev_kv;
  if (!f.lease_hex.empty()) {
    std::uint64_t lease = 0;
    const char* end = f.lease_hex.data() + f.lease_hex.size();
    const auto [ptr, ec] = std::from_chars(f.lease_hex.data(), end, lease, 16);
    if (ec != std::errc() || ptr != end || lease == 0 || lease > INT64_MAX) {
      std::cerr << "aspen put: --lease must be a non-zero hexadecimal lease ID, got '"
                << f.lease_hex << "'\n";
      return 1;
    }
    options.lease = static_cast<std::int64_t>(lease);
  }
  std::unique_ptr<client::Client> client = Connect("put", f.common);
  if (client == nullptr) return 1;
  Result<pb::PutResponse> r = client->Put(f.key, f.value, options);
  if (!r.ok()) return Fail("put", r.status());
  if (f.common.output == "json") {
    Json j = {{"header", HeaderJson(r->header())}};
    if (r->has_prev_kv()) j["prev_kv"] = KvJson(r->prev_kv());
    std::cout << j.dump() << "\n";
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
  if (client == nullptr) return 1;
  Result<pb::RangeResponse> r = client->Get(f.key, options);
  if (!r.ok()) return Fail("get", r.status());
  if (f.common.output == "json") {
    Json kvs = Json::array();
    for (const mvccpb::KeyValue& kv : r->kvs()) kvs.push_back(KvJson(kv));
    Json j = {{"header", HeaderJson(r->header())}, {"kvs", kvs}, {"count", r->count()}};
    if (r->more()) j["more"] = true;
    std::cout << j.dump() << "\n";
    return 0;
  }
  if (f.count_only) {
    std::cout << r->count() << "\n";
    return 0;
  }
  for (const mvccpb::KeyValue& kv : r->kvs()) {
    std::cout << kv.key() << "\n";
    if (!f.keys_only) std::cout << kv.value() << "\n";
  }
  return 0;
}

int RunDel(const KvFlags& f) {
  client::DeleteOptions options;
  options.range_end = RangeEnd(f);
  options.prev_kv = f.prev_kv;
  std::unique_ptr<client::Client> client = Connect("del", f.common);
  if (client == nullptr) return 1;
  Result<pb::DeleteRangeResponse> r = client->Delete(f.key, options);
  if (!r.ok()) return Fail("del", r.status());
  if (f.common.output == "json") {
    Json prev = Json::array();
    for (const mvccpb::KeyValue& kv : r->prev_kvs()) prev.push_back(KvJson(kv));
    Json j = {{"header", HeaderJson(r->header())}, {"deleted", r->deleted()}};
    if (!prev.empty()) j["prev_kvs"] = prev;
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << r->deleted() << "\n";
  for (const mvccpb::KeyValue& kv : r->prev_kvs()) {
    std::cout << kv.key() << "\n" << kv.value() << "\n";
  }
  return 0;
}

void AddCommonFlags(CLI::App* cmd, CommonFlags& f) {
  cmd->add_option("--endpoints", f.endpoints, "Comma-separated host:port list")
      ->capture_default_str();
  cmd->add_option("--dial-timeout-ms", f.dial_timeout_ms, "Connect timeout per endpoint")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{600'000}))
      ->capture_default_str();
  cmd->add_option("--command-timeout-ms", f.command_timeout_ms, "Deadline per request")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{600'000}))
      ->capture_default_str();
  cmd->add_option("-o,--output", f.output, "table|json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
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
  AddCommonFlags(put_cmd, put->common);
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
  AddCommonFlags(get_cmd, get->common);
  get_cmd->callback([get, exit_code] { *exit_code = RunGet(*get); });

  auto del = std::make_shared<KvFlags>();
  CLI::App* del_cmd = app.add_subcommand("del", "Delete a key or range (etcd KV.DeleteRange)");
  del_cmd->add_option("key", del->key, "Key")->required();
  AddRangeFlags(del_cmd, *del);
  del_cmd->add_flag("--prev-kv", del->prev_kv, "Print the deleted key-values");
  AddCommonFlags(del_cmd, del->common);
  del_cmd->callback([del, exit_code] { *exit_code = RunDel(*del); });
}

}  // namespace aspen::cli
