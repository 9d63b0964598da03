// `aspen sql [flags] ["SELECT ..."]`: one statement through aspen.v1.SQL/Query
// and its result printed as -o table|json|csv (cmd_sql_shell.h); with no
// statement, the shell: readline with history on a terminal, plain lines
// from stdin otherwise (scripts, tests).
//
// Endpoints are tried in order; the next one is used when one cannot be
// reached (UNAVAILABLE before an answer). Parameters: each --param (and each
// --named NAME=VALUE) is read as JSON when it is a JSON scalar (42, 1.5,
// null, true, "quoted text") or {"base64": "..."} for a BLOB, otherwise as
// text as typed.
// Exit codes: 0 success, 1 bad flags, 2 a statement failed (message on stderr).
#include <grpcpp/grpcpp.h>
#include <readline/history.h>
#include <readline/readline.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "aspen/sql/v1/sql.grpc.pb.h"
#include "cli/cmd_sql_shell.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "client/grpc_status.h"

namespace aspen::cli {

namespace {

namespace sqlpb = aspen::v1;
using Json = nlohmann::json;

constexpr std::size_t kMaxHistoryLines = 1000;
constexpr int kMaxReceiveBytes = 256 << 20;

struct SqlFlags {
  ClientFlags client;
  // The deadline of each query when --command-timeout is not given: the
  // query's own time limit plus time for the read barrier and the transfer.
  bool command_timeout_given = false;
  std::string consistency = "l";
  std::uint64_t max_rows = 0;
  std::uint64_t timeout_ms = 0;
  std::vector<std::string> params;
  std::vector<std::string> named;
  std::string statement;
};

Result<sqlpb::Value> ParseParam(const std::string& text) {
  sqlpb::Value v;
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || j.is_array()) {
    v.set_text(text);
  } else if (j.is_null()) {
    // NULL: no kind
  } else if (j.is_boolean()) {
    v.set_int_(j.get<bool>() ? 1 : 0);
  } else if (j.is_number_integer()) {
    v.set_int_(j.get<std::int64_t>());
  } else if (j.is_number_unsigned()) {
    return Status::InvalidArgument("parameter " + text + " does not fit a 64-bit integer");
  } else if (j.is_number_float()) {
    v.set_real(j.get<double>());
  } else if (j.is_string()) {
    v.set_text(j.get<std::string>());
  } else if (j.is_object() && j.size() == 1 && j.contains("base64") && j["base64"].is_string()) {
    Result<std::string> bytes = Base64Decode(j["base64"].get<std::string>());
    if (!bytes.ok()) {
      return Status::InvalidArgument("parameter " + text + ": " + bytes.status().message());
    }
    v.set_blob(*std::move(bytes));
  } else {
    v.set_text(text);
  }
  return v;
}

class SqlClient {
 public:
  SqlClient(std::vector<std::string> targets, std::chrono::milliseconds dial_timeout,
            std::optional<std::chrono::milliseconds> deadline)
      : targets_(std::move(targets)), dial_timeout_(dial_timeout), deadline_(deadline) {}

  Result<SqlResult> Query(const sqlpb::QueryRequest& request) {
    Status last;
    for (std::size_t k = 0; k < targets_.size(); ++k) {
      const std::size_t i = (current_ + k) % targets_.size();
      bool unreachable = false;
      Result<SqlResult> r = QueryOne(i, request, &unreachable);
      if (r.ok() || !unreachable) {
        if (r.ok()) current_ = i;
        return r;
      }
      last = r.status();
    }
    return Status::Unavailable("no endpoint answered: " + last.message());
  }

 private:
  Result<SqlResult> QueryOne(std::size_t i, const sqlpb::QueryRequest& request, bool* unreachable) {
    if (stubs_.size() != targets_.size()) stubs_.resize(targets_.size());
    if (stubs_[i] == nullptr) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
      channels_.resize(targets_.size());
      channels_[i] =
          grpc::CreateCustomChannel(targets_[i], grpc::InsecureChannelCredentials(), args);
      stubs_[i] = sqlpb::SQL::NewStub(channels_[i]);
    }
    if (!channels_[i]->WaitForConnected(std::chrono::system_clock::now() + dial_timeout_)) {
      *unreachable = true;
      return Status::Unavailable(targets_[i] + ": cannot connect within " +
                                 std::to_string(dial_timeout_.count()) + " ms");
    }
    grpc::ClientContext ctx;
    // The server bounds the query's time; allow for the read barrier and transfer.
    const std::uint64_t limit = request.timeout_ms() == 0 ? 30'000 : request.timeout_ms();
    ctx.set_deadline(
        std::chrono::system_clock::now() +
        deadline_.value_or(std::chrono::milliseconds(limit) + std::chrono::seconds(10)));
    std::unique_ptr<grpc::ClientReader<sqlpb::QueryResponse>> reader =
        stubs_[i]->Query(&ctx, request);
    SqlResult result;
    sqlpb::QueryResponse msg;
    bool done = false;
    while (reader->Read(&msg)) {
      for (const sqlpb::Column& c : msg.columns()) result.columns.push_back(c.name());
      for (sqlpb::Row& row : *msg.mutable_rows()) result.rows.push_back(std::move(row));
      if (msg.done()) {
        done = true;
        result.revision = msg.revision();
        result.truncated = msg.truncated();
      }
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) {
      // SQL only reads, so any member may answer instead.
      *unreachable = status.error_code() == grpc::StatusCode::UNAVAILABLE;
      return Status(
          client::FromGrpc(status).code(),
          std::string(client::GrpcCodeName(status.error_code())) + ": " + status.error_message());
    }
    if (!done) return Status::Internal("the server ended the stream without its last message");
    return result;
  }

