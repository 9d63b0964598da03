// `aspen tuple pack` and `aspen tuple unpack`: FoundationDB tuple keys as
// typed JSON lines <-> lowercase hex lines (contract: docs/TUPLE.md).
//
// Both read stdin to EOF, split it on "\n" only, and print exactly one line
// per input line: the result, or "error: <message>". Bad lines never stop the
// run; the exit code is 0 unless reading stdin or writing stdout failed.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "tuple/tuple.h"
#include "tuple/typed_json.h"

namespace aspen::cli {
namespace {

namespace tp = aspen::tuple;
using Json = nlohmann::json;

// Longer input lines are consumed but answered with an error (bounded memory).
constexpr std::size_t kMaxLineBytes = 1 << 20;

constexpr char kTypeNames[] =
    "null, bytes, string, int, float, double, bool, uuid, versionstamp, tuple";

// Error lines stay printable ASCII on one line whatever the input contained.
std::string Sanitize(std::string_view msg) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : msg) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0xf]);
    }
  }
  return out;
}

std::string ToHex(std::string_view bytes) {
  return tp::LowerHex(bytes);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes lowercase hex. `what` names the value in errors.
tp::Result<std::string> FromHex(std::string_view hex, const std::string& what) {
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (HexValue(hex[i]) < 0) {
      return tp::Error(tp::ErrorCode::kInvalidArgument,
                       what + ": '" + std::string(1, hex[i]) + "' at position " +
                           std::to_string(i) + " is not a lowercase hex digit (0-9, a-f)");
    }
  }
  if (hex.size() % 2 != 0) {
    return tp::Error(tp::ErrorCode::kInvalidArgument,
                     what + ": odd number of hex digits (" + std::to_string(hex.size()) + ")");
  }
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<char>(HexValue(hex[2 * i]) * 16 + HexValue(hex[2 * i + 1]));
  }
  return out;
}

tp::Result<std::string> FixedHex(std::string_view hex, const std::string& type, std::size_t bytes) {
  if (hex.size() != bytes * 2) {
    return tp::Error(tp::ErrorCode::kInvalidArgument,
                     "\"" + type + "\" needs exactly " + std::to_string(bytes * 2) +
                         " hex digits, got " + std::to_string(hex.size()));
  }
  return FromHex(hex, "\"" + type + "\"");
}

template <typename Bits>
Bits BigEndian(const std::string& bytes) {
  Bits v = 0;
  for (unsigned char c : bytes) v = static_cast<Bits>((v << 8) | c);
  return v;
}

// ---- typed JSON -> Tuple ----

enum class JsonKind { kNull, kBool, kNumber, kString, kArray, kObject };

const char* KindName(JsonKind k) {
  switch (k) {
    case JsonKind::kNull: return "null";
    case JsonKind::kBool: return "a boolean";
    case JsonKind::kNumber: return "a number";
    case JsonKind::kString: return "a string";
    case JsonKind::kArray: return "an array";
    case JsonKind::kObject: return "an object";
  }
  return "?";
}

const char* Expectation(const std::string& type) {
  if (type == "null") return "null";
  if (type == "bool") return "true or false";
  if (type == "tuple") return "an array of elements";
  if (type == "string") return "a JSON string";
  if (type == "int") return "a decimal string such as \"-42\"";
  if (type == "float") return "a string of 8 hex digits (IEEE-754 binary32 bits, big-endian)";
  if (type == "double") return "a string of 16 hex digits (IEEE-754 binary64 bits, big-endian)";
  if (type == "uuid") return "a string of 32 hex digits";
  if (type == "versionstamp") return "a string of 24 hex digits";
  return "a string of lowercase hex digits";  // bytes
}

bool IsTypeName(const std::string& k) {
  for (const char* name : {"null", "bytes", "string", "int", "float", "double", "bool", "uuid",
                           "versionstamp", "tuple"}) {
    if (k == name) return true;
  }
  return false;
}

