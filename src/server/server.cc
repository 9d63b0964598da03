#include "server/server.h"

#include <absl/synchronization/mutex.h>
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <set>

#include "base/limits.h"
#include "node/node.h"
#include "server/auto_compactor.h"
#include "server/http_server.h"
#include "server/member_upkeep.h"
#include "server/peer_port.h"
#include "server/peer_service.h"
#include "server/peer_transport.h"
#include "server/services.h"
#include "server/sql_service.h"
#include "storage/rocks_store.h"
#include "storage/snapshot.h"

namespace aspen::server {

namespace {

// The node seen by the peer port and the transport.
class NodePeerAdapter final : public PeerHandler, public PeerEvents {
 public:
  NodePeerAdapter(node::Node* node, storage::RocksStore* store) : node_(node), store_(store) {}
  Status Receive(raft::pb::Message m) override { return node_->Receive(std::move(m)); }
  std::size_t ReceiveBatch(std::vector<raft::pb::Message> messages) override {
    return node_->ReceiveBatch(std::move(messages));
  }
  Result<std::int64_t> KeepAlive(std::int64_t id) override { return node_->KeepAlive(id); }
  // A member forwards LeaseTimeToLive here when this node leads. The leader
  // applies everything committed so far first (one read barrier, bounded by
  // the node's request timeout), so a revoke another member has applied and
  // acknowledged is never answered as a live lease (lease_service.cc).
  Result<node::LeaseStatus> LeaseTimeToLive(std::int64_t id) override {
    auto applied = std::make_shared<std::promise<Status>>();
    std::future<Status> done = applied->get_future();
    node_->ReadBarrier([applied](Status s) { applied->set_value(std::move(s)); });
    if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      return Status::Unavailable("lease timetolive: read barrier did not finish within 30 s");
    }
    if (Status s = done.get(); !s.ok()) return s;
    return node_->LeaseTimeToLive(id);
  }
  void ReportUnreachable(raft::NodeId peer) override { node_->ReportUnreachable(peer); }
  std::string ResolvePeer(raft::NodeId peer) override {
    for (const node::Member& m : node_->Members()) {
      if (m.id == peer) return UrlToTarget(m.peer_address);
    }
    return "";
  }
  std::shared_ptr<storage::Snapshot> SnapshotView(std::uint64_t index) override {
    return node_->OutgoingSnapshot(index);
  }
  void ReportSnapshot(raft::NodeId peer, bool ok) override { node_->ReportSnapshot(peer, ok); }
  std::vector<node::Member> Members() override { return node_->Members(); }

  Status ReceiveSnapshot(raft::pb::Message m, const std::string& path) override {
    // The file goes away with the last copy of the ingester (a crash leaves
    // it: the staged SST files, not this file, finish an interrupted install).
    auto file = std::shared_ptr<std::string>(new std::string(path), [](std::string* p) {
      std::error_code ec;
      std::filesystem::remove(*p, ec);
      delete p;
    });
    storage::RocksStore* store = store_;
    return node_->ReceiveSnapshotIngest(
        std::move(m), [file, store](const std::string& marker) -> Status {
          Result<std::unique_ptr<storage::FileSource>> source = storage::FileSource::Open(*file);
          if (!source.ok()) return source.status();
          storage::SstIngestOptions o;
          o.replace_existing = true;
          o.marker = marker;
          o.keep_marker = true;
          Result<storage::SnapshotSummary> done = store->IngestStateSnapshotSst(source->get(), o);
          return done.ok() ? Status::Ok() : done.status();
        });
  }

  Status PromoteMember(raft::NodeId id) override {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> result = done->get_future();
    node_->PromoteMember(id, [done](Status s) { done->set_value(std::move(s)); });
    return result.get();  // the node answers every request (a deadline at worst)
  }

 private:
  node::Node* node_;
  storage::RocksStore* store_;
};

std::int64_t DirSize(const std::string& dir) {
  std::error_code ec;
  std::int64_t total = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) total += static_cast<std::int64_t>(it->file_size(ec));
  }
  return total;
}

}  // namespace

Status CheckPortFree(const HostPort& hp, const std::string& what) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::IOError(what + ": socket: " + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(hp.port));
  inet_pton(AF_INET, hp.host.c_str(), &addr.sin_addr);
  const int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  if (rc == 0) return Status::Ok();
  if (err == EADDRINUSE) {
    return Status::Unavailable(what + ": cannot listen on " + hp.target() +
                               ": address already in use (is another aspen or etcd running?)");
  }
  return Status::IOError(what + ": cannot listen on " + hp.target() + ": " + std::strerror(err));
}

