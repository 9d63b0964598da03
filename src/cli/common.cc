#include "cli/common.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
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

namespace {

// The global flags: the names each command's own option has, and their help
// where they stand before the command.
struct GlobalFlag {
  const char* names;
  const char* lookup;  // the name get_option finds the command's option by
  const char* help;
};
constexpr GlobalFlag kGlobalFlags[] = {
    {"--endpoints", "--endpoints",
     "Comma-separated host:port list (default: env ASPEN_ENDPOINTS, else 127.0.0.1:2379)"},
    {"--dial-timeout", "--dial-timeout", "Connect timeout per endpoint (e.g. 2s)"},
    {"--command-timeout", "--command-timeout", "Deadline per request (e.g. 5s)"},
    {"-o,-w,--output,--write-out", "--output", "Output format (table|json; sql also csv)"},
};
constexpr const char* kEndpointsEnv = "ASPEN_ENDPOINTS";
constexpr const char* kGlobalFooter =
    "Client flags (--endpoints, --dial-timeout, --command-timeout, -o) may also stand before "
    "the command: aspen --endpoints HOST:PORT get KEY\n";

// A global flag given before a command that does not take it.
class UnknownGlobalFlag : public CLI::ParseError {
 public:
  explicit UnknownGlobalFlag(const std::string& flag)
      : CLI::ParseError("unknown flag " + flag, CLI::ExitCodes::ExtrasError) {}
};

std::string ChoicesText(const std::vector<std::string>& outputs) {
  std::string choices;
  for (const std::string& o : outputs) choices += (choices.empty() ? "" : "|") + o;
  return choices.empty() ? "Output format" : "Output format: " + choices;
}

// Every subcommand of `cmd` (not only the selected ones).
std::vector<CLI::App*> AllSubcommands(CLI::App* cmd) {
  return cmd->get_subcommands([](CLI::App*) { return true; });
}

// The selected commands, root first.
std::vector<CLI::App*> SelectedChain(CLI::App& app) {
  std::vector<CLI::App*> chain = {&app};
  while (true) {
    std::vector<CLI::App*> selected = chain.back()->get_subcommands();
    if (selected.empty()) return chain;
    chain.push_back(selected.front());
  }
}

std::string CommandPath(const std::vector<CLI::App*>& chain) {
  std::string path = "aspen";
  for (std::size_t i = 1; i < chain.size(); ++i) path += " " + chain[i]->get_name();
  return path;
}

// Whether `cmd` or a command below it takes any global flag.
bool TakesGlobalFlags(CLI::App* cmd) {
  for (const GlobalFlag& g : kGlobalFlags) {
    if (cmd->get_option_no_throw(g.lookup) != nullptr) return true;
  }
  for (CLI::App* sub : AllSubcommands(cmd)) {
    if (TakesGlobalFlags(sub)) return true;
  }
  return false;
}

// Adds the global flags to `group` and to each command group below it that
// leads to a command taking them.
void AddGroupFlags(CLI::App* group) {
  for (const GlobalFlag& g : kGlobalFlags) {
    group->add_option(g.names, g.help)->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
  for (CLI::App* sub : AllSubcommands(group)) {
    if (AllSubcommands(sub).empty()) {
      if (TakesGlobalFlags(sub)) sub->footer(kGlobalFooter);
    } else if (TakesGlobalFlags(sub)) {
      AddGroupFlags(sub);
    }
  }
}

// Runs after parsing, before any command's callback: hands each global flag
// given on the root or a group to the command that runs (validated by its own
// option), and applies $ASPEN_ENDPOINTS.
void ResolveGlobalFlags(CLI::App& app) {
  const std::vector<CLI::App*> chain = SelectedChain(app);
  CLI::App* command = chain.back();
  for (const GlobalFlag& g : kGlobalFlags) {
    const CLI::Option* given = nullptr;  // the one nearest to the command wins
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      const CLI::Option* o = chain[i]->get_option_no_throw(g.lookup);
      if (o != nullptr && o->count() > 0) given = o;
    }
    CLI::Option* own = command == &app ? nullptr : command->get_option_no_throw(g.lookup);
    if (given != nullptr && own == nullptr) {
      throw UnknownGlobalFlag(std::string(g.lookup) + " (" + CommandPath(chain) +
                              " does not take it)");
    }
    if (own == nullptr || own->count() > 0) continue;
    std::string value;
    if (given != nullptr) {
      value = given->results().back();
    } else if (const char* env = std::getenv(kEndpointsEnv);
               env != nullptr && *env != '\0' && std::string_view(g.lookup) == "--endpoints") {
      value = env;
    } else {
      continue;
    }
    own->clear();
    own->add_result(value);
    own->run_callback();  // the command's own check (e.g. -o's choices)
  }
}

}  // namespace

void AddEndpointFlags(CLI::App* cmd, ClientFlags& f, const std::vector<std::string>& outputs) {
  cmd->add_option("--endpoints", f.endpoints, kGlobalFlags[0].help)->capture_default_str();
  cmd->add_option("--dial-timeout", f.dial_timeout, kGlobalFlags[1].help)->capture_default_str();
  cmd->add_option("--command-timeout", f.command_timeout,
                  "Accepted (a global flag); a watch has no deadline");
  AddOutputFlag(cmd, f.output, outputs);
}

