// Internal helpers of the service implementations (kv_service.cc,
// lease_service.cc, cluster_service.cc): one answered unary call, proposals,
// and reads that wait for the read barrier.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>

#include "aspen/sm/v1/command.pb.h"
#include "server/etcd_errors.h"
#include "server/services.h"

namespace aspen::server::internal {

// A unary call in flight. Copyable; Finish must be called exactly once.
struct Call {
  ServiceEnv* env;
  grpc::ServerUnaryReactor* reactor;
  const char* method;
  std::chrono::steady_clock::time_point start;

  static Call Begin(ServiceEnv* env, grpc::CallbackServerContext* ctx, const char* method) {
    return {env, ctx->DefaultReactor(), method, std::chrono::steady_clock::now()};
  }
  void Finish(const grpc::Status& status) const {
    env->metrics->Record(method, status.error_code(), std::chrono::steady_clock::now() - start);
    reactor->Finish(status);
  }
};

// The Status an applied command's error stands for.
Status ResponseError(const sm::v1::Error& error);

// Proposes `command` (validated first when `validate`) and answers the call:
// with the node's or the state machine's error, or with what `fill` returns
// after it has turned the applied response into the reply.
void ProposeCommand(const Call& call, sm::v1::Command command, bool validate,
                    std::function<grpc::Status(sm::v1::Response&&)> fill);

// False (and the call answered with etcd's "database space exceeded", and a
// NOSPACE alarm raised) when `command` needs space and the state is over the
// quota (maintenance_quota.cc).
bool QuotaAllows(const Call& call, const sm::v1::Command& command);

// Runs `read` on the worker pool: at once when `serializable`, otherwise once
// the node's read barrier has passed. Errors on the way answer the call.
void RunRead(const Call& call, bool serializable, std::function<void()> read);

}  // namespace aspen::server::internal
