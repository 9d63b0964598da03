// Maintenance: Status, Hash, HashKV, Alarm, Defragment (the Snapshot stream
// is in maintenance_snapshot.cc, the quota in maintenance_quota.cc).
#include <openssl/evp.h>

#include <memory>
#include <string>

#include "server/call.h"
#include "sm/alarm.h"
#include "sm/reads.h"
#include "storage/snapshot.h"

namespace aspen::server {

using internal::Call;
namespace epb = ::etcdserverpb;

namespace {

// etcd prints an AlarmMember with protobuf's compact text format.
std::string AlarmText(const sm::v1::AlarmMember& m) {
  return "memberID:" + std::to_string(m.member_id()) +
         " alarm:" + epb::AlarmType_Name(static_cast<epb::AlarmType>(m.alarm())) + " ";
}

// SHA-256 over every state CF's rows (CF name, then length-prefixed key and
// value), first 4 bytes big-endian.
Result<std::uint32_t> HashState(const storage::Snapshot& snapshot) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  ASPEN_ASSERT(ctx != nullptr);
  ASPEN_ASSERT(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  std::string frame;
  for (storage::Cf cf : storage::StateCfs()) {
    const std::string_view name = storage::CfName(cf);
    ASPEN_ASSERT(EVP_DigestUpdate(ctx.get(), name.data(), name.size()) == 1);
    auto it = snapshot.NewIterator(cf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      frame.clear();
      for (std::string_view part : {it->key(), it->value()}) {
        const auto n = static_cast<std::uint32_t>(part.size());
        for (int shift = 24; shift >= 0; shift -= 8) frame.push_back(static_cast<char>(n >> shift));
        frame.append(part);
      }
      ASPEN_ASSERT(EVP_DigestUpdate(ctx.get(), frame.data(), frame.size()) == 1);
    }
    ASPEN_RETURN_IF_ERROR(it->status());
  }
  unsigned char sha[32];
  unsigned int len = 0;
  ASPEN_ASSERT(EVP_DigestFinal_ex(ctx.get(), sha, &len) == 1 && len == 32);
  return (std::uint32_t{sha[0]} << 24) | (std::uint32_t{sha[1]} << 16) |
         (std::uint32_t{sha[2]} << 8) | std::uint32_t{sha[3]};
}

void FillAlarms(const google::protobuf::RepeatedPtrField<sm::v1::AlarmMember>& in,
                epb::AlarmResponse* out) {
  for (const sm::v1::AlarmMember& m : in) {
    epb::AlarmMember* a = out->add_alarms();
    a->set_memberid(m.member_id());
    a->set_alarm(static_cast<epb::AlarmType>(m.alarm()));
  }
}

}  // namespace

grpc::ServerUnaryReactor* MaintenanceService::Status(grpc::CallbackServerContext* ctx,
                                                     const epb::StatusRequest* /*req*/,
                                                     epb::StatusResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Status");
  auto work = [call, resp] {
    ServiceEnv* env = call.env;
    const node::NodeStatus st = env->node->GetStatus();
    resp->set_version(kEtcdApiVersion);
    const std::int64_t db = env->db_size_bytes ? env->db_size_bytes() : 0;
    resp->set_dbsize(db);
    std::int64_t in_use = db;
    if (env->state_bytes) {
      Result<std::uint64_t> b = env->state_bytes();
      if (b.ok()) in_use = static_cast<std::int64_t>(*b);
    }
    resp->set_dbsizeinuse(in_use);
    resp->set_leader(st.leader);
    resp->set_raftindex(st.commit_index);
    resp->set_raftterm(st.term);
    resp->set_raftappliedindex(st.applied_index);
    for (const node::Member& m : env->node->Members()) {
      if (m.id == env->member_id) resp->set_islearner(m.learner);
    }
    if (st.leader == 0) resp->add_errors(std::string(etcd::kNoLeader.message));
    Result<std::vector<sm::v1::AlarmMember>> alarms = sm::Alarms(*env->node->GetSnapshot());
    if (!alarms.ok()) return call.Finish(ToGrpcStatus(alarms.status()));
    for (const sm::v1::AlarmMember& m : *alarms) resp->add_errors(AlarmText(m));
    env->FillHeader(resp->mutable_header(), st.revision);
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Hash(grpc::CallbackServerContext* ctx,
                                                   const epb::HashRequest* /*req*/,
                                                   epb::HashResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Hash");
  auto work = [call, resp] {
    std::unique_ptr<storage::Snapshot> snap = call.env->node->GetSnapshot();
    Result<sm::AppliedState> st = sm::ReadAppliedState(*snap);
    if (!st.ok()) return call.Finish(ToGrpcStatus(st.status()));
    Result<std::uint32_t> h = HashState(*snap);
    if (!h.ok()) return call.Finish(ToGrpcStatus(h.status()));
    resp->set_hash(*h);
    call.env->FillHeader(resp->mutable_header(), st->revision);
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::HashKV(grpc::CallbackServerContext* ctx,
                                                     const epb::HashKVRequest* req,
                                                     epb::HashKVResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "HashKV");
  const std::int64_t revision = req->revision();
  auto work = [call, revision, resp] {
    std::unique_ptr<storage::Snapshot> snap = call.env->node->GetSnapshot();
    Result<sm::KvHashAt> h = sm::HashKVAt(*snap, revision);
    if (!h.ok()) {
      if (h.status().code() == Code::kOutOfRange) {
        const bool future = h.status().message().find("future") != std::string::npos;
        return call.Finish((future ? etcd::kFutureRev : etcd::kCompacted).ToGrpc());
      }
      return call.Finish(ToGrpcStatus(h.status()));
    }
    Result<sm::AppliedState> st = sm::ReadAppliedState(*snap);
    if (!st.ok()) return call.Finish(ToGrpcStatus(st.status()));
    resp->set_hash(h->hash.hash32);
    resp->set_compact_revision(h->compact_revision);
    call.env->FillHeader(resp->mutable_header(), st->revision);
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Alarm(grpc::CallbackServerContext* ctx,
                                                    const epb::AlarmRequest* req,
                                                    epb::AlarmResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Alarm");
  if (req->action() == epb::AlarmRequest::GET) {
    const auto only = static_cast<sm::v1::AlarmType>(req->alarm());
    internal::RunRead(call, /*serializable=*/false, [call, only, resp] {
      std::unique_ptr<storage::Snapshot> snap = call.env->node->GetSnapshot();
      Result<sm::AppliedState> st = sm::ReadAppliedState(*snap);
      if (!st.ok()) return call.Finish(ToGrpcStatus(st.status()));
      Result<std::vector<sm::v1::AlarmMember>> alarms = sm::Alarms(*snap, only);
      if (!alarms.ok()) return call.Finish(ToGrpcStatus(alarms.status()));
      google::protobuf::RepeatedPtrField<sm::v1::AlarmMember> list(alarms->begin(), alarms->end());
      FillAlarms(list, resp);
      call.env->FillHeader(resp->mutable_header(), st->revision);
      call.Finish(grpc::Status::OK);
    });
    return call.reactor;
  }
  // etcd answers a DEACTIVATE of an alarm nobody raised (member 0, type NONE)
  // with an empty list, without touching its state.
  if (req->action() == epb::AlarmRequest::DEACTIVATE &&
      (req->memberid() == 0 || req->alarm() == epb::NONE)) {
    env_->FillHeader(resp->mutable_header(), env_->node->GetStatus().revision);
    call.Finish(grpc::Status::OK);
    return call.reactor;
  }
  sm::v1::Command c;
  c.mutable_alarm()->set_action(static_cast<sm::v1::AlarmRequest::AlarmAction>(req->action()));
  c.mutable_alarm()->set_member_id(req->memberid());
  c.mutable_alarm()->set_alarm(static_cast<sm::v1::AlarmType>(req->alarm()));
  internal::ProposeCommand(call, std::move(c), true, [env = env_, resp](sm::v1::Response&& r) {
    FillAlarms(r.alarm().alarms(), resp);
    env->FillHeader(resp->mutable_header(), r.alarm().header().revision());
    return grpc::Status::OK;
  });
  return call.reactor;
}

grpc::ServerUnaryReactor* MaintenanceService::Defragment(grpc::CallbackServerContext* ctx,
                                                         const epb::DefragmentRequest* /*req*/,
                                                         epb::DefragmentResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "Defragment");
  auto work = [call, resp] {
    if (!call.env->defragment) {
      return call.Finish(ToGrpcStatus(Status::Unimplemented("defragment: no store")));
    }
    if (aspen::Status s = call.env->defragment(); !s.ok()) {
      return call.Finish(ToGrpcStatus(s));
    }
    call.env->FillHeader(resp->mutable_header(), call.env->node->GetStatus().revision);
    call.Finish(grpc::Status::OK);
  };
  if (!env_->pool->Submit(std::move(work))) call.Finish(env_->PoolRefused());
  return call.reactor;
}

}  // namespace aspen::server
