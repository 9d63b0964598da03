// Flags, output and exit codes shared by every client subcommand of `aspen`
// (put/get/del, txn, cas, lease, member, endpoint, and later ones).
//
// A subcommand keeps a ClientFlags, calls AddClientFlags on its CLI11 command,
// and in its callback calls Connect (or ConnectEach for per-endpoint commands),
// prints with PrintJson or plain text, and returns one of the ExitCode values.
// main() calls AddGlobalFlags once every command is registered, so the client
// flags are also accepted before the subcommand (`aspen --endpoints X get k`),
// as etcdctl's global flags are, and ReportParseError for usage errors.
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
// stdout; the message goes to stderr: a server's refusal as etcdctl prints it
// ("Error: etcdserver: ..."), anything else as "aspen <command>: <message>".
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
// "1m"), -o/--output (also -w/--write-out, etcdctl's spelling) with one of
// `outputs` (no check when empty: the command validates it itself).
void AddClientFlags(CLI::App* cmd, ClientFlags& flags,
                    const std::vector<std::string>& outputs = {"table", "json"});

// The same, for commands that run until stopped (watch): --command-timeout is
// accepted (a global flag) but bounds nothing.
void AddEndpointFlags(CLI::App* cmd, ClientFlags& flags,
                      const std::vector<std::string>& outputs = {"table", "json"});

// Only -o/--output (-w/--write-out), for offline commands that print a
// document (snapshot status).
void AddOutputFlag(CLI::App* cmd, std::string& output,
                   const std::vector<std::string>& outputs = {"table", "json"});

// etcdctl's global flags: --endpoints, --dial-timeout, --command-timeout and
// -o/-w are added to the root and to every command group above a command that
// takes them, so they may stand before the subcommand or between its words
// (`aspen --endpoints X lease -o json grant 10`). A value typed nearer to the
// command wins (the command's own flag, then its group's, then the root's),
// then $ASPEN_ENDPOINTS, then the default. A global flag given before a command
// that does not take it is an error naming the flag and the command. Call once,
// after every Register*Commands.
void AddGlobalFlags(CLI::App& app);

// `aspen help [COMMAND...]`: the help of the root or of a command.
void AddHelpCommand(CLI::App& app);

// Prints a usage error as "aspen <command>: <message>" (an unknown flag or an
// unexpected argument named as typed) plus a pointer to --help, and returns
// the exit code: 0 for --help and --version (printed on stdout), else 1.
int ReportParseError(CLI::App& app, const CLI::ParseError& error);

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

// Prints the error on stderr and returns ExitCodeFor(status): a refusal the
// server gave in etcd's words as etcdctl prints it ("Error: etcdserver:
// requested lease not found"), anything else as "aspen <command>: <message>".
int Fail(std::string_view command, const Status& status);
// The server's own words when `status` carries an etcd server error (the
// client's "NOT_FOUND: etcdserver: ..." without the gRPC code name); empty
// otherwise.
std::string EtcdServerMessage(const Status& status);
// Prints "aspen <command>: <message>" on stderr and returns kExitError.
int UsageError(std::string_view command, std::string_view message);

// Writes one JSON document and a newline to stdout; invalid UTF-8 in strings
// is replaced (U+FFFD), never thrown.
void PrintJson(const nlohmann::json& doc);

std::string Base64(std::string_view bytes);
// Inverse of Base64; InvalidArgument for bad characters or length.
Result<std::string> Base64Decode(std::string_view text);

// etcd's ResponseHeader / KeyValue as JSON (key, value base64; numbers as numbers;
// value, lease, create_revision and version left out when empty / zero (a
// watch's DELETE event), as etcdctl -w json does).
nlohmann::json HeaderJson(const etcdserverpb::ResponseHeader& header);
nlohmann::json KvJson(const mvccpb::KeyValue& kv);
// {id, id_hex, name, peer_urls, client_urls, is_learner}
nlohmann::json MemberJson(const etcdserverpb::Member& member);

// Lease IDs are shown (16 digits, zero-padded) and accepted in hexadecimal, as
// etcdctl does ("694d7c6a2b8e1a04").
std::string LeaseHex(std::int64_t id);
// Non-zero hex ID up to 0x7fffffffffffffff; InvalidArgument naming the text.
Result<std::int64_t> ParseLeaseHex(std::string_view text);

// Member and cluster IDs as etcdctl prints them: lowercase hex without padding
// (`width` pads with zeros, e.g. 8 for a 32-bit hash).
std::string Hex(std::uint64_t v, int width = 0);
// A non-zero hexadecimal member ID; InvalidArgument naming the text.
Result<std::uint64_t> ParseMemberHex(std::string_view text);

}  // namespace aspen::cli
