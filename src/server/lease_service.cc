#include <chrono>
#include <memory>
#include <mutex>
#include <utility>

#include "server/call.h"
#include "server/convert.h"
#include "sm/reads.h"
#include "sm/validate.h"

namespace aspen::server {

using internal::Call;
namespace epb = ::etcdserverpb;

grpc::ServerUnaryReactor* LeaseService::LeaseGrant(grpc::CallbackServerContext* ctx,
                                                   const epb::LeaseGrantRequest* req,
                                                   epb::LeaseGrantResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "LeaseGrant");
  sm::v1::Command c;
  sm::v1::LeaseGrantRequest* g = c.mutable_lease_grant();
  *g = ToSm(*req);
  // etcd raises a TTL below its minimum to the minimum (a too large one is
  // refused by the state machine with "too large lease TTL").
  if (g->ttl() < env_->min_lease_ttl_s) g->set_ttl(env_->min_lease_ttl_s);
  // Not validated here: the node picks the id of a grant with ID 0, and the
  // state machine validates the command when it applies it.
  internal::ProposeCommand(call, std::move(c), false, [env = env_, resp](sm::v1::Response&& r) {
    FromSm(std::move(*r.mutable_lease_grant()), resp);
    env->FillHeader(resp->mutable_header(), resp->header().revision());
    return grpc::Status::OK;
  });
  return call.reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseRevoke(grpc::CallbackServerContext* ctx,
                                                    const epb::LeaseRevokeRequest* req,
                                                    epb::LeaseRevokeResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "LeaseRevoke");
  sm::v1::Command c;
  *c.mutable_lease_revoke() = ToSm(*req);
  internal::ProposeCommand(call, std::move(c), true, [env = env_, resp](sm::v1::Response&& r) {
    FromSm(std::move(*r.mutable_lease_revoke()), resp);
    env->FillHeader(resp->mutable_header(), resp->header().revision());
    return grpc::Status::OK;
  });
  return call.reactor;
}

void LeaseService::ForwardKeepAlive(std::int64_t id, KeepAliveDone done) {
  epb::LeaseKeepAliveResponse resp;
  resp.set_id(id);
  const node::NodeStatus st = env_->node->GetStatus();
  env_->FillHeader(resp.mutable_header(), st.revision);
  // Leader again since the caller saw it step down: the client retries.
  if (st.role == node::Role::kLeader) return done(etcd::kLeaderChanged.ToGrpc(), std::move(resp));
  if (st.leader == 0) return done(etcd::kNoLeader.ToGrpc(), std::move(resp));
  const std::string target = env_->PeerTarget(st.leader);
  if (target.empty()) return done(etcd::kNoLeader.ToGrpc(), std::move(resp));
  env_->peers->LeaseKeepAliveAsync(
      target, id,
      [resp = std::move(resp), done = std::move(done)](const grpc::Status& s,
                                                       const peer::v1::LeaseReply& reply) mutable {
        if (s.error_code() == grpc::StatusCode::NOT_FOUND) {
          return done(grpc::Status::OK, std::move(resp));  // TTL 0
        }
        if (s.ok()) resp.set_ttl(reply.remaining_ttl());
        done(s, std::move(resp));
      });
}

