#include "cli/txn_parse.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "base/limits.h"
#include "cli/common.h"
#include "client/client.h"

namespace aspen::cli {

namespace pb = etcdserverpb;

namespace {

// `lhs = value of expr`, or return expr's error (expr is a Result).
#define TXN_ASSIGN_OR_RETURN(lhs, expr)                                         \
  auto TXN_CONCAT(_r, __LINE__) = (expr);                                       \
  if (!TXN_CONCAT(_r, __LINE__).ok()) return TXN_CONCAT(_r, __LINE__).status(); \
  lhs = std::move(TXN_CONCAT(_r, __LINE__)).value()
#define TXN_CONCAT_INNER(a, b) a##b
#define TXN_CONCAT(a, b) TXN_CONCAT_INNER(a, b)

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

// Length of the Go string literal at the start of s ("..." or `...`), or 0 when
// s does not start with a complete one.
std::size_t QuotedLength(std::string_view s) {
  if (s.empty()) return 0;
  if (s[0] == '`') {
    const std::size_t end = s.find('`', 1);
    return end == std::string_view::npos ? 0 : end + 1;
  }
  if (s[0] != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return 0;
}

Result<std::int64_t> ParseInt(std::string_view text, std::string_view what) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Status::InvalidArgument(std::string(what) + " must be an integer, got '" +
                                   std::string(text) + "'");
  }
  return v;
}

// Flag parsing for one request line: "--name=value" or "--name value".
class Flags {
 public:
  // quoted[i]: args[i] was quoted, so it is positional whatever it holds.
  Flags(std::vector<std::string> args, std::vector<bool> quoted)
      : args_(std::move(args)), quoted_(std::move(quoted)) {}

