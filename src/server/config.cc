#include "server/config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace aspen::server {

std::string HexId(std::uint64_t id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto b = item.find_first_not_of(" \t");
    const auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

Result<HostPort> ParseListenUrl(const std::string& url, const std::string& what) {
  auto bad = [&](const std::string& why) {
    return Status::InvalidArgument(what + ": \"" + url + "\" " + why);
  };
  if (url.starts_with("https://")) return bad("uses https: TLS is not supported");
  if (!url.starts_with("http://")) return bad("is not an http://HOST:PORT URL");
  std::string rest = url.substr(7);
  while (!rest.empty() && rest.back() == '/') rest.pop_back();
  const std::size_t colon = rest.rfind(':');
  if (colon == std::string::npos || rest.find('/') != std::string::npos) {
    return bad("is not an http://HOST:PORT URL");
  }
  HostPort hp;
  hp.host = rest.substr(0, colon);
  if (hp.host == "localhost") hp.host = "127.0.0.1";
  in_addr a{};
  if (inet_pton(AF_INET, hp.host.c_str(), &a) != 1) return bad("needs a numeric IPv4 host");
  const std::string port = rest.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return bad("has no valid port");
  }
  hp.port = std::stoi(port);
  if (hp.port < 1 || hp.port > 65535) return bad("has a port outside 1..65535");
  return hp;
}

namespace {

std::uint64_t First8(const std::string& bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | digest[i];
  return v == 0 ? 1 : v;
}

Status CheckUrls(const std::vector<std::string>& urls, const std::string& what) {
  if (urls.empty()) return Status::InvalidArgument(what + ": at least one URL is required");
  for (const std::string& u : urls) {
    Result<HostPort> hp = ParseListenUrl(u, what);
    if (!hp.ok()) return hp.status();
  }
  return Status::Ok();
}

}  // namespace

std::uint64_t MemberIdFor(const std::string& name, const std::string& peer_url,
                          const std::string& token) {
  return First8("member\n" + token + "\n" + name + "\n" + peer_url);
}

std::uint64_t ClusterIdFor(const std::vector<MemberEntry>& members, const std::string& token) {
  std::vector<std::uint64_t> ids;
  for (const MemberEntry& m : members) ids.push_back(m.id);
  std::sort(ids.begin(), ids.end());
  std::string s = "cluster\n" + token;
  for (std::uint64_t id : ids) s += "\n" + HexId(id);
  return First8(s);
}

Status ValidateConfig(const ServeConfig& c) {
  if (c.name.empty()) return Status::InvalidArgument("--name: must not be empty");
  if (c.data_dir.empty()) return Status::InvalidArgument("--data-dir: must not be empty");
  ASPEN_RETURN_IF_ERROR(CheckUrls(c.listen_client_urls, "--listen-client-urls"));
  ASPEN_RETURN_IF_ERROR(CheckUrls(c.listen_peer_urls, "--listen-peer-urls"));
  if (!c.listen_metrics_urls.empty()) {
    ASPEN_RETURN_IF_ERROR(CheckUrls(c.listen_metrics_urls, "--listen-metrics-urls"));
  }
  if (!c.initial_advertise_peer_urls.empty()) {
    ASPEN_RETURN_IF_ERROR(
        CheckUrls(c.initial_advertise_peer_urls, "--initial-advertise-peer-urls"));
  }
  if (c.quota_backend_bytes < 0) {
    return Status::InvalidArgument("--quota-backend-bytes: must be >= 0 (0 = the default, 2 GiB)");
  }
  if (c.initial_cluster_state != "new" && c.initial_cluster_state != "existing") {
    return Status::InvalidArgument("--initial-cluster-state: \"" + c.initial_cluster_state +
                                   "\" is neither \"new\" nor \"existing\"");
  }
  if (c.heartbeat_interval_ms <= 0 || c.heartbeat_interval_ms > 10'000) {
    return Status::InvalidArgument("--heartbeat-interval: must be in 1..10000 ms");
  }
  if (c.election_timeout_ms < 5 * c.heartbeat_interval_ms || c.election_timeout_ms > 50'000) {
    return Status::InvalidArgument(
        "--election-timeout: must be at least 5 heartbeat intervals and at most 50000 ms");
  }
  Result<AutoCompaction> ac = ParseAutoCompaction(c);
  if (!ac.ok()) return ac.status();
  if (c.snapshot_count < 0) return Status::InvalidArgument("--snapshot-count: must be >= 0");
  if (c.snapshot_catchup_entries < 0) {
    return Status::InvalidArgument("--snapshot-catchup-entries: must be >= 0");
  }
  if (c.max_snapshot_bytes <= 0) {
    return Status::InvalidArgument("--max-snapshot-bytes: must be > 0");
  }
  if (c.peer_stream != "tcp" && c.peer_stream != "grpc") {
    return Status::InvalidArgument("--peer-stream: \"" + c.peer_stream +
                                   "\" is neither tcp nor grpc");
  }
  return Status::Ok();
}

