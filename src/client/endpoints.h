// Parsing of `--endpoints` lists: "127.0.0.1:2379,http://localhost:2380".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace aspen::client {

// Maximum endpoints one client or bench run accepts (a bound on every list).
inline constexpr std::size_t kMaxEndpoints = 64;

// Turns one endpoint into a gRPC target "host:port". Accepts "host:port",
// "http://host:port" and "[v6addr]:port". Returns InvalidArgument naming the
// endpoint when it is empty, uses https:// or unix:// (TLS and unix sockets are
// not supported), or lacks a port in 1..65535.
Result<std::string> ParseEndpoint(std::string_view endpoint);

// Splits a comma-separated list and parses each part with ParseEndpoint.
// Returns InvalidArgument for an empty list, an empty element, a bad endpoint,
// or more than kMaxEndpoints entries.
Result<std::vector<std::string>> ParseEndpointList(std::string_view list);

}  // namespace aspen::client
