#include "server/test_client.h"

#include <thread>

namespace aspen::testing {

std::unique_ptr<client::Client> ClientFor(const std::vector<std::string>& endpoints,
                                          std::chrono::milliseconds call_timeout,
                                          std::chrono::milliseconds dial_timeout) {
  client::ClientOptions o;
  o.endpoints = endpoints;
  o.dial_timeout = dial_timeout;
  o.call_timeout = call_timeout;
  return client::Client::Create(o).value();
}

std::string MemberHex(std::uint64_t id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  do {
    hex.insert(hex.begin(), kDigits[id & 0xf]);
    id >>= 4;
  } while (id != 0);
  return hex;
}

std::uint64_t SelfId(const std::string& endpoint) {
  auto s = ClientFor({endpoint})->EndpointStatus();
  return s.ok() ? s->header().member_id() : 0;
}

bool HasLeader(const std::string& endpoint) {
  auto s = ClientFor({endpoint})->EndpointStatus();
  return s.ok() && s->leader() != 0;
}

std::uint64_t AgreedLeader(const std::vector<std::string>& endpoints, const LeaderPoll& poll) {
  std::uint64_t leader = 0;
  for (const std::string& e : endpoints) {
    auto s = ClientFor({e}, poll.call_timeout, poll.dial_timeout)->EndpointStatus();
    if (!s.ok() || s->leader() == 0) return 0;
    if (leader != 0 && s->leader() != leader) return 0;
    leader = s->leader();
  }
  return leader;
}

std::uint64_t WaitForLeader(const std::vector<std::string>& endpoints,
                            std::chrono::milliseconds timeout, std::uint64_t not_this,
                            const LeaderPoll& poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::uint64_t l = AgreedLeader(endpoints, poll);
    if (l != 0 && l != not_this) return l;
    std::this_thread::sleep_for(poll.every);
  }
  return 0;
}

int IndexOfMember(const std::vector<std::string>& endpoints, std::uint64_t id) {
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    if (id != 0 && SelfId(endpoints[i]) == id) return static_cast<int>(i);
  }
  return -1;
}

ProgramRun RunAspen(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                    const std::string& input) {
  std::vector<std::string> argv = {ASPEN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProgram(argv, input, timeout);
}

}  // namespace aspen::testing