struct Server::Parts {
  ServeConfig config;
  Log log;
  Identity identity;
  std::unique_ptr<storage::RocksStore> store;
  std::unique_ptr<node::WatchHub> watch_hub;  // fed by the node's apply
  std::unique_ptr<PeerTransport> transport;
  std::unique_ptr<node::Node> node;
  std::unique_ptr<NodePeerAdapter> adapter;
  std::unique_ptr<PeerService> peer_service;
  std::unique_ptr<grpc::Server> peer_server;  // no ports: peer_port hands it connections
  std::unique_ptr<PeerPort> peer_port_listener;
  RequestMetrics metrics;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<PeerClient> peer_client;
  ServiceEnv env;
  std::unique_ptr<KvService> kv;
  std::unique_ptr<LeaseService> lease;
  std::unique_ptr<ClusterService> cluster;
  std::unique_ptr<MaintenanceService> maintenance;
  std::unique_ptr<SqlRunner> sql_runner;
  std::unique_ptr<SqlService> sql;
  std::unique_ptr<WatchService> watch;
  std::unique_ptr<AutoCompactor> compactor;
  std::unique_ptr<MemberUpkeep> upkeep;
  std::unique_ptr<grpc::Server> client_server;
  std::vector<std::unique_ptr<HttpServer>> http;
  int client_port = 0, peer_port = 0;
  bool joining = false;  // a new member of a running cluster
  std::once_flag stopped;

  Status JoinIdentity();
  Status CheckPorts();
  Status OpenData();
  Status StartNode();
  Status StartPeerPort();
  Status StartClientPort();
  Status StartHttp();
  HttpResponse HandleHttp(std::string_view path);
  HttpResponse HandleHttpPost(std::string_view path, std::string_view body);
  void Stop();
};

Status Server::Parts::CheckPorts() {
  ASPEN_RETURN_IF_ERROR(ValidateConfig(config));
  std::set<std::string> seen;
  auto check = [&](const std::vector<std::string>& urls, const std::string& what) -> Status {
    for (const std::string& u : urls) {
      Result<HostPort> hp = ParseListenUrl(u, what);
      if (!hp.ok()) return hp.status();
      if (!seen.insert(hp->target()).second) {
        return Status::InvalidArgument(what + ": " + hp->target() +
                                       " is already used by another --listen-* URL");
      }
      ASPEN_RETURN_IF_ERROR(CheckPortFree(*hp, what));
    }
    return Status::Ok();
  };
  ASPEN_RETURN_IF_ERROR(check(config.listen_client_urls, "--listen-client-urls"));
  ASPEN_RETURN_IF_ERROR(check(config.listen_peer_urls, "--listen-peer-urls"));
  return check(config.listen_metrics_urls, "--listen-metrics-urls");
}