  // Splits args into positionals and flags; unknown flags are errors.
  Status Parse(const std::vector<std::string_view>& bool_flags,
               const std::vector<std::string_view>& value_flags) {
    for (std::size_t i = 0; i < args_.size(); ++i) {
      const std::string& a = args_[i];
      if (quoted_[i] || a.size() < 3 || a.compare(0, 2, "--") != 0) {
        positional_.push_back(a);
        continue;
      }
      std::string name = a.substr(2);
      std::string value;
      bool has_value = false;
      if (const std::size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name.resize(eq);
        has_value = true;
      }
      if (std::find(bool_flags.begin(), bool_flags.end(), name) != bool_flags.end()) {
        if (has_value && value != "true" && value != "false") {
          return Status::InvalidArgument("--" + name + " takes no value");
        }
        values_[name] = has_value ? value : "true";
      } else if (std::find(value_flags.begin(), value_flags.end(), name) != value_flags.end()) {
        if (!has_value) {
          if (i + 1 >= args_.size()) return Status::InvalidArgument("--" + name + " needs a value");
          value = args_[++i];
        }
        values_[name] = value;
      } else {
        return Status::InvalidArgument("unknown flag --" + name);
      }
    }
    return Status::Ok();
  }
  bool Bool(const std::string& name) const {
    auto it = values_.find(name);
    return it != values_.end() && it->second == "true";
  }
  const std::string* Value(const std::string& name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::vector<std::string> args_;
  std::vector<bool> quoted_;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> values_;
};

Result<std::string> RangeEndOf(const Flags& f, const std::string& key, std::size_t max_positional) {
  const auto& pos = f.positional();
  if (pos.size() < 1 || pos.size() > max_positional) {
    return Status::InvalidArgument("expects KEY [RANGE_END]");
  }
  const bool prefix = f.Bool("prefix");
  const bool from_key = f.Bool("from-key");
  if (prefix && from_key)
    return Status::InvalidArgument("--prefix and --from-key exclude each other");
  if ((prefix || from_key) && pos.size() == 2) {
    return Status::InvalidArgument("RANGE_END cannot be combined with --prefix or --from-key");
  }
  if (prefix) return client::PrefixEnd(key);
  if (from_key) return std::string(1, '\0');
  return pos.size() == 2 ? pos[1] : std::string();
}

Result<pb::RequestOp> ParsePut(Flags& f) {
  ASPEN_RETURN_IF_ERROR(f.Parse({"prev-kv", "ignore-value", "ignore-lease"}, {"lease"}));
  const auto& pos = f.positional();
  pb::RequestOp op;
  pb::PutRequest* put = op.mutable_request_put();
  put->set_ignore_value(f.Bool("ignore-value"));
  if (pos.size() != (put->ignore_value() ? 1u : 2u)) {
    return Status::InvalidArgument(put->ignore_value() ? "put --ignore-value expects KEY"
                                                       : "put expects KEY VALUE");
  }
  put->set_key(pos[0]);
  if (!put->ignore_value()) put->set_value(pos[1]);
  put->set_prev_kv(f.Bool("prev-kv"));
  put->set_ignore_lease(f.Bool("ignore-lease"));
  if (const std::string* lease = f.Value("lease")) {
    Result<std::int64_t> id = ParseLeaseHex(*lease);
    if (!id.ok()) return Status::InvalidArgument("--lease: " + id.status().message());
    put->set_lease(*id);
  }
  return op;
}

Result<pb::RequestOp> ParseGet(Flags& f) {
  ASPEN_RETURN_IF_ERROR(
      f.Parse({"prefix", "from-key", "keys-only", "count-only", "serializable"}, {"limit", "rev"}));
  if (f.positional().empty()) return Status::InvalidArgument("get expects KEY [RANGE_END]");
  pb::RequestOp op;
  pb::RangeRequest* get = op.mutable_request_range();
  get->set_key(f.positional()[0]);
  Result<std::string> end = RangeEndOf(f, get->key(), 2);
  if (!end.ok()) return Status::InvalidArgument("get " + end.status().message());
  get->set_range_end(*end);
  get->set_keys_only(f.Bool("keys-only"));
  get->set_count_only(f.Bool("count-only"));
  get->set_serializable(f.Bool("serializable"));
  if (const std::string* v = f.Value("limit")) {
    TXN_ASSIGN_OR_RETURN(std::int64_t limit, ParseInt(*v, "--limit"));
    get->set_limit(limit);
  }
  if (const std::string* v = f.Value("rev")) {
    TXN_ASSIGN_OR_RETURN(std::int64_t rev, ParseInt(*v, "--rev"));
    get->set_revision(rev);
  }
  return op;
}

Result<pb::RequestOp> ParseDel(Flags& f) {
  ASPEN_RETURN_IF_ERROR(f.Parse({"prefix", "from-key", "prev-kv"}, {}));
  if (f.positional().empty()) return Status::InvalidArgument("del expects KEY [RANGE_END]");
  pb::RequestOp op;
  pb::DeleteRangeRequest* del = op.mutable_request_delete_range();
  del->set_key(f.positional()[0]);
  Result<std::string> end = RangeEndOf(f, del->key(), 2);
  if (!end.ok()) return Status::InvalidArgument("del " + end.status().message());
  del->set_range_end(*end);
  del->set_prev_kv(f.Bool("prev-kv"));
  return op;
}

// Reads one line (without its '\n') into line, stopping after
// kMaxTxnLineBytes + 1 bytes so an endless line never fills memory. Returns
// false at the end of input with nothing read.
bool ReadBoundedLine(std::istream& in, std::string& line) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr) return false;
  bool any = false;
  while (line.size() <= kMaxTxnLineBytes) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) break;
    any = true;
    if (c == '\n') return true;
    line.push_back(static_cast<char>(c));
  }
  return any;
}

}  // namespace

Result<std::string> UnquoteGo(std::string_view text) {
  if (text.size() >= 2 && text.front() == '`' && text.back() == '`') {
    std::string_view body = text.substr(1, text.size() - 2);
    if (body.find('`') != std::string_view::npos) {
      return Status::InvalidArgument("backquote inside a `raw` string");
    }
    return std::string(body);
  }
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') {
    return Status::InvalidArgument("expected a quoted string, got '" + std::string(text) + "'");
  }
  std::string out;
  const std::string_view s = text.substr(1, text.size() - 2);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') return Status::InvalidArgument("unescaped \" inside a quoted string");
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (++i >= s.size()) return Status::InvalidArgument("quoted string ends with a backslash");
    const char e = s[i];
    switch (e) {
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case '\\': out.push_back('\\'); break;
      case '"': out.push_back('"'); break;
      case '\'': out.push_back('\''); break;
      case 'x':
      case 'u':
      case 'U': {
        const std::size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        std::uint32_t v = 0;
        for (std::size_t k = 1; k <= n; ++k) {
          const int d = i + k < s.size() ? HexDigit(s[i + k]) : -1;
          if (d < 0) return Status::InvalidArgument(std::string("bad \\") + e + " escape");
          v = v * 16 + static_cast<std::uint32_t>(d);
        }
        i += n;
        if (e == 'x') {
          out.push_back(static_cast<char>(v));
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) {
            return Status::InvalidArgument("escape is not a Unicode code point");
          }
          AppendUtf8(out, v);
        }
        break;
      }
      default: {
        if (e < '0' || e > '7') {
          return Status::InvalidArgument(std::string("unknown escape \\") + e);
        }
        std::uint32_t v = 0;
        for (std::size_t k = 0; k < 3; ++k) {
          const char d = i + k < s.size() ? s[i + k] : 'x';
          if (d < '0' || d > '7') return Status::InvalidArgument("octal escape needs 3 digits");
          v = v * 8 + static_cast<std::uint32_t>(d - '0');
        }
        if (v > 255) return Status::InvalidArgument("octal escape above \\377");
        i += 2;
        out.push_back(static_cast<char>(v));
      }
    }
  }
  return out;
}

