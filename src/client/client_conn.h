// Internal to client/: one endpoint's channel and stubs.
#pragma once

#include <grpcpp/channel.h>

#include <memory>
#include <string>

#include "client/client.h"

namespace aspen::client {

struct Client::Conn {
  std::string target;  // "host:port"
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
};

}  // namespace aspen::client