// Builds the element for {"<type>": <string>} once the JSON kind is right.
tp::Result<tp::Element> ElementFromString(const std::string& type, std::string s) {
  if (type == "string") return tp::Element::CheckedString(std::move(s));
  if (type == "bytes") {
    auto b = FromHex(s, "\"bytes\"");
    if (!b.ok()) return b.error();
    return tp::Element::Bytes(std::move(*b));
  }
  if (type == "int") {
    auto v = tp::BigInt::FromDecimal(s);
    if (!v.ok()) return v.error();
    return tp::Element::Int(std::move(*v));
  }
  const std::size_t size = type == "float" ? 4 : type == "double" ? 8 : type == "uuid" ? 16 : 12;
  auto b = FixedHex(s, type, size);
  if (!b.ok()) return b.error();
  if (type == "float") return tp::Element::FloatBits(BigEndian<std::uint32_t>(*b));
  if (type == "double") return tp::Element::DoubleBits(BigEndian<std::uint64_t>(*b));
  if (type == "uuid") {
    tp::Uuid u;
    std::copy(b->begin(), b->end(), u.bytes.begin());
    return tp::Element::FromUuid(u);
  }
  tp::Versionstamp::Bytes vb;
  std::copy(b->begin(), b->end(), vb.begin());
  auto vs = tp::Versionstamp::FromBytes(vb);
  if (!vs.ok()) return vs.error();
  return tp::Element::FromVersionstamp(*vs);
}

// A nlohmann SAX handler that builds the Tuple while the line is parsed, so
// duplicate keys, wrong kinds and excess depth are caught at the first event.
class TupleSax {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  bool null() { return Scalar(JsonKind::kNull, false, nullptr); }
  bool boolean(bool b) { return Scalar(JsonKind::kBool, b, nullptr); }
  bool number_integer(number_integer_t) { return Scalar(JsonKind::kNumber, false, nullptr); }
  bool number_unsigned(number_unsigned_t) { return Scalar(JsonKind::kNumber, false, nullptr); }
  bool number_float(number_float_t, const string_t&) {
    return Scalar(JsonKind::kNumber, false, nullptr);
  }
  bool string(string_t& s) { return Scalar(JsonKind::kString, false, &s); }
  bool binary(binary_t&) { return Fail("binary values are not JSON"); }

  bool start_object(std::size_t) {
    if (!CheckContainer(JsonKind::kObject)) return false;
    stack_.push_back(Frame{});
    return true;
  }
  bool key(string_t& k) {
    Frame& f = stack_.back();
    if (!f.type.empty()) {
      return Fail("element object has more than one key (\"" + f.type + "\" and \"" + k +
                  "\"); write one object per element");
    }
    if (!IsTypeName(k)) {
      return Fail("unknown element type \"" + k + "\"; expected one of " + kTypeNames);
    }
    f.type = k;
    return true;
  }
  bool end_object() {
    if (stack_.back().type.empty()) {
      return Fail(
          "element object is empty; it needs one key naming the type, e.g. {\"int\": "
          "\"1\"}");
    }
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    if (!CheckContainer(JsonKind::kArray)) return false;
    if (++array_depth_ > tp::kMaxNestingDepth + 1) {
      return Fail("tuples nested deeper than " + std::to_string(tp::kMaxNestingDepth) + " levels");
    }
    Frame frame;
    frame.is_array = true;
    stack_.push_back(std::move(frame));
    return true;
  }
  bool end_array() {
    tp::Tuple t = std::move(stack_.back().tuple);
    stack_.pop_back();
    --array_depth_;
    if (stack_.empty()) {
      result_ = std::move(t);
      return true;
    }
    return AddToParent(tp::Element::Nested(std::move(t)));
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& ex) {
    std::string what = ex.what();
    if (const auto p = what.find("] "); what.rfind("[json.exception", 0) == 0 && p != what.npos) {
      what = what.substr(p + 2);
    }
    return Fail("invalid JSON: " + what);
  }

  const std::string& error() const { return error_; }
  tp::Tuple& result() { return result_; }

 private:
  struct Frame {
    bool is_array = false;
    tp::Tuple tuple;   // array frames
    std::string type;  // object frames: the one key, empty until seen
  };

