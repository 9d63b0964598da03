#include "client/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include "client/client_conn.h"
#include "client/endpoints.h"
#include "client/grpc_status.h"

namespace aspen::client {

namespace pb = etcdserverpb;

std::string PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

Result<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.endpoints.empty()) return Status::InvalidArgument("no endpoints given");
  if (options.endpoints.size() > kMaxEndpoints) {
    return Status::InvalidArgument("more than " + std::to_string(kMaxEndpoints) + " endpoints");
  }
  if (options.dial_timeout.count() <= 0 || options.call_timeout.count() <= 0) {
    return Status::InvalidArgument("dial and call timeouts must be positive");
  }
  if (options.max_recv_bytes <= 0) {
    return Status::InvalidArgument("max_recv_bytes must be positive");
  }
  for (const std::string& endpoint : options.endpoints) {
    Result<std::string> parsed = ParseEndpoint(endpoint);
    if (!parsed.ok()) return parsed.status();
  }
  return std::unique_ptr<Client>(new Client(std::move(options)));
}

Client::Client(ClientOptions options) : options_(std::move(options)) {
  for (const std::string& endpoint : options_.endpoints) {
    auto conn = std::make_unique<Conn>();
    conn->target = ParseEndpoint(endpoint).value();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(options_.max_recv_bytes);
    args.SetMaxSendMessageSize(-1);  // the server decides what is too large
    conn->channel =
        grpc::CreateCustomChannel(conn->target, grpc::InsecureChannelCredentials(), args);
    conn->kv = pb::KV::NewStub(conn->channel);
    conn->lease = pb::Lease::NewStub(conn->channel);
    conn->cluster = pb::Cluster::NewStub(conn->channel);
    conn->maintenance = pb::Maintenance::NewStub(conn->channel);
    conns_.push_back(std::move(conn));
  }
}

Client::~Client() = default;

std::string Client::current_endpoint() const {
  return conns_[current_.load()]->target;
}

Status Client::Call(bool read_only, const Attempt& attempt) {
  const std::size_t n = conns_.size();
  const std::size_t start = current_.load();
  std::string failures;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t index = (start + i) % n;
    Conn& conn = *conns_[index];
    const auto dial_deadline = std::chrono::system_clock::now() + options_.dial_timeout;
    if (!conn.channel->WaitForConnected(dial_deadline)) {
      failures += (failures.empty() ? "" : "; ") + conn.target + ": not reachable within " +
                  std::to_string(options_.dial_timeout.count()) + " ms";
      continue;
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + options_.call_timeout);
    const grpc::Status status = attempt(conn, context);
    if (status.ok()) {
      current_.store(index);
      return Status::Ok();
    }
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) {
      current_.store(index);
      return FromGrpc(status);
    }
    current_.store((index + 1) % n);
    if (!read_only) return FromGrpc(status);
    failures += (failures.empty() ? "" : "; ") + conn.target + ": " + status.error_message();
  }
  return Status::Unavailable("all " + std::to_string(n) + " endpoints failed: " + failures);
}

Result<pb::PutResponse> Client::Put(std::string_view key, std::string_view value,
                                    const PutOptions& options) {
  pb::PutRequest request;
  request.set_key(std::string(key));
  request.set_value(std::string(value));
  request.set_lease(options.lease);
  request.set_prev_kv(options.prev_kv);
  request.set_ignore_value(options.ignore_value);
  request.set_ignore_lease(options.ignore_lease);
  pb::PutResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.kv->Put(&ctx, request, &response);
  }));
  return response;
}

Result<pb::RangeResponse> Client::Get(std::string_view key, const GetOptions& options) {
  pb::RangeRequest request;
  request.set_key(std::string(key));
  request.set_range_end(options.prefix ? PrefixEnd(key) : options.range_end);
  request.set_limit(options.limit);
  request.set_revision(options.revision);
  request.set_serializable(options.serializable);
  request.set_keys_only(options.keys_only);
  request.set_count_only(options.count_only);
  request.set_sort_order(options.sort_order);
  request.set_sort_target(options.sort_target);
  pb::RangeResponse response;
  ASPEN_RETURN_IF_ERROR(Call(true, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.kv->Range(&ctx, request, &response);
  }));
  return response;
}

Result<pb::DeleteRangeResponse> Client::Delete(std::string_view key, const DeleteOptions& options) {
  pb::DeleteRangeRequest request;
  request.set_key(std::string(key));
  request.set_range_end(options.prefix ? PrefixEnd(key) : options.range_end);
  request.set_prev_kv(options.prev_kv);
  pb::DeleteRangeResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.kv->DeleteRange(&ctx, request, &response);
  }));
  return response;
}

Result<pb::TxnResponse> Client::Txn(const pb::TxnRequest& request) {
  pb::TxnResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.kv->Txn(&ctx, request, &response);
  }));
  return response;
}

Result<pb::CompactionResponse> Client::Compact(std::int64_t revision, bool physical) {
  pb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(physical);
  pb::CompactionResponse response;
  ASPEN_RETURN_IF_ERROR(Call(false, [&](Conn& c, grpc::ClientContext& ctx) {
    return c.kv->Compact(&ctx, request, &response);
  }));
  return response;
}

}  // namespace aspen::client
