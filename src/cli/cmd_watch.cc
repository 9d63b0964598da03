// `aspen watch KEY [RANGE_END] [--prefix] [--rev R] [--prev-kv]`: etcd's
// Watch from the command line, printing like `etcdctl watch`: for each event
// its type (PUT/DELETE), then with --prev-kv the previous key and value, then
// the key and value. `-o json` prints one JSON object per response instead
// (keys and values base64-encoded, like `aspen get -o json`).
//
// It runs until interrupted. When its member goes away it resumes on the next
// endpoint from the revision after the last event it printed, so no event is
// lost or printed twice. Flags and exit codes are cli/common.h's: 1 bad flags
// or the watch was canceled by the server (e.g. its revision was compacted),
// 3 no endpoint answered for --retry-ms.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "client/client.h"
#include "etcdserverpb/watch.grpc.pb.h"

namespace aspen::cli {

namespace {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

struct WatchFlags {
  ClientFlags client;
  std::string key;
  std::string range_end;
  bool prefix = false;
  std::int64_t revision = 0;
  bool prev_kv = false;
  std::int64_t retry_ms = 10'000;  // how long to look for a member before giving up
};

void Print(const WatchFlags& f, const pb::WatchResponse& r) {
  if (f.client.json()) {
    Json j = {{"header", HeaderJson(r.header())}, {"watch_id", r.watch_id()}};
    Json events = Json::array();
    for (const mvccpb::Event& e : r.events()) {
      Json je = {{"type", e.type() == mvccpb::Event::DELETE ? "DELETE" : "PUT"},
                 {"kv", KvJson(e.kv())}};
      if (e.has_prev_kv()) je["prev_kv"] = KvJson(e.prev_kv());
      events.push_back(std::move(je));
    }
    j["events"] = std::move(events);
    PrintJson(j);
    std::cout.flush();
    return;
  }
  for (const mvccpb::Event& e : r.events()) {
    std::cout << (e.type() == mvccpb::Event::DELETE ? "DELETE" : "PUT") << "\n";
    if (e.has_prev_kv()) std::cout << e.prev_kv().key() << "\n" << e.prev_kv().value() << "\n";
    std::cout << e.kv().key() << "\n" << e.kv().value() << "\n";
  }
  std::cout.flush();
}

enum class Outcome { kCanceled, kLost };

// One stream on one endpoint; *next is the revision to resume from.
Outcome WatchOn(const WatchFlags& f, const std::string& endpoint,
                std::chrono::milliseconds dial_timeout, std::int64_t* next, std::string* why) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + dial_timeout)) {
    *why =
        "cannot connect to " + endpoint + " within " + std::to_string(dial_timeout.count()) + " ms";
    return Outcome::kLost;
  }
  auto stub = pb::Watch::NewStub(channel);
  grpc::ClientContext ctx;
  auto stream = stub->Watch(&ctx);
  pb::WatchRequest req;
  pb::WatchCreateRequest* c = req.mutable_create_request();
  c->set_key(f.key);
  c->set_range_end(f.prefix ? client::PrefixEnd(f.key) : f.range_end);
  c->set_start_revision(*next);
  c->set_prev_kv(f.prev_kv);
  if (!stream->Write(req)) {
    *why = "cannot reach " + endpoint;
    return Outcome::kLost;
  }
  pb::WatchResponse r;
  while (stream->Read(&r)) {
    if (r.canceled()) {
      *why = r.cancel_reason().empty() ? "watch canceled by the server" : r.cancel_reason();
      if (r.compact_revision() != 0) {
        *why += " (compacted revision " + std::to_string(r.compact_revision()) + ")";
      }
      ctx.TryCancel();
      return Outcome::kCanceled;
    }
    if (r.events_size() > 0) {
      Print(f, r);
      if (!r.fragment()) *next = r.events(r.events_size() - 1).kv().mod_revision() + 1;
    } else if (*next == 0 && r.created()) {
      *next = r.header().revision() + 1;  // resume after the revision it started at
    }
  }
  grpc::Status s = stream->Finish();
  *why = endpoint + ": " + (s.ok() ? "stream closed" : s.error_message());
  return Outcome::kLost;
}

int RunWatch(const WatchFlags& f) {
  Result<client::ClientOptions> options = OptionsFrom(f.client);
  if (!options.ok()) return UsageError("watch", options.status().message());
  const std::vector<std::string>& endpoints = options->endpoints;
  if (f.prefix && !f.range_end.empty()) {
    return UsageError("watch", "--prefix and RANGE_END cannot be combined");
  }
  std::int64_t next = f.revision;
  std::size_t i = 0;
  auto last_ok = std::chrono::steady_clock::now();
  while (true) {
    std::string why;
    const std::int64_t before = next;
    const Outcome o =
        WatchOn(f, endpoints[i % endpoints.size()], options->dial_timeout, &next, &why);
    if (o == Outcome::kCanceled) return Fail("watch", Status::FailedPrecondition(why));
    if (next != before) last_ok = std::chrono::steady_clock::now();
    if (std::chrono::steady_clock::now() - last_ok > std::chrono::milliseconds(f.retry_ms)) {
      return Fail("watch", Status::Unavailable("no endpoint answers (" + why + ")"));
    }
    ++i;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace

void RegisterWatchCommands(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<WatchFlags>();
  CLI::App* cmd = app.add_subcommand("watch", "Watch a key or range for changes (etcd Watch)");
  cmd->add_option("key", f->key, "Key")->required();
  cmd->add_option("range_end", f->range_end, "End of the range [key, range_end)");
  cmd->add_flag("--prefix", f->prefix, "Watch every key with this prefix");
  cmd->add_option("--rev", f->revision, "Start at this revision (0 = from now)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--prev-kv", f->prev_kv, "Print each key's previous value too");
  cmd->add_option("--retry-ms", f->retry_ms, "Give up after this long without a member")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3'600'000}))
      ->capture_default_str();
  AddEndpointFlags(cmd, f->client);
  cmd->callback([f, exit_code] { *exit_code = RunWatch(*f); });
}

}  // namespace aspen::cli
