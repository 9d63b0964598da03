#include "cli/common.h"

#include <charconv>
#include <cmath>
#include <iostream>

#include "client/endpoints.h"

namespace aspen::cli {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk: return kExitOk;
    case Code::kNotFound: return kExitNegative;
    case Code::kUnavailable:
    case Code::kDeadlineExceeded: return kExitUnavailable;
    default: return kExitError;
  }
}

void AddEndpointFlags(CLI::App* cmd, ClientFlags& f, const std::vector<std::string>& outputs) {
  cmd->add_option("--endpoints", f.endpoints,
                  "Comma-separated host:port list (or env ASPEN_ENDPOINTS)")
      ->envname("ASPEN_ENDPOINTS")
      ->capture_default_str();
  cmd->add_option("--dial-timeout", f.dial_timeout, "Connect timeout per endpoint (e.g. 2s)")
      ->capture_default_str();
  std::string choices;
  for (const std::string& o : outputs) choices += (choices.empty() ? "" : "|") + o;
  CLI::Option* output =
      cmd->add_option("-o,--output", f.output, choices.empty() ? "output format" : choices)
          ->capture_default_str();
  if (!outputs.empty()) output->check(CLI::IsMember(outputs));
}

void AddClientFlags(CLI::App* cmd, ClientFlags& f, const std::vector<std::string>& outputs) {
  AddEndpointFlags(cmd, f, outputs);
  cmd->add_option("--command-timeout", f.command_timeout, "Deadline per request (e.g. 5s)")
      ->capture_default_str();
}

bool CommandTimeoutGiven(const CLI::App& cmd) {
  const CLI::Option* o = cmd.get_option_no_throw("--command-timeout");
  return o != nullptr && o->count() > 0;
}

Result<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  const std::string shown(text);
  double number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, number);
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  double ms = -1;
  if (ec == std::errc() && std::isfinite(number)) {
    if (unit == "ms") ms = number;
    if (unit == "s") ms = number * 1000;
    if (unit == "m") ms = number * 60'000;
  }
  if (ms < 1 || ms > 600'000) {
    return Status::InvalidArgument("duration '" + shown +
                                   "' must be a number with unit ms, s or m, between 1ms and 10m");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

Result<client::ClientOptions> OptionsFrom(const ClientFlags& flags) {
  client::ClientOptions options;
  Result<std::vector<std::string>> endpoints = client::ParseEndpointList(flags.endpoints);
  if (!endpoints.ok()) {
    return Status::InvalidArgument("--endpoints: " + endpoints.status().message());
  }
  options.endpoints = std::move(endpoints).value();
  Result<std::chrono::milliseconds> dial = ParseDuration(flags.dial_timeout);
  if (!dial.ok()) return Status::InvalidArgument("--dial-timeout: " + dial.status().message());
  Result<std::chrono::milliseconds> call = ParseDuration(flags.command_timeout);
  if (!call.ok()) return Status::InvalidArgument("--command-timeout: " + call.status().message());
  options.dial_timeout = *dial;
  options.call_timeout = *call;
  return options;
}

std::unique_ptr<client::Client> Connect(std::string_view command, const ClientFlags& flags) {
  Result<client::ClientOptions> options = OptionsFrom(flags);
  if (!options.ok()) {
    UsageError(command, options.status().message());
    return nullptr;
  }
  Result<std::unique_ptr<client::Client>> created =
      client::Client::Create(std::move(options).value());
  if (!created.ok()) {
    UsageError(command, created.status().message());
    return nullptr;
  }
  return std::move(created).value();
}

int Fail(std::string_view command, const Status& status) {
  std::cerr << "aspen " << command << ": " << status.message() << "\n";
  return ExitCodeFor(status);
}

int UsageError(std::string_view command, std::string_view message) {
  std::cerr << "aspen " << command << ": " << message << "\n";
  return kExitError;
}

void PrintJson(const Json& doc) {
  std::cout << doc.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
}

namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(chunk >> 18) & 63]);
    out.push_back(kAlphabet[(chunk >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=');
    out.push_back(i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return Status::InvalidArgument("base64 length " + std::to_string(text.size()) +
                                   " is not a multiple of 4");
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t chunk = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      std::uint32_t v = 0;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++pad;
      } else {
        const char* at = std::char_traits<char>::find(kAlphabet, 64, c);
        if (at == nullptr || pad > 0) {
          return Status::InvalidArgument("bad base64 character at offset " + std::to_string(i + j));
        }
        v = static_cast<std::uint32_t>(at - kAlphabet);
      }
      chunk = (chunk << 6) | v;
    }
    out.push_back(static_cast<char>((chunk >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((chunk >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(chunk & 0xff));
  }
  return out;
}

Json HeaderJson(const pb::ResponseHeader& h) {
  return {{"cluster_id", h.cluster_id()},
          {"member_id", h.member_id()},
          {"revision", h.revision()},
          {"raft_term", h.raft_term()}};
}

Json KvJson(const mvccpb::KeyValue& kv) {
  Json j = {{"key", Base64(kv.key())},
            {"create_revision", kv.create_revision()},
            {"mod_revision", kv.mod_revision()},
            {"version", kv.version()}};
  if (!kv.value().empty()) j["value"] = Base64(kv.value());
  if (kv.lease() != 0) j["lease"] = kv.lease();
  return j;
}

std::string LeaseHex(std::int64_t id) {
  char buf[32];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<std::uint64_t>(id), 16);
  std::string hex(buf, ptr);
  if (hex.size() < 16) hex.insert(0, 16 - hex.size(), '0');  // etcdctl's %016x
  return hex;
}

Result<std::int64_t> ParseLeaseHex(std::string_view text) {
  std::uint64_t id = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id, 16);
  if (text.empty() || ec != std::errc() || ptr != end || id == 0 || id > INT64_MAX) {
    return Status::InvalidArgument(
        "lease ID must be non-zero hexadecimal (as etcdctl prints it), "
        "got '" +
        std::string(text) + "'");
  }
  return static_cast<std::int64_t>(id);
}

}  // namespace aspen::cli
