// Client-side helpers shared by the process tests (tests/server, tests/cli):
// a client with short timeouts, member ids, the leader the members agree on,
// and the `aspen` binary run as a user would.
//
// Thread safety: each call builds its own client; safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "server/serve_process.h"

namespace aspen::testing {

// A client over `endpoints` with short timeouts, so a test waits on a dead
// member no longer than it must.
std::unique_ptr<client::Client> ClientFor(
    const std::vector<std::string>& endpoints,
    std::chrono::milliseconds call_timeout = std::chrono::seconds(3),
    std::chrono::milliseconds dial_timeout = std::chrono::milliseconds(500));

// A member id as etcdctl prints it: lowercase hex, not padded.
std::string MemberHex(std::uint64_t id);

// The member id `endpoint` reports in Maintenance.Status; 0 when it does not
// answer.
std::uint64_t SelfId(const std::string& endpoint);

// How leader polls ask each member (Maintenance.Status) and how often.
struct LeaderPoll {
  std::chrono::milliseconds call_timeout{3000};
  std::chrono::milliseconds dial_timeout{500};
  std::chrono::milliseconds every{50};
};

// Whether `endpoint` answers and names a leader.
bool HasLeader(const std::string& endpoint);

// The leader every one of `endpoints` names, or 0 (one did not answer, names
// none, or they disagree).
std::uint64_t AgreedLeader(const std::vector<std::string>& endpoints,
                           const LeaderPoll& poll = LeaderPoll());

// Polls AgreedLeader until it names a leader other than `not_this`; 0 when
// `timeout` passes first.
std::uint64_t WaitForLeader(const std::vector<std::string>& endpoints,
                            std::chrono::milliseconds timeout, std::uint64_t not_this = 0,
                            const LeaderPoll& poll = LeaderPoll());

// The index in `endpoints` of the member whose id is `id`; -1 when none
// answers with it.
int IndexOfMember(const std::vector<std::string>& endpoints, std::uint64_t id);

// `aspen args...` (the binary the tests were built with, ASPEN_BINARY).
ProgramRun RunAspen(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60),
                    const std::string& input = "");

}  // namespace aspen::testing