namespace {

// True for node::Node's Unavailable "not leader (leader is N)": this member
// stepped down while the call waited; the forward path takes over.
bool SteppedDown(const Status& s) {
  return s.code() == Code::kUnavailable && s.message().starts_with("not leader");
}

// One keep-alive stream: read a request, renew, write the answer, read the
// next. On the leader the renewal is Node::KeepAlive's callback form: it may
// wait (an expired lease's revocation, the leader's lease takeover) without
// holding any thread; a follower forwards it to the leader with an
// asynchronous peer call, holding no thread either (a leader that waits would
// otherwise hold one of the few workers the follower's reads need). Deletes
// itself when done. Stopping the server ends it with "server stopped" (at
// once while it waits for a request, else once the renewal in flight is
// answered: the node answers waiting calls "node stopped" when it stops, and
// the peer client cancels forwarded calls).
class KeepAliveReactor;

struct KeepAliveHandle {
  std::mutex mu;
  KeepAliveReactor* reactor = nullptr;  // guarded by mu; nullptr once done
};

class KeepAliveReactor final
    : public grpc::ServerBidiReactor<epb::LeaseKeepAliveRequest, epb::LeaseKeepAliveResponse> {
 public:
  KeepAliveReactor(LeaseService* service, ServiceEnv* env)
      : service_(service), env_(env), handle_(std::make_shared<KeepAliveHandle>()) {
    handle_->reactor = this;
    StartRead(&request_);
    open_id_ = env_->open_streams.Add([h = handle_] {
      std::lock_guard lock(h->mu);
      if (h->reactor != nullptr) h->reactor->EndForStop();
    });
  }

  void OnReadDone(bool ok) override {
    std::int64_t id = 0;
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      if (!ok) return FinishLocked(grpc::Status::OK);  // the client closed its side
      id = request_.id();
      busy_ = true;
    }
    // No lock held: the node may answer inline.
    Renew(id, std::chrono::steady_clock::now());
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    busy_ = false;
    if (!ok) {
      return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "keep-alive stream closed"));
    }
    if (stopping_) return FinishLocked(etcd::kStopped.ToGrpc());
    StartRead(&request_);
  }

  void OnDone() override {
    {
      std::lock_guard lock(handle_->mu);
      handle_->reactor = nullptr;
    }
    env_->open_streams.Remove(open_id_);
    delete this;
  }

  // The server is stopping (under handle_->mu).
  void EndForStop() {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (!busy_) FinishLocked(etcd::kStopped.ToGrpc());
  }

 private:
  using Clock = std::chrono::steady_clock;

  // While busy_: this object lives until Answer (nothing else finishes it).
  void Renew(std::int64_t id, Clock::time_point start) {
    const node::NodeStatus st = env_->node->GetStatus();
    if (st.role != node::Role::kLeader) return Forward(id, start);
    // The header is taken before the renewal, as etcd does: a lease revoked at
    // revision R is never reported renewed at a revision above R.
    env_->node->KeepAlive(id, [this, id, start, revision = st.revision](Result<std::int64_t> r) {
      // Answered on the Ready loop's thread: the forward starts elsewhere.
      if (!r.ok() && SteppedDown(r.status())) {
        if (!env_->pool->Submit([this, id, start] { Forward(id, start); })) {
          Answer(env_->PoolRefused(), {}, start);
        }
        return;
      }
      epb::LeaseKeepAliveResponse resp;
      resp.set_id(id);
      env_->FillHeader(resp.mutable_header(), revision);
      grpc::Status s = grpc::Status::OK;
      if (r.ok()) {
        resp.set_ttl(*r);
      } else if (r.status().code() != Code::kNotFound) {  // not found: TTL 0, as etcd
        s = ToGrpcStatus(r.status());
      }
      Answer(s, std::move(resp), start);
    });
  }

  void Forward(std::int64_t id, Clock::time_point start) {
    service_->ForwardKeepAlive(
        id, [this, start](const grpc::Status& s, epb::LeaseKeepAliveResponse resp) {
          Answer(s, std::move(resp), start);
        });
  }

  void Answer(const grpc::Status& s, epb::LeaseKeepAliveResponse resp, Clock::time_point start) {
    env_->metrics->Record("LeaseKeepAlive", s.error_code(), Clock::now() - start);
    std::lock_guard lock(mu_);
    if (!s.ok()) return FinishLocked(s);
    response_ = std::move(resp);
    StartWrite(&response_);
  }

  void FinishLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  LeaseService* const service_;
  ServiceEnv* const env_;
  std::shared_ptr<KeepAliveHandle> handle_;
  std::uint64_t open_id_ = 0;  // in env_->open_streams
  epb::LeaseKeepAliveRequest request_;
  epb::LeaseKeepAliveResponse response_;
  std::mutex mu_;
  bool busy_ = false;  // guarded by mu_: a renewal or its answer is in flight
  bool stopping_ = false;
  bool finished_ = false;
};

// The rest of a LeaseTimeToLive once the leader's answer is known (granted,
// remaining; remaining -1: no such lease), on the worker pool: the attached
// keys come from a store read.
void FinishTimeToLive(const internal::Call& call, std::int64_t id, bool keys,
                      epb::LeaseTimeToLiveResponse* resp, std::int64_t granted,
                      std::int64_t remaining) {
  ServiceEnv* env = call.env;
  resp->set_ttl(remaining);
  resp->set_grantedttl(granted);
  if (keys && remaining >= 0) {
    std::unique_ptr<storage::Snapshot> snap = env->node->GetSnapshot();
    Result<sm::LeaseInfo> info = sm::LeaseTimeToLive(*snap, id, env->node->NowMs());
    if (info.ok()) {
      for (std::string& k : info->keys) resp->add_keys(std::move(k));
    } else if (info.status().code() != Code::kNotFound) {
      return call.Finish(ToGrpcStatus(info.status()));
    }
  }
  call.Finish(grpc::Status::OK);
}

void SubmitOrRefuse(const internal::Call& call, std::function<void()> work) {
  if (!call.env->pool->Submit(std::move(work))) call.Finish(call.env->PoolRefused());
}