Result<AutoCompaction> ParseAutoCompaction(const ServeConfig& c) {
  AutoCompaction out;
  if (c.auto_compaction_interval_ms < 10 || c.auto_compaction_interval_ms > 86'400'000) {
    return Status::InvalidArgument("--auto-compaction-interval: must be in 10..86400000 ms");
  }
  out.interval_ms = c.auto_compaction_interval_ms;
  const std::string& r = c.auto_compaction_retention;
  std::size_t digits = 0;
  while (digits < r.size() && r[digits] >= '0' && r[digits] <= '9') ++digits;
  const std::string unit = r.substr(digits);
  if (digits == 0 || digits > 12 || !(unit.empty() || unit == "h" || unit == "m" || unit == "s")) {
    return Status::InvalidArgument("--auto-compaction-retention: \"" + r +
                                   "\" is not a number or a duration like 1h, 30m, 90s");
  }
  const std::int64_t n = std::stoll(r.substr(0, digits));
  if (c.auto_compaction_mode.empty()) return out;
  if (c.auto_compaction_mode == "revision") {
    if (!unit.empty()) {
      return Status::InvalidArgument(
          "--auto-compaction-retention: revision mode takes a number of revisions");
    }
    out.mode = AutoCompaction::Mode::kRevision;
    out.retention_revisions = n;
    return out;
  }
  if (c.auto_compaction_mode == "periodic") {
    out.mode = AutoCompaction::Mode::kPeriodic;
    const std::int64_t per = unit == "s" ? 1000 : unit == "m" ? 60'000 : 3'600'000;
    out.retention_ms = n * per;
    return out;
  }
  return Status::InvalidArgument("--auto-compaction-mode: \"" + c.auto_compaction_mode +
                                 "\" is neither \"periodic\" nor \"revision\"");
}

Result<Identity> NewIdentity(const ServeConfig& c) {
  const std::vector<std::string>& advertised =
      c.initial_advertise_peer_urls.empty() ? c.listen_peer_urls : c.initial_advertise_peer_urls;
  const std::string cluster =
      c.initial_cluster.empty() ? c.name + "=" + advertised.front() : c.initial_cluster;
  Identity id;
  id.name = c.name;
  std::set<std::string> names, urls;
  for (const std::string& item : SplitList(cluster)) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return Status::InvalidArgument("--initial-cluster: \"" + item + "\" is not NAME=URL");
    }
    MemberEntry m{0, item.substr(0, eq), item.substr(eq + 1)};
    Result<HostPort> hp = ParseListenUrl(m.peer_url, "--initial-cluster (member " + m.name + ")");
    if (!hp.ok()) return hp.status();
    if (!names.insert(m.name).second) {
      return Status::InvalidArgument("--initial-cluster: member name \"" + m.name +
                                     "\" appears twice (one URL per member is supported)");
    }
    if (!urls.insert(m.peer_url).second) {
      return Status::InvalidArgument("--initial-cluster: peer URL " + m.peer_url +
                                     " appears twice");
    }
    m.id = MemberIdFor(m.name, m.peer_url, c.initial_cluster_token);
    id.members.push_back(std::move(m));
  }
  auto self = std::find_if(id.members.begin(), id.members.end(),
                           [&](const MemberEntry& m) { return m.name == c.name; });
  if (self == id.members.end()) {
    return Status::InvalidArgument("--initial-cluster: has no member named \"" + c.name +
                                   "\" (this member's --name)");
  }
  if (std::find(advertised.begin(), advertised.end(), self->peer_url) == advertised.end()) {
    return Status::InvalidArgument("--initial-cluster: member \"" + c.name + "\" has URL " +
                                   self->peer_url +
                                   ", which is not among --initial-advertise-peer-urls");
  }
  id.member_id = self->id;
  id.cluster_id = ClusterIdFor(id.members, c.initial_cluster_token);
  return id;
}

Result<Identity> ReadIdentity(const std::string& data_dir) {
  const std::filesystem::path path = std::filesystem::path(data_dir) / "member.json";
  std::ifstream in(path);
  if (!in) return Status::NotFound(path.string() + " does not exist");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption(path.string() + ": " + why);
  };
  if (j.is_discarded() || !j.is_object()) return corrupt("not a JSON object");
  try {
    Identity id;
    id.name = j.at("name").get<std::string>();
    id.member_id = std::stoull(j.at("member_id").get<std::string>(), nullptr, 16);
    id.cluster_id = std::stoull(j.at("cluster_id").get<std::string>(), nullptr, 16);
    for (const auto& m : j.at("members")) {
      id.members.push_back({std::stoull(m.at("id").get<std::string>(), nullptr, 16),
                            m.at("name").get<std::string>(), m.at("peer_url").get<std::string>()});
    }
    if (id.member_id == 0 || id.cluster_id == 0 || id.members.empty()) {
      return corrupt("zero id or no members");
    }
    return id;
  } catch (const std::exception& e) {
    return corrupt(std::string("missing or malformed field: ") + e.what());
  }
}

