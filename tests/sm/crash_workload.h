// The workload of the state machine's crash test, shared by the child
// (sm_crash_child) and the parent (sm_crash_process_test): entry i is a
// deterministic command, so the parent can rebuild the expected state by
// replaying the log into a fresh state machine.
#pragma once

#include <cstdint>
#include <string>

#include "aspen/sm/v1/command.pb.h"

namespace aspen::sm::testing {

inline constexpr int kCrashKeys = 40;

inline std::string CrashKey(std::uint64_t i) {
  return "key/" + std::to_string(i % kCrashKeys);
}

// Mostly puts over a small key set (so versions grow), every 9th entry a
// delete, every 13th a CAS transaction; time is fixed (no TTL).
inline std::string CrashCommand(std::uint64_t i) {
  v1::Command cmd;
  cmd.set_now_ms(1'700'000'000'000);
  if (i % 9 == 0) {
    cmd.mutable_delete_range()->set_key(CrashKey(i + 1));
  } else if (i % 13 == 0) {
    v1::TxnRequest* txn = cmd.mutable_txn();
    v1::Compare* cmp = txn->add_compare();
    cmp->set_key(CrashKey(i));
    cmp->set_target(v1::Compare::VERSION);
    cmp->set_result(v1::Compare::GREATER);
    cmp->set_version(0);
    v1::PutRequest* put = txn->add_success()->mutable_request_put();
    put->set_key(CrashKey(i));
    put->set_value("cas " + std::to_string(i));
  } else {
    v1::PutRequest* put = cmd.mutable_put();
    put->set_key(CrashKey(i));
    put->set_value("value " + std::to_string(i));
  }
  return cmd.SerializeAsString();
}

}  // namespace aspen::sm::testing