Result<std::vector<std::string>> SplitArgs(std::string_view line, std::vector<bool>* quoted) {
  std::vector<std::string> args;
  std::vector<bool> was_quoted;
  std::size_t i = 0;
  while (i < line.size()) {
    if (IsSpace(line[i])) {
      ++i;
      continue;
    }
    std::string_view rest = line.substr(i);
    if (rest[0] == '"' || rest[0] == '`') {
      const std::size_t n = QuotedLength(rest);
      if (n == 0) return Status::InvalidArgument("unterminated quoted string");
      TXN_ASSIGN_OR_RETURN(std::string arg, UnquoteGo(rest.substr(0, n)));
      args.push_back(std::move(arg));
      was_quoted.push_back(true);
      i += n;
    } else if (rest[0] == '\'') {
      const std::size_t end = rest.find('\'', 1);
      if (end == std::string_view::npos) return Status::InvalidArgument("unterminated ' string");
      args.emplace_back(rest.substr(1, end - 1));
      was_quoted.push_back(true);
      i += end + 1;
    } else {
      std::size_t n = 0;
      while (n < rest.size() && !IsSpace(rest[n])) ++n;
      args.emplace_back(rest.substr(0, n));
      was_quoted.push_back(false);
      i += n;
    }
  }
  if (quoted != nullptr) *quoted = std::move(was_quoted);
  return args;
}

Result<pb::Compare> ParseCompare(std::string_view line) {
  line = Trim(line);
  const std::size_t paren = line.find('(');
  if (paren == std::string_view::npos) {
    return Status::InvalidArgument("malformed comparison (want target(\"key\") op \"value\")");
  }
  const std::string_view target = Trim(line.substr(0, paren));
  std::string_view rest = Trim(line.substr(paren + 1));
  const std::size_t key_len = QuotedLength(rest);
  if (key_len == 0) return Status::InvalidArgument("comparison key must be a quoted string");
  TXN_ASSIGN_OR_RETURN(std::string key, UnquoteGo(rest.substr(0, key_len)));
  rest = Trim(rest.substr(key_len));
  if (rest.empty() || rest[0] != ')') return Status::InvalidArgument("missing ) after the key");
  rest = Trim(rest.substr(1));
  std::size_t op_len = 0;
  while (op_len < rest.size() && !IsSpace(rest[op_len]) && rest[op_len] != '"') ++op_len;
  const std::string_view op = rest.substr(0, op_len);
  rest = Trim(rest.substr(op_len));
  std::string value;
  if (!rest.empty() && (rest[0] == '"' || rest[0] == '`')) {
    if (QuotedLength(rest) != rest.size()) {
      return Status::InvalidArgument("trailing text after the compared value");
    }
    TXN_ASSIGN_OR_RETURN(value, UnquoteGo(rest));
  } else if (!rest.empty() && rest.find_first_of(" \t") == std::string_view::npos) {
    value = std::string(rest);  // a bare number, e.g. mod("k") > 3
  } else {
    return Status::InvalidArgument("comparison needs a quoted value");
  }

  pb::Compare cmp;
  cmp.set_key(key);
  if (op == "=" || op == "==") {
    cmp.set_result(pb::Compare::EQUAL);
  } else if (op == "!=") {
    cmp.set_result(pb::Compare::NOT_EQUAL);
  } else if (op == "<") {
    cmp.set_result(pb::Compare::LESS);
  } else if (op == ">") {
    cmp.set_result(pb::Compare::GREATER);
  } else {
    return Status::InvalidArgument("unknown comparison operator '" + std::string(op) +
                                   "' (want = != < >)");
  }
  if (target == "value" || target == "val") {
    cmp.set_target(pb::Compare::VALUE);
    cmp.set_value(value);
  } else if (target == "mod" || target == "m") {
    cmp.set_target(pb::Compare::MOD);
    TXN_ASSIGN_OR_RETURN(std::int64_t v, ParseInt(value, "mod revision"));
    cmp.set_mod_revision(v);
  } else if (target == "create" || target == "c") {
    cmp.set_target(pb::Compare::CREATE);
    TXN_ASSIGN_OR_RETURN(std::int64_t v, ParseInt(value, "create revision"));
    cmp.set_create_revision(v);
  } else if (target == "version" || target == "ver") {
    cmp.set_target(pb::Compare::VERSION);
    TXN_ASSIGN_OR_RETURN(std::int64_t v, ParseInt(value, "version"));
    cmp.set_version(v);
  } else if (target == "lease") {
    cmp.set_target(pb::Compare::LEASE);
    if (value == "0") {
      cmp.set_lease(0);  // "no lease"
    } else {
      TXN_ASSIGN_OR_RETURN(std::int64_t v, ParseLeaseHex(value));
      cmp.set_lease(v);
    }
  } else {
    return Status::InvalidArgument("unknown comparison target '" + std::string(target) +
                                   "' (want value, mod, create, version or lease)");
  }
  return cmp;
}

