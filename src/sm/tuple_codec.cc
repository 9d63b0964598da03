#include "sm/tuple_codec.h"

namespace aspen::sm {
namespace {

constexpr char kBytesCode = 0x01;
constexpr char kStringCode = 0x02;
constexpr int kIntZeroCode = 0x14;

void PackEscaped(std::string* out, char code, std::string_view s) {
  out->push_back(code);
  for (char c : s) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
}

void PackInt(std::string* out, std::int64_t v) {
  if (v == 0) {
    out->push_back(static_cast<char>(kIntZeroCode));
    return;
  }
  const bool negative = v < 0;
  // Magnitude as uint64: well defined for INT64_MIN too.
  std::uint64_t mag =
      negative ? (~static_cast<std::uint64_t>(v) + 1) : static_cast<std::uint64_t>(v);
  int len = 0;
  for (std::uint64_t m = mag; m != 0; m >>= 8) ++len;
  // Negative numbers store the one's complement of the magnitude in len bytes.
  std::uint64_t body = negative ? ~mag : mag;
  out->push_back(static_cast<char>(negative ? kIntZeroCode - len : kIntZeroCode + len));
  for (int i = len - 1; i >= 0; --i) out->push_back(static_cast<char>((body >> (8 * i)) & 0xff));
}

bool UnpackEscaped(std::string_view* in, char code, std::string* out) {
  if (in->empty() || (*in)[0] != code) return false;
  out->clear();
  std::size_t i = 1;
  while (i < in->size()) {
    char c = (*in)[i];
    if (c == '\0') {
      if (i + 1 < in->size() && (*in)[i + 1] == '\xff') {
        out->push_back('\0');
        i += 2;
        continue;
      }
      in->remove_prefix(i + 1);
      return true;
    }
    out->push_back(c);
    ++i;
  }
  return false;  // unterminated
}

bool UnpackInt(std::string_view* in, std::int64_t* v) {
  if (in->empty()) return false;
  const int code = static_cast<std::uint8_t>((*in)[0]);
  if (code < kIntZeroCode - 8 || code > kIntZeroCode + 8) return false;
  const bool negative = code < kIntZeroCode;
  const int len = negative ? kIntZeroCode - code : code - kIntZeroCode;
  if (in->size() < static_cast<std::size_t>(1 + len)) return false;
  std::uint64_t body = 0;
  for (int i = 0; i < len; ++i) body = (body << 8) | static_cast<std::uint8_t>((*in)[1 + i]);
  in->remove_prefix(1 + static_cast<std::size_t>(len));
  if (!negative) {
    if (body > static_cast<std::uint64_t>(INT64_MAX)) return false;
    *v = static_cast<std::int64_t>(body);
    return true;
  }
  const std::uint64_t mask = len == 8 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (8 * len)) - 1);
  const std::uint64_t mag = ~body & mask;
  if (mag > static_cast<std::uint64_t>(INT64_MAX) + 1) return false;
  *v = static_cast<std::int64_t>(~mag + 1);
  return true;
}

}  // namespace

std::string PackIndexPrefix(std::string_view name, std::int64_t value) {
  std::string out;
  PackEscaped(&out, kStringCode, "idx");
  PackEscaped(&out, kStringCode, name);
  PackInt(&out, value);
  return out;
}

std::string PackIndexKey(std::string_view name, std::int64_t value, std::string_view key) {
  std::string out = PackIndexPrefix(name, value);
  PackEscaped(&out, kBytesCode, key);
  return out;
}

Status UnpackIndexKey(std::string_view name, std::string_view bytes, std::int64_t* value,
                      std::string* key) {
  std::string s;
  if (!UnpackEscaped(&bytes, kStringCode, &s) || s != "idx") {
    return Status::Corruption("index row does not start with \"idx\"");
  }
  if (!UnpackEscaped(&bytes, kStringCode, &s) || s != name) {
    return Status::Corruption("index row is not of index " + std::string(name));
  }
  if (!UnpackInt(&bytes, value)) return Status::Corruption("index row has a bad integer value");
  if (!UnpackEscaped(&bytes, kBytesCode, key) || !bytes.empty()) {
    return Status::Corruption("index row has a bad key element");
  }
  return Status::Ok();
}

}  // namespace aspen::sm
