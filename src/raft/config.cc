#include "raft/config.h"

#include <string>

namespace aspen::raft {

Error Config::Validate() const {
  auto invalid = [](const std::string& why) { return Error(ErrorCode::kInvalidArgument, why); };
  if (id == kNone) return invalid("config: id must not be 0 (0 means none)");
  if (heartbeat_tick <= 0) return invalid("config: heartbeat_tick must be > 0");
  if (election_tick <= heartbeat_tick) {
    return invalid("config: election_tick must be greater than heartbeat_tick");
  }
  if (election_tick > kMaxElectionTick) {
    return invalid("config: election_tick must be <= " + std::to_string(kMaxElectionTick));
  }
  if (storage == nullptr) return invalid("config: storage is required");
  if (max_size_per_msg == 0) return invalid("config: max_size_per_msg must be > 0");
  if (max_committed_size_per_ready == 0) {
    return invalid("config: max_committed_size_per_ready must be > 0");
  }
  if (max_inflight_msgs == 0) return invalid("config: max_inflight_msgs must be > 0");
  if (max_inflight_bytes != 0 && max_inflight_bytes < max_size_per_msg) {
    return invalid("config: max_inflight_bytes must be >= max_size_per_msg (or 0)");
  }
  if (max_pending_read_requests == 0) {
    return invalid("config: max_pending_read_requests must be > 0");
  }
  if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return invalid("config: lease-based reads require check_quorum");
  }
  return Error::Ok();
}

}  // namespace aspen::raft
