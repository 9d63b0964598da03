// Flags, output and exit codes shared by every client subcommand of `aspen`
// (put/get/del, txn, cas, lease, member, endpoint, and later ones).
//
// A subcommand keeps a ClientFlags, calls AddClientFlags on its CLI11 command,
// and in its callback calls Connect (or ConnectEach for per-endpoint commands),
// prints with PrintJson or plain text, and returns one of the ExitCode values.
//
// Exit codes (documented in docs/API.md, "Exit codes"):
//   0 ok, 1 error (bad flags or input; the server refused the request),
//   2 a negative answer: not found (no key matched, unknown lease) or a
//     compare that failed (cas, txn's failure branch),
//   3 unavailable: no endpoint answered in time (connect or call timeout,
//     UNAVAILABLE, DEADLINE_EXCEEDED).
//
// JSON (-o json): exactly one JSON document on stdout per command, ended by a
// newline. Keys and values are bytes, so they are base64 (as `etcdctl -w json`);
// revisions, ids and counts are JSON numbers. On an error nothing is printed on
// stdout; the message goes to stderr as "aspen <command>: <message>".
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/client.h"

namespace aspen::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,
  kExitNegative = 2,  // not found / compare failed
  kExitUnavailable = 3,
};

// kNotFound -> 2; kUnavailable, kDeadlineExceeded -> 3; any other error -> 1.
int ExitCodeFor(const Status& status);

struct ClientFlags {
  std::string endpoints = "127.0.0.1:2379";
  std::string dial_timeout = "2s";
  std::string command_timeout = "5s";
  std::string output = "table";
  bool json() const { return output == "json"; }
};

// --endpoints (default from the environment variable ASPEN_ENDPOINTS, then
// 127.0.0.1:2379), --dial-timeout, --command-timeout (durations: "500ms", "2s",
// "1m"), -o/--output with one of `outputs` (no check when empty: the command
// validates it itself).
void AddClientFlags(CLI::App* cmd, ClientFlags& flags,
                    const std::vector<std::string>& outputs = {"table", "json"});

// The same without --command-timeout, for commands that run until stopped
// (watch).
void AddEndpointFlags(CLI::App* cmd, ClientFlags& flags,
                      const std::vector<std::string>& outputs = {"table", "json"});

// Whether the user gave --command-timeout (a command with its own default
// deadline, such as `aspen sql`, keeps it otherwise).
bool CommandTimeoutGiven(const CLI::App& cmd);

// "250ms", "2s", "1.5s", "1m" -> milliseconds in 1..600000; InvalidArgument otherwise.
Result<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The ClientOptions the flags ask for (endpoints parsed, timeouts set).
Result<client::ClientOptions> OptionsFrom(const ClientFlags& flags);

// One client over every --endpoints entry (with failover). On bad flags prints
// "aspen <command>: ..." to stderr and returns null (exit kExitError).
std::unique_ptr<client::Client> Connect(std::string_view command, const ClientFlags& flags);

// Prints "aspen <command>: <message>" on stderr and returns ExitCodeFor(status).
int Fail(std::string_view command, const Status& status);
// Prints "aspen <command>: <message>" on stderr and returns kExitError.
int UsageError(std::string_view command, std::string_view message);

// Writes one JSON document and a newline to stdout; invalid UTF-8 in strings
// is replaced (U+FFFD), never thrown.
void PrintJson(const nlohmann::json& doc);

std::string Base64(std::string_view bytes);
// Inverse of Base64; InvalidArgument for bad characters or length.
Result<std::string> Base64Decode(std::string_view text);

// etcd's ResponseHeader / KeyValue as JSON (key, value base64; numbers as numbers;
// value and lease left out when empty / zero, as etcdctl -w json does).
nlohmann::json HeaderJson(const etcdserverpb::ResponseHeader& header);
nlohmann::json KvJson(const mvccpb::KeyValue& kv);

// Lease IDs are shown (16 digits, zero-padded) and accepted in hexadecimal, as
// etcdctl does ("694d7c6a2b8e1a04").
std::string LeaseHex(std::int64_t id);
// Non-zero hex ID up to 0x7fffffffffffffff; InvalidArgument naming the text.
Result<std::int64_t> ParseLeaseHex(std::string_view text);

}  // namespace aspen::cli