  bool Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }

  // Where a value of `kind` may start: the top (arrays only), inside an array
  // (objects only), or as an object's value (arrays only for "tuple"; scalars
  // are checked against the type by Scalar).
  bool CheckContainer(JsonKind kind) {
    if (stack_.empty()) {
      if (kind == JsonKind::kArray) return true;
      return Fail(std::string("a tuple must be a JSON array, got ") + KindName(kind));
    }
    const Frame& top = stack_.back();
    if (top.is_array) {
      if (kind == JsonKind::kObject) return true;
      return Fail(std::string("a tuple element must be an object like {\"string\": \"a\"}, got ") +
                  KindName(kind));
    }
    if (kind == JsonKind::kArray && top.type == "tuple") return true;
    if (kind != JsonKind::kArray && kind != JsonKind::kObject) return true;  // checked by Scalar
    return Fail("\"" + top.type + "\" expects " + Expectation(top.type) + ", got " +
                KindName(kind));
  }

  bool Scalar(JsonKind kind, bool b, string_t* s) {
    if (!CheckContainer(kind)) return false;
    const std::string& type = stack_.back().type;
    if (type == "null" && kind == JsonKind::kNull) return AddToParent(tp::Element::Null());
    if (type == "bool" && kind == JsonKind::kBool) return AddToParent(tp::Element::Bool(b));
    if (kind == JsonKind::kString && type != "null" && type != "bool" && type != "tuple") {
      auto e = ElementFromString(type, std::move(*s));
      if (!e.ok()) return Fail(e.error().message());
      return AddToParent(std::move(*e));
    }
    return Fail("\"" + type + "\" expects " + Expectation(type) + ", got " + KindName(kind));
  }

  // Appends to the array that holds the current element object.
  bool AddToParent(tp::Element e) {
    ASPEN_TUPLE_ASSERT(stack_.size() >= 2 && !stack_.back().is_array);
    stack_[stack_.size() - 2].tuple.Append(std::move(e));
    return true;
  }

  std::vector<Frame> stack_;
  int array_depth_ = 0;
  tp::Tuple result_;
  std::string error_;
};

std::string PackLine(std::string_view line) {
  if (line.empty()) return "error: empty line; a tuple is a JSON array such as []";
  TupleSax sax;
  bool ok = false;
  try {
    ok = Json::sax_parse(line, &sax, nlohmann::detail::input_format_t::json, /*strict=*/true);
  } catch (const std::exception& e) {
    return "error: " + Sanitize(std::string("invalid JSON: ") + e.what());
  }
  if (!ok) return "error: " + Sanitize(sax.error());
  return ToHex(sax.result().Pack());
}

// ---- Tuple -> typed JSON ----

std::string UnpackLine(std::string_view line) {
  auto key = FromHex(line, "key");
  if (!key.ok()) return "error: " + Sanitize(key.error().message());
  auto t = tp::Tuple::Unpack(*key);
  if (!t.ok()) return "error: malformed tuple: " + Sanitize(t.error().message());
  // ensure_ascii: non-ASCII text is written as \uXXXX escapes (astral code
  // points as surrogate pairs), so no output line holds U+2028 or U+0085.
  return tp::ToTypedJsonText(*t);
}

// ---- the line loop ----

// Reads one "\n"-terminated line (or a final unterminated one). Returns false
// at the end of input. Bytes past kMaxLineBytes are dropped and flagged.
bool ReadLine(std::FILE* in, std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  bool any = false;
  int c;
  while ((c = getc_unlocked(in)) != EOF) {
    any = true;
    if (c == '\n') return true;
    if (line->size() < kMaxLineBytes) {
      line->push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
  return any;
}

int RunLines(std::string (*handle)(std::string_view)) {
  std::string line;
  bool too_long = false;
  while (ReadLine(stdin, &line, &too_long)) {
    std::string out = too_long ? "error: line is longer than " + std::to_string(kMaxLineBytes) +
                                     " bytes (the input line limit)"
                               : handle(line);
    out.push_back('\n');
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size()) break;
  }
  if (std::ferror(stdin)) {
    std::fprintf(stderr, "aspen tuple: error reading standard input\n");
    return 1;
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "aspen tuple: error writing standard output\n");
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterTupleCommands(CLI::App& app, int* exit_code) {
  CLI::App* tuple = app.add_subcommand(
      "tuple", "FoundationDB tuple keys: typed JSON lines <-> lowercase hex lines");
  tuple->require_subcommand(1);
  CLI::App* pack = tuple->add_subcommand(
      "pack", "Read one typed-JSON tuple per line from stdin; print each packed key as hex");
  pack->callback([exit_code] { *exit_code = RunLines(PackLine); });
  CLI::App* unpack = tuple->add_subcommand(
      "unpack", "Read one hex key per line from stdin; print each tuple as typed JSON");
  unpack->callback([exit_code] { *exit_code = RunLines(UnpackLine); });
}

}  // namespace aspen::cli
