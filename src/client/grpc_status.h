// Conversion of gRPC call outcomes into aspen::Status.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "base/status.h"

namespace aspen::client {

// "OK", "NOT_FOUND", "UNAVAILABLE", ... (the names gRPC documents); "UNKNOWN_CODE"
// for values outside the enum.
std::string_view GrpcCodeName(grpc::StatusCode code);

// Maps a gRPC status to aspen::Status. The message is
// "<GRPC_CODE_NAME>: <server message>", so the exact gRPC code is never lost even
// where aspen::Code is coarser. Mapping: INVALID_ARGUMENT->kInvalidArgument,
// NOT_FOUND->kNotFound, ALREADY_EXISTS->kAlreadyExists,
// FAILED_PRECONDITION/PERMISSION_DENIED/UNAUTHENTICATED->kFailedPrecondition,
// OUT_OF_RANGE->kOutOfRange, RESOURCE_EXHAUSTED->kResourceExhausted,
// UNAVAILABLE->kUnavailable, DEADLINE_EXCEEDED->kDeadlineExceeded,
// ABORTED/CANCELLED->kAborted, UNIMPLEMENTED->kUnimplemented, DATA_LOSS->kCorruption,
// UNKNOWN/INTERNAL->kInternal. An ok gRPC status maps to Status::Ok().
Status FromGrpc(const grpc::Status& status);

}  // namespace aspen::client
