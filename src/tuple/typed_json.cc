#include "tuple/typed_json.h"

#include <cstddef>
#include <cstdint>

namespace aspen::tuple {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

std::string FixedWidthHex(std::uint64_t v, int digits) {
  std::string s(static_cast<std::size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = kDigits[v & 0xf];
  return s;
}

std::string_view AsChars(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace

std::string LowerHex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

nlohmann::json ToTypedJson(const Tuple& t) {
  nlohmann::json arr = nlohmann::json::array();
  for (const Element& e : t) {
    nlohmann::json obj = nlohmann::json::object();
    switch (e.type()) {
      case Type::kNull: obj["null"] = nullptr; break;
      case Type::kBytes: obj["bytes"] = LowerHex(e.bytes()); break;
      case Type::kString: obj["string"] = e.str(); break;
      case Type::kTuple: obj["tuple"] = ToTypedJson(e.tuple()); break;
      case Type::kInt: obj["int"] = e.integer().ToDecimal(); break;
      case Type::kFloat: obj["float"] = FixedWidthHex(e.float_bits(), 8); break;
      case Type::kDouble: obj["double"] = FixedWidthHex(e.double_bits(), 16); break;
      case Type::kBool: obj["bool"] = e.boolean(); break;
      case Type::kUuid:
        obj["uuid"] = LowerHex(AsChars(e.uuid().bytes.data(), e.uuid().bytes.size()));
        break;
      case Type::kVersionstamp:
        obj["versionstamp"] =
            LowerHex(AsChars(e.versionstamp().bytes().data(), Versionstamp::kSize));
        break;
    }
    arr.push_back(std::move(obj));
  }
  return arr;
}

std::string ToTypedJsonText(const Tuple& t) {
  return ToTypedJson(t).dump(-1, ' ', /*ensure_ascii=*/true,
                             nlohmann::json::error_handler_t::strict);
}

}  // namespace aspen::tuple