Status Server::Parts::OpenData() {
  namespace fs = std::filesystem;
  const std::string db_dir = config.data_dir + "/db";
  std::error_code ec;
  const bool had_db = fs::exists(db_dir, ec);
  Result<Identity> stored = ReadIdentity(config.data_dir);
  if (!stored.ok() && stored.status().code() != Code::kNotFound) return stored.status();
  if (!stored.ok() && had_db) {
    return Status::FailedPrecondition("data dir " + config.data_dir +
                                      " holds a database but no member.json: it is not an "
                                      "aspen data dir, or it was damaged; move it away");
  }
  if (stored.ok() && stored->name != config.name) {
    return Status::FailedPrecondition("data dir " + config.data_dir + " belongs to member \"" +
                                      stored->name + "\" of cluster " + HexId(stored->cluster_id) +
                                      ", not to --name \"" + config.name +
                                      "\": use that name or another --data-dir");
  }
  fs::create_directories(config.data_dir, ec);
  storage::RocksOptions rocks;
  // Small memtables for kv, index and lease: every Put of an existing key adds
  // a version that ranges and gets must skip until a flush drops it, so with
  // 32 MiB of them 100-key ranges ran 3-4x slower after 200k puts over 10k
  // keys (docs/BENCHMARKS.md, "Ranges after writes"). 4 MiB: ranges after
  // writes +40%, puts unchanged. 1 MiB was tried (shorter skip lists for
  // the random-key inserts of every put): the loop saved a few µs per put at
  // 64 clients but the process did not, and ranges after writes cost 17%
  // more CPU (docs/BENCHMARKS.md, "Server CPU per put on one node").
  rocks.write_buffer_bytes = 4u << 20;
  Result<std::unique_ptr<storage::RocksStore>> opened = storage::RocksStore::Open(db_dir, rocks);
  if (!opened.ok()) return opened.status();
  store = std::move(opened).value();
  if (stored.ok()) {
    identity = std::move(stored).value();
    if (!config.initial_cluster.empty()) {
      Result<Identity> fresh = NewIdentity(config);
      if (!fresh.ok() || fresh->cluster_id != identity.cluster_id) {
        log("ignoring --initial-cluster: data dir " + config.data_dir + " already holds member " +
            HexId(identity.member_id) + " of cluster " + HexId(identity.cluster_id));
      }
    }
    log("restarting member " + identity.name + " (" + HexId(identity.member_id) + ") of cluster " +
        HexId(identity.cluster_id));
    return Status::Ok();
  }
  if (config.initial_cluster_state == "existing") {
    ASPEN_RETURN_IF_ERROR(JoinIdentity());
    joining = true;
    ASPEN_RETURN_IF_ERROR(WriteIdentity(config.data_dir, identity));
    log("joining cluster " + HexId(identity.cluster_id) + " as member " + identity.name + " (" +
        HexId(identity.member_id) + ")");
    return Status::Ok();
  }
  Result<Identity> fresh = NewIdentity(config);
  if (!fresh.ok()) return fresh.status();
  identity = std::move(fresh).value();
  ASPEN_RETURN_IF_ERROR(WriteIdentity(config.data_dir, identity));
  log("starting new member " + identity.name + " (" + HexId(identity.member_id) + ") of cluster " +
      HexId(identity.cluster_id) + " with " + std::to_string(identity.members.size()) +
      " member(s)");
  return Status::Ok();
}

// A new member of a running cluster (etcd: --initial-cluster-state existing
// after `member add`): asks the other members named in --initial-cluster for
// the cluster id and the address book, and finds its own id there by its
// advertised peer URL.
Status Server::Parts::JoinIdentity() {
  Result<Identity> named = NewIdentity(config);  // checks the flags; ids are not used
  if (!named.ok()) return named.status();
  const std::vector<std::string>& mine = config.initial_advertise_peer_urls.empty()
                                             ? config.listen_peer_urls
                                             : config.initial_advertise_peer_urls;
  std::string errors;
  for (const MemberEntry& m : named->members) {
    if (m.name == config.name) continue;
    const std::string target = UrlToTarget(m.peer_url);
    peer::v1::ClusterInfo info;
    grpc::Status g = FetchClusterInfo(target, std::chrono::seconds(3), &info);
    if (!g.ok()) {
      errors += " " + m.peer_url + ": " + g.error_message() + ";";
      continue;
    }
    identity.name = config.name;
    identity.cluster_id = info.cluster_id();
    identity.members.clear();
    for (const peer::v1::MemberInfo& p : info.members()) {
      MemberEntry e;
      e.id = p.id();
      e.name = p.name();
      e.peer_url = p.peer_urls_size() > 0 ? p.peer_urls(0) : "";
      for (const std::string& u : p.peer_urls()) {
        if (std::find(mine.begin(), mine.end(), u) != mine.end()) identity.member_id = p.id();
      }
      if (p.id() == identity.member_id) e.name = config.name;
      identity.members.push_back(std::move(e));
    }
    if (identity.member_id == 0) {
      return Status::FailedPrecondition("--initial-cluster-state=existing: no member of cluster " +
                                        HexId(info.cluster_id()) + " has peer URL " + mine.front() +
                                        "; add it first (aspen member add " + config.name +
                                        " --peer-urls=" + mine.front() + ")");
    }
    return Status::Ok();
  }
  return Status::Unavailable(
      "--initial-cluster-state=existing: no running member of --initial-cluster answered:" +
      errors);
}