Status WriteIdentity(const std::string& data_dir, const Identity& id) {
  nlohmann::json j;
  j["name"] = id.name;
  j["member_id"] = HexId(id.member_id);
  j["cluster_id"] = HexId(id.cluster_id);
  j["members"] = nlohmann::json::array();
  for (const MemberEntry& m : id.members) {
    j["members"].push_back({{"id", HexId(m.id)}, {"name", m.name}, {"peer_url", m.peer_url}});
  }
  const std::string text = j.dump(2) + "\n";
  const std::string path = data_dir + "/member.json";
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IOError("cannot write " + path + ": " + std::strerror(errno));
  }
  const int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

namespace {

Status SetList(const toml::node& v, const std::string& key, std::vector<std::string>* out) {
  if (const auto* s = v.as_string()) {
    *out = SplitList(s->get());
    return Status::Ok();
  }
  if (const auto* a = v.as_array()) {
    out->clear();
    for (const toml::node& e : *a) {
      if (!e.is_string()) return Status::InvalidArgument(key + ": array items must be strings");
      out->push_back(e.as_string()->get());
    }
    return Status::Ok();
  }
  return Status::InvalidArgument(key + ": expected a string or an array of strings");
}

Status SetString(const toml::node& v, const std::string& key, std::string* out) {
  if (!v.is_string()) return Status::InvalidArgument(key + ": expected a string");
  *out = v.as_string()->get();
  return Status::Ok();
}

Status SetInt(const toml::node& v, const std::string& key, std::int64_t* out) {
  if (!v.is_integer()) return Status::InvalidArgument(key + ": expected an integer");
  *out = v.as_integer()->get();
  return Status::Ok();
}

Status ApplyKey(const std::string& key, const toml::node& v, ServeConfig* c) {
  if (key == "name") return SetString(v, key, &c->name);
  if (key == "data-dir") return SetString(v, key, &c->data_dir);
  if (key == "listen-client-urls") return SetList(v, key, &c->listen_client_urls);
  if (key == "advertise-client-urls") return SetList(v, key, &c->advertise_client_urls);
  if (key == "listen-peer-urls") return SetList(v, key, &c->listen_peer_urls);
  if (key == "initial-advertise-peer-urls") {
    return SetList(v, key, &c->initial_advertise_peer_urls);
  }
  if (key == "initial-cluster") return SetString(v, key, &c->initial_cluster);
  if (key == "initial-cluster-state") return SetString(v, key, &c->initial_cluster_state);
  if (key == "initial-cluster-token") return SetString(v, key, &c->initial_cluster_token);
  if (key == "listen-metrics-urls") return SetList(v, key, &c->listen_metrics_urls);
  if (key == "heartbeat-interval") return SetInt(v, key, &c->heartbeat_interval_ms);
  if (key == "election-timeout") return SetInt(v, key, &c->election_timeout_ms);
  if (key == "auto-compaction-mode") return SetString(v, key, &c->auto_compaction_mode);
  if (key == "auto-compaction-retention") {
    if (v.is_integer()) {
      c->auto_compaction_retention = std::to_string(v.as_integer()->get());
      return Status::Ok();
    }
    return SetString(v, key, &c->auto_compaction_retention);
  }
  if (key == "auto-compaction-interval") return SetInt(v, key, &c->auto_compaction_interval_ms);
  if (key == "snapshot-count") return SetInt(v, key, &c->snapshot_count);
  if (key == "snapshot-catchup-entries") return SetInt(v, key, &c->snapshot_catchup_entries);
  if (key == "max-snapshot-bytes") return SetInt(v, key, &c->max_snapshot_bytes);
  if (key == "quota-backend-bytes") return SetInt(v, key, &c->quota_backend_bytes);
  if (key == "peer-stream") return SetString(v, key, &c->peer_stream);
  return Status::InvalidArgument("unknown key \"" + key + "\"");
}

}  // namespace

Status LoadConfigFile(const std::string& path, ServeConfig* config) {
  std::ifstream probe(path);
  if (!probe) return Status::IOError("--config-file: cannot read " + path);
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("--config-file " + path + ":" +
                                   std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  for (const auto& [k, v] : table) {
    const std::string key(k.str());
    Status s = ApplyKey(key, v, config);
    if (!s.ok()) {
      return Status::InvalidArgument("--config-file " + path + ":" +
                                     std::to_string(k.source().begin.line) + ": " + s.message());
    }
  }
  return Status::Ok();
}

}  // namespace aspen::server