Result<pb::RequestOp> ParseRequestOp(std::string_view line) {
  std::vector<bool> quoted;
  TXN_ASSIGN_OR_RETURN(std::vector<std::string> args, SplitArgs(line, &quoted));
  if (args.size() < 2) return Status::InvalidArgument("a request is put|get|del KEY ...");
  const std::string verb = args[0];
  Flags flags(std::vector<std::string>(args.begin() + 1, args.end()),
              std::vector<bool>(quoted.begin() + 1, quoted.end()));
  if (verb == "put") return ParsePut(flags);
  if (verb == "get") return ParseGet(flags);
  if (verb == "del") return ParseDel(flags);
  return Status::InvalidArgument("unknown request '" + verb + "' (want put, get or del)");
}

Result<pb::TxnRequest> ReadTxn(std::istream& in, std::ostream* prompts) {
  static constexpr const char* kPrompts[3] = {
      "compares:", "success requests (get, put, del):", "failure requests (get, put, del):"};
  static constexpr const char* kSections[3] = {"compare", "success request", "failure request"};
  pb::TxnRequest txn;
  std::size_t line_no = 0;
  std::size_t total = 0;
  bool eof = false;
  for (int section = 0; section < 3; ++section) {
    if (prompts != nullptr) *prompts << kPrompts[section] << std::endl;
    std::size_t count = 0;
    while (!eof) {
      std::string line;
      if (!ReadBoundedLine(in, line)) {
        eof = true;
        break;
      }
      ++line_no;
      total += line.size() + 1;
      if (line.size() > kMaxTxnLineBytes || total > kMaxTxnInputBytes) {
        return Status::InvalidArgument(
            "txn input line " + std::to_string(line_no) + ": input longer than " +
            std::to_string(line.size() > kMaxTxnLineBytes ? kMaxTxnLineBytes : kMaxTxnInputBytes) +
            " bytes");
      }
      const std::string_view trimmed = Trim(line);
      if (trimmed.empty()) break;
      if (++count > limits::kMaxTxnOps) {
        return Status::InvalidArgument("txn input line " + std::to_string(line_no) +
                                       ": more than " + std::to_string(limits::kMaxTxnOps) + " " +
                                       kSections[section] + "s");
      }
      const std::string where =
          "txn input line " + std::to_string(line_no) + " (" + kSections[section] + "): ";
      if (section == 0) {
        Result<pb::Compare> cmp = ParseCompare(trimmed);
        if (!cmp.ok()) return Status::InvalidArgument(where + cmp.status().message());
        *txn.add_compare() = std::move(cmp).value();
      } else {
        Result<pb::RequestOp> op = ParseRequestOp(trimmed);
        if (!op.ok()) return Status::InvalidArgument(where + op.status().message());
        *(section == 1 ? txn.add_success() : txn.add_failure()) = std::move(op).value();
      }
    }
  }
  return txn;
}

}  // namespace aspen::cli