Status Server::Parts::StartNode() {
  PeerTransportOptions topts;
  topts.self = identity.member_id;
  topts.cluster_id = identity.cluster_id;
  topts.stream = config.peer_stream == "grpc" ? PeerStreamKind::kGrpc : PeerStreamKind::kTcp;
  node::NodeOptions nopts;
  nopts.id = identity.member_id;
  for (const MemberEntry& m : identity.members) {
    nopts.initial_cluster[m.id] = m.peer_url;
    if (m.id != identity.member_id) topts.peers[m.id] = UrlToTarget(m.peer_url);
  }
  transport = std::make_unique<PeerTransport>(std::move(topts));
  nopts.store = store.get();
  nopts.transport = transport.get();
  nopts.log = log;
  nopts.tick_interval_ms = config.heartbeat_interval_ms;
  nopts.election_tick = static_cast<int>(config.election_timeout_ms / config.heartbeat_interval_ms);
  nopts.heartbeat_tick = 1;
  node::WatchHubOptions wopts;
  wopts.store = store.get();
  watch_hub = std::make_unique<node::WatchHub>(wopts);
  nopts.on_applied = [hub = watch_hub.get()](std::int64_t revision) { hub->Notify(revision); };
  nopts.join_existing = joining;
  nopts.snapshot_count = static_cast<std::uint64_t>(config.snapshot_count);
  nopts.snapshot_catchup_entries = static_cast<std::uint64_t>(config.snapshot_catchup_entries);
  Result<std::unique_ptr<node::Node>> n = node::Node::Open(nopts);
  if (!n.ok()) return n.status();
  node = std::move(n).value();
  adapter = std::make_unique<NodePeerAdapter>(node.get(), store.get());
  transport->Attach(adapter.get());
  return Status::Ok();
}

Status Server::Parts::StartPeerPort() {
  peer::v1::MemberInfo info;
  info.set_name(identity.name);
  for (const MemberEntry& m : identity.members) {
    if (m.id == identity.member_id) info.add_peer_urls(m.peer_url);
  }
  if (info.peer_urls_size() == 0) {
    const auto& mine = config.initial_advertise_peer_urls.empty()
                           ? config.listen_peer_urls
                           : config.initial_advertise_peer_urls;
    for (const std::string& u : mine) info.add_peer_urls(u);
  }
  const auto& client_urls = config.advertise_client_urls.empty() ? config.listen_client_urls
                                                                 : config.advertise_client_urls;
  for (const std::string& u : client_urls) info.add_client_urls(u);
  peer_service =
      std::make_unique<PeerService>(identity.cluster_id, identity.member_id, adapter.get(), info);
  // Received snapshots are staged here; leftovers of an earlier run are stale.
  const std::string staging = config.data_dir + "/snap-staging";
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  peer_service->SetSnapshotStaging(staging, static_cast<std::uint64_t>(config.max_snapshot_bytes));
  // The gRPC server listens on no port of its own: the peer port's listener
  // (peer_port.h) accepts every connection, serves raft streams itself and
  // hands the rest (HTTP/2) to it.
  grpc::ServerBuilder b;
  b.SetMaxReceiveMessageSize(static_cast<int>(kMaxPeerBatchBytes));
  b.RegisterService(peer_service.get());
  peer_server = b.BuildAndStart();
  if (peer_server == nullptr) return Status::Internal("peer port: gRPC server did not start");
  PeerPortOptions popts;
  for (const std::string& u : config.listen_peer_urls) {
    Result<HostPort> hp = ParseListenUrl(u, "--listen-peer-urls");
    if (!hp.ok()) return hp.status();
    popts.listen.emplace_back(hp->host, hp->port);
  }
  popts.log = [this](std::string_view line) { log(line); };
  Result<std::unique_ptr<PeerPort>> port =
      PeerPort::Start(std::move(popts), peer_service.get(), peer_server.get());
  if (!port.ok()) return port.status();
  peer_port_listener = std::move(*port);
  peer_port = peer_port_listener->port();
  return Status::Ok();
}