// A follower's LeaseTimeToLive: asks the leader over the peer port, holding
// no thread while it answers; the rest runs on the worker pool.
void ForwardTimeToLive(const internal::Call& call, std::int64_t id, bool keys,
                       epb::LeaseTimeToLiveResponse* resp) {
  ServiceEnv* env = call.env;
  const node::NodeStatus st = env->node->GetStatus();
  resp->set_id(id);
  env->FillHeader(resp->mutable_header(), st.revision);
  if (st.role == node::Role::kLeader) return call.Finish(etcd::kLeaderChanged.ToGrpc());
  const std::string target = st.leader == 0 ? "" : env->PeerTarget(st.leader);
  if (target.empty()) return call.Finish(etcd::kNoLeader.ToGrpc());
  env->peers->LeaseTimeToLiveAsync(
      target, id, [call, id, keys, resp](const grpc::Status& s, const peer::v1::LeaseReply& reply) {
        if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) return call.Finish(s);
        const std::int64_t granted = s.ok() ? reply.granted_ttl() : 0;
        const std::int64_t remaining = s.ok() ? reply.remaining_ttl() : -1;
        SubmitOrRefuse(call, [call, id, keys, resp, granted, remaining] {
          FinishTimeToLive(call, id, keys, resp, granted, remaining);
        });
      });
}

}  // namespace

grpc::ServerBidiReactor<epb::LeaseKeepAliveRequest, epb::LeaseKeepAliveResponse>*
LeaseService::LeaseKeepAlive(grpc::CallbackServerContext* /*ctx*/) {
  return new KeepAliveReactor(this, env_);
}

grpc::ServerUnaryReactor* LeaseService::LeaseTimeToLive(grpc::CallbackServerContext* ctx,
                                                        const epb::LeaseTimeToLiveRequest* req,
                                                        epb::LeaseTimeToLiveResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "LeaseTimeToLive");
  const std::int64_t id = req->id();
  const bool keys = req->keys();
  auto work = [call, id, keys, resp] {
    ServiceEnv* env = call.env;
    const node::NodeStatus st = env->node->GetStatus();
    if (st.role != node::Role::kLeader) return ForwardTimeToLive(call, id, keys, resp);
    resp->set_id(id);
    env->FillHeader(resp->mutable_header(), st.revision);
    // May wait for the leader's lease takeover, holding no thread.
    env->node->LeaseTimeToLive(id, [call, id, keys, resp](Result<node::LeaseStatus> ls) {
      if (!ls.ok() && SteppedDown(ls.status())) {
        return SubmitOrRefuse(call,
                              [call, id, keys, resp] { ForwardTimeToLive(call, id, keys, resp); });
      }
      if (!ls.ok() && ls.status().code() != Code::kNotFound) {
        return call.Finish(ToGrpcStatus(ls.status()));
      }
      const std::int64_t granted = ls.ok() ? ls->granted_ttl_s : 0;
      const std::int64_t remaining = ls.ok() ? ls->remaining_ttl_s : -1;
      SubmitOrRefuse(call, [call, id, keys, resp, granted, remaining] {
        FinishTimeToLive(call, id, keys, resp, granted, remaining);
      });
    });
  };
  // A read barrier first: a revoke (or grant, or put with the lease)
  // acknowledged through another member before this call is applied here
  // before the lessor and the attached keys are read. A follower applies an
  // entry as soon as it learns the commit, which can be before the leader
  // does; without the barrier a session's lease answered alive right after
  // its Close (seen with clientv3 on a 3-node cluster, tests/goclient).
  internal::RunRead(call, /*serializable=*/false, std::move(work));
  return call.reactor;
}

grpc::ServerUnaryReactor* LeaseService::LeaseLeases(grpc::CallbackServerContext* ctx,
                                                    const epb::LeaseLeasesRequest* /*req*/,
                                                    epb::LeaseLeasesResponse* resp) {
  const Call call = Call::Begin(env_, ctx, "LeaseLeases");
  internal::RunRead(call, false, [call, resp] {
    std::unique_ptr<storage::Snapshot> snap = call.env->node->GetSnapshot();
    Result<std::vector<sm::LeaseInfo>> leases = sm::Leases(*snap);
    if (!leases.ok()) return call.Finish(ToGrpcStatus(leases.status()));
    Result<sm::AppliedState> st = sm::ReadAppliedState(*snap);
    if (!st.ok()) return call.Finish(ToGrpcStatus(st.status()));
    for (const sm::LeaseInfo& l : *leases) resp->add_leases()->set_id(l.id);
    call.env->FillHeader(resp->mutable_header(), st->revision);
    call.Finish(grpc::Status::OK);
  });
  return call.reactor;
}

}  // namespace aspen::server
