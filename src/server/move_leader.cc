// Maintenance.MoveLeader: raft leadership transfer with etcd's errors.
#include <chrono>
#include <thread>

#include "server/call.h"
#include "server/services.h"

namespace aspen::server {

using internal::Call;
namespace epb = ::etcdserverpb;

grpc::ServerUnaryReactor* MaintenanceService::MoveLeader(grpc::CallbackServerContext* ctx,
                                                         const epb::MoveLeaderRequest* req,
                                                         epb::MoveLeaderResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "MoveLeader");
  const node::NodeId target = req->targetid();
  bool voter = false;
  for (const node::Member& m : env_->node->Members()) {
    if (m.id == target && !m.learner) voter = true;
  }
  if (env_->node->GetStatus().role != node::Role::kLeader) {
    call.Finish(etcd::kNotLeader.ToGrpc());
    return call.reactor;
  }
  if (!voter) {
    call.Finish(etcd::kBadLeaderTransferee.ToGrpc());
    return call.reactor;
  }
  auto work = [call, target, resp] {
    node::Node* node = call.env->node;
    // etcd waits up to an election timeout or so; a few seconds here.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    bool asked = false;
    while (std::chrono::steady_clock::now() < deadline) {
      const node::NodeStatus st = node->GetStatus();
      if (st.leader == target) {
        call.env->FillHeader(resp->mutable_header(), st.revision);
        return call.Finish(grpc::Status::OK);
      }
      if (st.role == node::Role::kLeader && !asked) {
        aspen::Status s = node->TransferLeadership(target);
        if (!s.ok()) return call.Finish(etcd::kBadLeaderTransferee.ToGrpc());
        asked = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    call.Finish(etcd::kTimeoutLeaderTransfer.ToGrpc());
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

}  // namespace aspen::server