  std::vector<std::string> targets_;
  std::chrono::milliseconds dial_timeout_;
  std::optional<std::chrono::milliseconds> deadline_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<sqlpb::SQL::Stub>> stubs_;
  std::size_t current_ = 0;
};

void RunInteractive(SqlShell& shell) {
  std::string history;
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    history = std::string(home) + "/.aspen_history";
    read_history(history.c_str());
  }
  stifle_history(static_cast<int>(kMaxHistoryLines));
  std::cout << "aspen sql shell: statements end with ';'; .help for commands\n";
  while (true) {
    char* raw = readline(shell.pending() ? "   ...> " : "aspen> ");
    if (raw == nullptr) {  // end of input (Ctrl-D)
      std::cout << "\n";
      break;
    }
    std::string line(raw);
    std::free(raw);
    if (!line.empty()) add_history(line.c_str());
    if (!shell.Feed(line)) break;
  }
  shell.Flush();
  if (!history.empty()) write_history(history.c_str());
}

int RunSql(const SqlFlags& f) {
  Result<OutputMode> mode = ParseOutputMode(f.client.output);
  if (!mode.ok()) return UsageError("sql", "-o: " + mode.status().message());
  Result<client::ClientOptions> options = OptionsFrom(f.client);
  if (!options.ok()) return UsageError("sql", options.status().message());
  if (f.consistency != "l" && f.consistency != "s") {
    return UsageError("sql", "--consistency must be l (linearizable) or s (serializable)");
  }
  sqlpb::QueryRequest base;
  base.set_consistency(f.consistency == "s" ? sqlpb::SERIALIZABLE : sqlpb::LINEARIZABLE);
  base.set_max_rows(f.max_rows);
  base.set_timeout_ms(f.timeout_ms);
  for (const std::string& p : f.params) {
    Result<sqlpb::Value> v = ParseParam(p);
    if (!v.ok()) return UsageError("sql", "--param: " + v.status().message());
    *base.add_params() = *v;
  }
  for (const std::string& n : f.named) {
    const std::size_t eq = n.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError("sql", "--named must be NAME=VALUE, got '" + n + "'");
    }
    Result<sqlpb::Value> v = ParseParam(n.substr(eq + 1));
    if (!v.ok()) return UsageError("sql", "--named: " + v.status().message());
    (*base.mutable_named_params())[n.substr(0, eq)] = *v;
  }
  std::optional<std::chrono::milliseconds> deadline;
  if (f.command_timeout_given) deadline = options->call_timeout;
  SqlClient client(options->endpoints, options->dial_timeout, deadline);
  auto execute = [&client, &base](const std::string& sql) {
    sqlpb::QueryRequest request = base;
    request.set_sql(sql);
    return client.Query(request);
  };
  if (!f.statement.empty()) {
    Result<SqlResult> r = execute(f.statement);
    if (!r.ok()) return Fail("sql", r.status());
    std::cout << Format(*r, *mode);
    return 0;
  }
  SqlShell shell(execute, *mode, std::cout, std::cerr);
  if (::isatty(STDIN_FILENO) != 0) {
    RunInteractive(shell);
    return 0;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!shell.Feed(line)) break;
  }
  shell.Flush();
  return shell.failures() == 0 ? kExitOk : kExitError;
}

}  // namespace

void RegisterSqlCommands(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<SqlFlags>();
  CLI::App* cmd = app.add_subcommand(
      "sql", "Run a read-only SQL statement, or an interactive shell when none is given");
  cmd->add_option("statement", f->statement, "The SQL statement (omit for the shell)");
  // Without --command-timeout a query's deadline is its time limit + 10 s.
  AddClientFlags(cmd, f->client, {"table", "json", "csv"});
  cmd->add_option("--consistency", f->consistency, "l (linearizable) or s (serializable)")
      ->capture_default_str();
  cmd->add_option("--max-rows", f->max_rows, "Row limit (0 = the server's default, 10000)");
  cmd->add_option("--timeout-ms", f->timeout_ms, "Query time limit (0 = the server's, 30000)");
  cmd->add_option("--param", f->params, "Positional parameter ?1, ?2, ... (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--named", f->named, "Named parameter NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  cmd->callback([cmd, f, exit_code] {
    f->command_timeout_given = CommandTimeoutGiven(*cmd);
    *exit_code = RunSql(*f);
  });
}

}  // namespace aspen::cli