Status Server::Parts::StartClientPort() {
  pool = std::make_unique<WorkerPool>(4, 16384);
  peer_client = std::make_unique<PeerClient>(identity.cluster_id, std::chrono::milliseconds(2000));
  env.node = node.get();
  env.metrics = &metrics;
  env.pool = pool.get();
  env.peers = peer_client.get();
  env.watch_hub = watch_hub.get();
  watch_hub->Start();
  env.cluster_id = identity.cluster_id;
  env.member_id = identity.member_id;
  env.name = identity.name;
  env.client_urls = config.advertise_client_urls.empty() ? config.listen_client_urls
                                                         : config.advertise_client_urls;
  env.min_lease_ttl_s = (config.election_timeout_ms * 3 / 2 + 999) / 1000;
  env.db_size_bytes = [dir = config.data_dir + "/db"] { return DirSize(dir); };
  env.state_bytes = [s = store.get()] { return s->StateBytes(); };
  env.defragment = [s = store.get()] { return s->Defragment(); };
  env.quota_backend_bytes =
      config.quota_backend_bytes > 0 ? config.quota_backend_bytes : kDefaultQuotaBackendBytes;
  env.snapshot_tmp_dir = config.data_dir;
  kv = std::make_unique<KvService>(&env);
  lease = std::make_unique<LeaseService>(&env);
  cluster = std::make_unique<ClusterService>(&env);
  maintenance = std::make_unique<MaintenanceService>(&env);
  sql_runner = std::make_unique<SqlRunner>(node.get(), 2);
  sql = std::make_unique<SqlService>(sql_runner.get(), &metrics);
  watch = std::make_unique<WatchService>(&env);
  grpc::ServerBuilder b;
  for (const std::string& u : config.listen_client_urls) {
    b.AddListeningPort(ParseListenUrl(u, "--listen-client-urls")->target(),
                       grpc::InsecureServerCredentials(),
                       u == config.listen_client_urls[0] ? &client_port : nullptr);
  }
  // etcd: the request limit plus 512 KiB of gRPC overhead; requests between
  // the two get "etcdserver: request is too large" from validation.
  b.SetMaxReceiveMessageSize(static_cast<int>(limits::kMaxRequestBytes + 512 * 1024));
  b.RegisterService(kv.get());
  b.RegisterService(lease.get());
  b.RegisterService(cluster.get());
  b.RegisterService(maintenance.get());
  b.RegisterService(sql.get());
  b.RegisterService(watch.get());
  client_server = b.BuildAndStart();
  if (client_server == nullptr || client_port == 0) {
    return Status::Unavailable("--listen-client-urls: cannot listen on " +
                               config.listen_client_urls[0] + " (address in use?)");
  }
  return Status::Ok();
}

HttpResponse Server::Parts::HandleHttp(std::string_view path) {
  if (path == "/health") {
    const node::NodeStatus st = node->GetStatus();
    if (st.leader != 0) return {200, "application/json", "{\"health\":\"true\"}"};
    return {503, "application/json", "{\"health\":\"false\",\"reason\":\"RAFT NO LEADER\"}"};
  }
  if (path == "/metrics") {
    const node::NodeStatus st = node->GetStatus();
    const PeerTransportStats ts = transport->Stats();
    const PeerServiceStats ps = peer_service->Stats();
    return {200, "text/plain; version=0.0.4; charset=utf-8",
            RenderMetrics({&st, &metrics, &ts, &ps})};
  }
  return {404, "text/plain; charset=utf-8", "not found: GET /health or /metrics\n"};
}

HttpResponse Server::Parts::HandleHttpPost(std::string_view path, std::string_view body) {
  if (path == "/v1/sql") return HandleSqlHttp(sql_runner.get(), body);
  return SqlHttpError(Status::NotFound("not found: POST /v1/sql"));
}

Status Server::Parts::StartHttp() {
  for (const std::string& u : config.listen_metrics_urls) {
    Result<HostPort> hp = ParseListenUrl(u, "--listen-metrics-urls");
    if (!hp.ok()) return hp.status();
    HttpServerOptions o;
    o.host = hp->host;
    o.port = hp->port;
    Result<std::unique_ptr<HttpServer>> s = HttpServer::Start(
        o, [this](std::string_view, std::string_view path) { return HandleHttp(path); },
        [this](std::string_view path, std::string_view body) {
          return HandleHttpPost(path, body);
        });
    if (!s.ok()) return Status(s.status().code(), "--listen-metrics-urls: " + s.status().message());
    http.push_back(std::move(s).value());
  }
  return Status::Ok();
}

