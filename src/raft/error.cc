#include "raft/error.h"

namespace aspen::raft {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "Ok";
    case ErrorCode::kCompacted: return "Compacted";
    case ErrorCode::kUnavailable: return "Unavailable";
    case ErrorCode::kSnapshotTemporarilyUnavailable: return "SnapshotTemporarilyUnavailable";
    case ErrorCode::kSnapOutOfDate: return "SnapOutOfDate";
    case ErrorCode::kProposalDropped: return "ProposalDropped";
    case ErrorCode::kLimitExceeded: return "LimitExceeded";
    case ErrorCode::kStepLocalMsg: return "StepLocalMsg";
    case ErrorCode::kStepPeerNotFound: return "StepPeerNotFound";
    case ErrorCode::kInvalidArgument: return "InvalidArgument";
    case ErrorCode::kNoLeader: return "NoLeader";
  }
  return "Unknown";
}

std::string Error::ToString() const {
  if (ok()) return "Ok";
  std::string out(ErrorCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

}  // namespace aspen::raft
