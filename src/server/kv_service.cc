#include <utility>

#include "server/call.h"
#include "server/convert.h"
#include "sm/reads.h"
#include "sm/validate.h"

namespace aspen::server {

namespace internal {

Status ResponseError(const sm::v1::Error& error) {
  const int c = error.code();
  const bool known = c > 0 && c <= static_cast<int>(Code::kUnimplemented);
  return Status(known ? static_cast<Code>(c) : Code::kInternal, error.message());
}

void ProposeCommand(const Call& call, sm::v1::Command command, bool validate,
                    std::function<grpc::Status(sm::v1::Response&&)> fill) {
  if (validate) {
    if (Status v = sm::Validate(command); !v.ok()) return call.Finish(ToGrpcStatus(v));
  }
  if (!QuotaAllows(call, command)) return;
  call.env->metrics->ProposalStarted();
  call.env->node->Propose(std::move(command),
                          [call, fill = std::move(fill)](Result<sm::v1::Response> r) {
                            call.env->metrics->ProposalDone(r.ok());
                            if (!r.ok()) return call.Finish(ToGrpcStatus(r.status()));
                            if (r->has_error())
                              return call.Finish(ToGrpcStatus(ResponseError(r->error())));
                            call.Finish(fill(std::move(r).value()));
                          });
}

void RunRead(const Call& call, bool serializable, std::function<void()> read) {
  auto submit = [call, read = std::move(read)]() mutable {
    if (!call.env->pool->Submit(std::move(read))) call.Finish(call.env->PoolRefused());
  };
  if (serializable) return submit();
  call.env->node->ReadBarrier([call, submit = std::move(submit)](Status s) mutable {
    if (!s.ok()) return call.Finish(ToGrpcStatus(s));
    submit();
  });
}

}  // namespace internal

using internal::Call;

grpc::Status ServiceEnv::PoolRefused() const {
  return (pool->stopping() ? etcd::kStopped : etcd::kTooManyRequests).ToGrpc();
}

void ServiceEnv::FillHeader(etcdserverpb::ResponseHeader* header, std::int64_t revision) const {
  header->set_cluster_id(cluster_id);
  header->set_member_id(member_id);
  header->set_revision(revision);
  header->set_raft_term(node->GetStatus().term);
}

std::string ServiceEnv::PeerTarget(node::NodeId id) const {
  for (const node::Member& m : node->Members()) {
    if (m.id == id) return UrlToTarget(m.peer_address);
  }
  return "";
}

grpc::ServerUnaryReactor* KvService::Range(grpc::CallbackServerContext* ctx,
                                           const etcdserverpb::RangeRequest* req,
                                           etcdserverpb::RangeResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Range");
  sm::v1::RangeRequest r = ToSm(*req);
  if (Status v = sm::ValidateRange(r); !v.ok()) {
    call.Finish(ToGrpcStatus(v));
    return call.reactor;
  }
  internal::RunRead(call, req->serializable(), [call, r = std::move(r), resp] {
    std::unique_ptr<storage::Snapshot> snap = call.env->node->GetSnapshot();
    Result<sm::v1::RangeResponse> out = sm::Range(*snap, r, call.env->node->NowMs());
    if (!out.ok()) return call.Finish(ToGrpcStatus(out.status()));
    const std::int64_t revision = out->header().revision();
    FromSm(std::move(out).value(), resp);
    call.env->FillHeader(resp->mutable_header(), revision);
    call.Finish(grpc::Status::OK);
  });
  return call.reactor;
}

grpc::ServerUnaryReactor* KvService::Put(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::PutRequest* req,
                                         etcdserverpb::PutResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Put");
  sm::v1::Command c;
  *c.mutable_put() = ToSm(*req);
  internal::ProposeCommand(call, std::move(c), true, [env = env_, resp](sm::v1::Response&& r) {
    FromSm(std::move(*r.mutable_put()), resp);
    env->FillHeader(resp->mutable_header(), resp->header().revision());
    return grpc::Status::OK;
  });
  return call.reactor;
}

grpc::ServerUnaryReactor* KvService::DeleteRange(grpc::CallbackServerContext* ctx,
                                                 const etcdserverpb::DeleteRangeRequest* req,
                                                 etcdserverpb::DeleteRangeResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "DeleteRange");
  sm::v1::Command c;
  *c.mutable_delete_range() = ToSm(*req);
  internal::ProposeCommand(call, std::move(c), true, [env = env_, resp](sm::v1::Response&& r) {
    FromSm(std::move(*r.mutable_delete_range()), resp);
    env->FillHeader(resp->mutable_header(), resp->header().revision());
    return grpc::Status::OK;
  });
  return call.reactor;
}

grpc::ServerUnaryReactor* KvService::Txn(grpc::CallbackServerContext* ctx,
                                         const etcdserverpb::TxnRequest* req,
                                         etcdserverpb::TxnResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Txn");
  sm::v1::Command c;
  *c.mutable_txn() = ToSm(*req);
  internal::ProposeCommand(call, std::move(c), true, [env = env_, resp](sm::v1::Response&& r) {
    FromSm(std::move(*r.mutable_txn()), resp);
    env->FillHeader(resp->mutable_header(), resp->header().revision());
    return grpc::Status::OK;
  });
  return call.reactor;
}

grpc::ServerUnaryReactor* KvService::Compact(grpc::CallbackServerContext* ctx,
                                             const etcdserverpb::CompactionRequest* req,
                                             etcdserverpb::CompactionResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Compact");
  sm::v1::Command c;
  c.mutable_compact()->set_revision(req->revision());
  c.mutable_compact()->set_physical(req->physical());
  const std::int64_t revision = req->revision();
  const bool physical = req->physical();
  call.env->metrics->ProposalStarted();
  call.env->node->Propose(
      std::move(c), [call, resp, revision, physical](Result<sm::v1::Response> r) {
        call.env->metrics->ProposalDone(r.ok());
        if (!r.ok()) return call.Finish(ToGrpcStatus(r.status()));
        if (r->has_error()) return call.Finish(ToGrpcStatus(internal::ResponseError(r->error())));
        call.env->FillHeader(resp->mutable_header(), r->compact().header().revision());
        if (!physical || call.env->watch_hub == nullptr) return call.Finish(grpc::Status::OK);
        call.env->watch_hub->WhenCompacted(revision, [call](Status s) {
          call.Finish(s.ok() ? grpc::Status::OK : ToGrpcStatus(s));
        });
      });
  return call.reactor;
}

}  // namespace aspen::server