void Server::Parts::Stop() {
  std::call_once(stopped, [this] {
    // Snapshot streams end first ("server stopping"); their writer threads,
    // which read the node and the store, are joined.
    env.stream_threads.Stop();
    // Watch and keep-alive streams end now ("server stopped"), so the client
    // port's shutdown below waits only for calls being answered.
    env.open_streams.EndAll();
    for (auto& h : http) h->Stop();
    if (compactor != nullptr) compactor->Stop();
    if (upkeep != nullptr) upkeep->Stop();
    // The node answers whatever is pending ("node stopped"); the worker pools
    // run what they hold (reads, SQL) and stop, so every call in progress is
    // answered; later calls get "server stopped". What is left on the client
    // port is connections, which gRPC's shutdown waits for until its
    // deadline (a client that keeps an idle channel open would hold it).
    if (node != nullptr) node->Stop();
    if (pool != nullptr) pool->Stop();
    // Lease calls forwarded to the leader end now (their streams and calls
    // are answered "server stopped"); later ones are refused at once.
    if (peer_client != nullptr) peer_client->Stop();
    if (sql_runner != nullptr) sql_runner->Stop();
    if (client_server != nullptr) {
      client_server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    }
    if (watch_hub != nullptr) watch_hub->Stop();
    // The node is stopped: whatever the peers still stream to this member
    // (raft messages, a snapshot) is refused anyway and resent by raft to
    // whoever runs next, so the peer port cancels its calls at once instead of
    // waiting for the peers' never-ending streams.
    if (peer_port_listener != nullptr) peer_port_listener->Stop();
    if (peer_server != nullptr) peer_server->Shutdown(std::chrono::system_clock::now());
    if (transport != nullptr) transport->Stop();
    node.reset();
    watch_hub.reset();
    store.reset();
  });
}

Result<std::unique_ptr<Server>> Server::Start(const ServeConfig& config, Log log) {
  // Debian builds Abseil without NDEBUG, so every absl::Mutex lock inside gRPC
  // runs Abseil's deadlock detector, which keeps one process-wide lock graph
  // under a global spin lock: a few % of the server's CPU under load and a
  // point where all gRPC threads meet (docs/BENCHMARKS.md, "Profile"). Aspen's
  // own locks are std::mutex and are not affected.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto parts = std::make_unique<Parts>();
  parts->config = config;
  parts->log = log ? std::move(log) : [](std::string_view) {};
  ASPEN_RETURN_IF_ERROR(parts->CheckPorts());
  ASPEN_RETURN_IF_ERROR(parts->OpenData());
  std::unique_ptr<Server> server(new Server(std::move(parts)));
  Parts& p = *server->parts_;
  ASPEN_RETURN_IF_ERROR(p.StartNode());
  ASPEN_RETURN_IF_ERROR(p.StartPeerPort());
  if (Status s = p.node->Start(); !s.ok()) return s;
  ASPEN_RETURN_IF_ERROR(p.StartClientPort());
  ASPEN_RETURN_IF_ERROR(p.StartHttp());
  Result<AutoCompaction> ac = ParseAutoCompaction(config);
  if (!ac.ok()) return ac.status();
  p.compactor = std::make_unique<AutoCompactor>(p.node.get(), *ac);
  p.compactor->Start();
  MemberUpkeep::Options uo;
  uo.self = p.env.member_id;
  uo.cluster_id = p.env.cluster_id;
  uo.name = p.env.name;
  for (const std::string& u : p.env.client_urls)
    uo.client_urls += (uo.client_urls.empty() ? "" : ",") + u;
  uo.election_timeout = std::chrono::milliseconds(config.election_timeout_ms);
  uo.log = p.log;
  p.upkeep = std::make_unique<MemberUpkeep>(p.node.get(), std::move(uo));
  p.upkeep->Start();
  p.log(
      "serving clients on " + config.listen_client_urls[0] + ", peers on " +
      config.listen_peer_urls[0] +
      (config.listen_metrics_urls.empty() ? "" : ", metrics on " + config.listen_metrics_urls[0]));
  return server;
}

Server::Server(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Server::~Server() {
  Stop();
}
void Server::Stop() {
  parts_->Stop();
}
const Identity& Server::identity() const {
  return parts_->identity;
}
int Server::client_port() const {
  return parts_->client_port;
}
int Server::peer_port() const {
  return parts_->peer_port;
}
bool Server::removed() const {
  return parts_->upkeep != nullptr && parts_->upkeep->removed();
}
int Server::metrics_port() const {
  return parts_->http.empty() ? 0 : parts_->http[0]->port();
}

}  // namespace aspen::server