void AddClientFlags(CLI::App* cmd, ClientFlags& f, const std::vector<std::string>& outputs) {
  cmd->add_option("--endpoints", f.endpoints, kGlobalFlags[0].help)->capture_default_str();
  cmd->add_option("--dial-timeout", f.dial_timeout, kGlobalFlags[1].help)->capture_default_str();
  cmd->add_option("--command-timeout", f.command_timeout, kGlobalFlags[2].help)
      ->capture_default_str();
  AddOutputFlag(cmd, f.output, outputs);
}

void AddOutputFlag(CLI::App* cmd, std::string& output, const std::vector<std::string>& outputs) {
  CLI::Option* o =
      cmd->add_option(kGlobalFlags[3].names, output, ChoicesText(outputs))->capture_default_str();
  if (!outputs.empty()) o->check(CLI::IsMember(outputs));
}

void AddGlobalFlags(CLI::App& app) {
  AddGroupFlags(&app);
  app.footer(kGlobalFooter);
  app.parse_complete_callback([&app] { ResolveGlobalFlags(app); });
}

void AddHelpCommand(CLI::App& app) {
  auto words = std::make_shared<std::vector<std::string>>();
  CLI::App* help = app.add_subcommand("help", "Help about any command: aspen help [COMMAND...]");
  help->add_option("command", *words, "A command, e.g. `lease grant`");
  help->callback([&app, words] {
    CLI::App* cmd = &app;
    std::string path = "aspen";
    for (const std::string& w : *words) {
      CLI::App* sub = nullptr;
      try {
        sub = cmd->get_subcommand(w);
      } catch (const CLI::OptionNotFound&) {
      }
      if (sub == nullptr || w == "help") {
        throw CLI::ValidationError("unknown command \"" + w + "\" (see aspen --help)",
                                   CLI::ExitCodes::ValidationError);
      }
      cmd = sub;
      path += " " + w;
    }
    // Not cmd->help(): that shows the help of the command selected now (help).
    std::cout << cmd->get_formatter()->make_help(cmd, path, CLI::AppFormatMode::Normal);
  });
}

int ReportParseError(CLI::App& app, const CLI::ParseError& error) {
  if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
  const std::vector<CLI::App*> chain = SelectedChain(app);
  std::string message = error.what();
  // Words no command took are the likeliest cause, whatever CLI11 noticed
  // first (`aspen endpoint bogus` fails as "a subcommand is required").
  for (CLI::App* cmd : chain) {
    const std::vector<std::string> extra = cmd->remaining();
    if (extra.empty()) continue;
    const std::string& first = extra.front();
    if (first.size() > 1 && first[0] == '-') {
      message = "unknown flag " + first.substr(0, first.find('='));
    } else if (cmd == chain.back() && !AllSubcommands(cmd).empty()) {
      message = "unknown command '" + first + "'";
    } else {
      message = "unexpected argument '" + first + "'";
    }
    break;
  }
  const std::string path = CommandPath(chain);
  std::cerr << path << ": " << message << "\nRun '" << path << " --help' for usage.\n";
  return kExitError;
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

std::string EtcdServerMessage(const Status& status) {
  // client::FromGrpc's form: "<GRPC_CODE_NAME>: <the server's message>".
  const std::string& m = status.message();
  const std::size_t colon = m.find(": ");
  if (colon == std::string::npos || colon == 0) return "";
  for (std::size_t i = 0; i < colon; ++i) {
    if (!(std::isupper(static_cast<unsigned char>(m[i])) || m[i] == '_')) return "";
  }
  const std::string_view words = std::string_view(m).substr(colon + 2);
  return words.starts_with("etcdserver: ") ? std::string(words) : "";
}

int Fail(std::string_view command, const Status& status) {
  if (const std::string words = EtcdServerMessage(status); !words.empty()) {
    std::cerr << "Error: " << words << "\n";
  } else {
    std::cerr << "aspen " << command << ": " << status.message() << "\n";
  }
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
  Json j = {{"key", Base64(kv.key())}};
  if (kv.create_revision() != 0) j["create_revision"] = kv.create_revision();
  j["mod_revision"] = kv.mod_revision();
  if (kv.version() != 0) j["version"] = kv.version();
  if (!kv.value().empty()) j["value"] = Base64(kv.value());
  if (kv.lease() != 0) j["lease"] = kv.lease();
  return j;
}

Json MemberJson(const pb::Member& m) {
  return {
      {"id", m.id()},
      {"id_hex", Hex(m.id())},
      {"name", m.name()},
      {"peer_urls", Json(std::vector<std::string>(m.peerurls().begin(), m.peerurls().end()))},
      {"client_urls", Json(std::vector<std::string>(m.clienturls().begin(), m.clienturls().end()))},
      {"is_learner", m.islearner()}};
}

std::string Hex(std::uint64_t v, int width) {
  char buf[32];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), v, 16);
  std::string hex(buf, ptr);
  if (static_cast<int>(hex.size()) < width) {
    hex.insert(0, static_cast<std::size_t>(width) - hex.size(), '0');
  }
  return hex;
}

Result<std::uint64_t> ParseMemberHex(std::string_view text) {
  std::uint64_t id = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, id, 16);
  if (text.empty() || ec != std::errc() || ptr != end || id == 0) {
    return Status::InvalidArgument("bad member ID '" + std::string(text) +
                                   "' (a non-zero hexadecimal ID, as `aspen member list` "
                                   "prints it)");
  }
  return id;
}

std::string LeaseHex(std::int64_t id) {
  return Hex(static_cast<std::uint64_t>(id), 16);  // etcdctl's %016x
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
