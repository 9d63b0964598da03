#include "client/endpoints.h"

#include <charconv>

namespace aspen::client {

namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

Result<std::string> ParseEndpoint(std::string_view endpoint) {
  std::string_view rest = endpoint;
  if (StartsWith(rest, "http://")) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos || StartsWith(rest, "unix:")) {
    return Status::InvalidArgument("endpoint '" + std::string(endpoint) +
                                   "': only plain host:port or http:// is supported");
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  const std::size_t colon = rest.rfind(':');
  if (rest.empty() || colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("endpoint '" + std::string(endpoint) + "': expected host:port");
  }
  const std::string_view host = rest.substr(0, colon);
  const std::string_view port = rest.substr(colon + 1);
  if (host.front() == '[' && host.back() != ']') {
    return Status::InvalidArgument("endpoint '" + std::string(endpoint) +
                                   "': unterminated IPv6 address");
  }
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0 ||
      value > 65535) {
    return Status::InvalidArgument("endpoint '" + std::string(endpoint) +
                                   "': port must be a number in 1..65535");
  }
  return std::string(rest);
}

Result<std::vector<std::string>> ParseEndpointList(std::string_view list) {
  std::vector<std::string> out;
  if (list.empty()) return Status::InvalidArgument("endpoint list is empty");
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t comma = list.find(',', start);
    if (comma == std::string_view::npos) comma = list.size();
    const std::string_view part = list.substr(start, comma - start);
    if (part.empty()) {
      return Status::InvalidArgument("endpoint list '" + std::string(list) +
                                     "' has an empty element");
    }
    if (out.size() == kMaxEndpoints) {
      return Status::InvalidArgument("endpoint list has more than " +
                                     std::to_string(kMaxEndpoints) + " entries");
    }
    Result<std::string> parsed = ParseEndpoint(part);
    if (!parsed.ok()) return parsed.status();
    out.push_back(std::move(parsed).value());
    start = comma + 1;
  }
  return out;
}

}  // namespace aspen::client
