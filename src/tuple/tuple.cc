// Tuple and Element: construction, access and the semantic order. The byte
// encoding is in pack.cc and unpack.cc.
#include "tuple/tuple.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "tuple/utf8.h"

namespace aspen::tuple {

Result<Versionstamp> Versionstamp::FromBytes(const Bytes& bytes) {
  const bool incomplete =
      std::all_of(bytes.begin(), bytes.begin() + 10, [](std::uint8_t b) { return b == 0xff; });
  if (incomplete) {
    return Error(ErrorCode::kIncompleteVersionstamp,
                 "incomplete versionstamp (transaction version is all 0xff); only complete "
                 "versionstamps can be packed or unpacked");
  }
  return Versionstamp(bytes);
}

// ---- Tuple ----

Tuple::Tuple(const Tuple&) = default;
Tuple::Tuple(Tuple&&) noexcept = default;
Tuple& Tuple::operator=(const Tuple&) = default;
Tuple& Tuple::operator=(Tuple&&) noexcept = default;
Tuple::~Tuple() = default;

Tuple& Tuple::Append(Element e) {
  if (e.type() == Type::kTuple) {
    depth_ = std::max(depth_, e.tuple().depth() + 1);
    ASPEN_TUPLE_ASSERT(depth_ <= kMaxNestingDepth);
  }
  elements_.push_back(std::move(e));
  return *this;
}

Tuple& Tuple::AddNull() {
  return Append(Element::Null());
}
Tuple& Tuple::AddBytes(std::string_view bytes) {
  return Append(Element::Bytes(std::string(bytes)));
}
Tuple& Tuple::Add(std::string_view utf8) {
  return Append(Element::String(std::string(utf8)));
}
Tuple& Tuple::Add(std::int64_t v) {
  return Append(Element::Int(BigInt::FromInt64(v)));
}
Tuple& Tuple::AddUint(std::uint64_t v) {
  return Append(Element::Int(BigInt::FromUint64(v)));
}
Tuple& Tuple::Add(BigInt v) {
  return Append(Element::Int(std::move(v)));
}
Tuple& Tuple::Add(float v) {
  return Append(Element::FloatBits(std::bit_cast<std::uint32_t>(v)));
}
Tuple& Tuple::Add(double v) {
  return Append(Element::DoubleBits(std::bit_cast<std::uint64_t>(v)));
}
Tuple& Tuple::Add(bool v) {
  return Append(Element::Bool(v));
}
Tuple& Tuple::Add(const Uuid& v) {
  return Append(Element::FromUuid(v));
}
Tuple& Tuple::Add(const Versionstamp& v) {
  return Append(Element::FromVersionstamp(v));
}
Tuple& Tuple::Add(Tuple nested) {
  return Append(Element::Nested(std::move(nested)));
}

void Tuple::Reserve(std::size_t n) {
  elements_.reserve(n);
}

const Element& Tuple::operator[](std::size_t i) const {
  ASPEN_TUPLE_ASSERT(i < elements_.size());
  return elements_[i];
}
std::vector<Element>::const_iterator Tuple::begin() const {
  return elements_.begin();
}
std::vector<Element>::const_iterator Tuple::end() const {
  return elements_.end();
}

std::pair<std::string, std::string> Tuple::Range() const {
  std::string begin = Pack();
  std::string end = begin;
  begin.push_back('\x00');
  end.push_back('\xff');
  return {std::move(begin), std::move(end)};
}

int Compare(const Tuple& a, const Tuple& b) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (const int c = Compare(a.elements_[i], b.elements_[i]); c != 0) return c;
  }
  return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
}

// ---- Element ----

Element Element::Bytes(std::string bytes) {
  return Element(Type::kBytes, std::move(bytes));
}

Element Element::String(std::string utf8) {
  ASPEN_TUPLE_ASSERT(IsValidUtf8(utf8));
  return Element(Type::kString, std::move(utf8));
}

Result<Element> Element::CheckedString(std::string utf8) {
  if (const std::size_t bad = FindInvalidUtf8(utf8); bad != std::string::npos) {
    return Error(
        ErrorCode::kInvalidUtf8,
        "string is not valid UTF-8 (ill-formed sequence at byte " + std::to_string(bad) + ")");
  }
  return Element(Type::kString, std::move(utf8));
}

Element Element::Int(BigInt v) {
  return Element(Type::kInt, std::move(v));
}
Element Element::FloatBits(std::uint32_t bits) {
  return Element(Type::kFloat, bits);
}
Element Element::DoubleBits(std::uint64_t bits) {
  return Element(Type::kDouble, bits);
}
Element Element::Bool(bool v) {
  return Element(Type::kBool, v);
}
Element Element::FromUuid(const Uuid& v) {
  return Element(Type::kUuid, v);
}
Element Element::FromVersionstamp(const Versionstamp& v) {
  return Element(Type::kVersionstamp, v);
}
Element Element::Nested(Tuple t) {
  ASPEN_TUPLE_ASSERT(t.depth() < kMaxNestingDepth);
  return Element(Type::kTuple, std::move(t));
}

const std::string& Element::bytes() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kBytes);
  return std::get<std::string>(value_);
}
const std::string& Element::str() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kString);
  return std::get<std::string>(value_);
}
const Tuple& Element::tuple() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kTuple);
  return std::get<Tuple>(value_);
}
const BigInt& Element::integer() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kInt);
  return std::get<BigInt>(value_);
}
std::uint32_t Element::float_bits() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kFloat);
  return std::get<std::uint32_t>(value_);
}
std::uint64_t Element::double_bits() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kDouble);
  return std::get<std::uint64_t>(value_);
}
bool Element::boolean() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kBool);
  return std::get<bool>(value_);
}
const Uuid& Element::uuid() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kUuid);
  return std::get<Uuid>(value_);
}
const Versionstamp& Element::versionstamp() const {
  ASPEN_TUPLE_ASSERT(type_ == Type::kVersionstamp);
  return std::get<Versionstamp>(value_);
}

namespace {

template <typename T>
int Sign(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// IEEE totalOrder written on values: NaN class by sign, numbers by value with
// -0.0 < +0.0, NaNs of one sign by payload (mirrored for negative NaNs).
template <typename F, typename Bits>
int CompareIeee(Bits a, Bits b) {
  const F fa = std::bit_cast<F>(a);
  const F fb = std::bit_cast<F>(b);
  const auto rank = [](F f) { return std::isnan(f) ? (std::signbit(f) ? 0 : 2) : 1; };
  const int ra = rank(fa);
  const int rb = rank(fb);
  if (ra != rb) return ra < rb ? -1 : 1;
  if (ra == 1) {
    if (fa < fb) return -1;
    if (fb < fa) return 1;
    // Numerically equal: only the zeros differ, by sign.
    return Sign(!std::signbit(fa), !std::signbit(fb));
  }
  constexpr Bits kPayload = ~(Bits{1} << (sizeof(Bits) * 8 - 1));
  const int c = Sign(static_cast<Bits>(a & kPayload), static_cast<Bits>(b & kPayload));
  return ra == 2 ? c : -c;
}

}  // namespace

int CompareFloatBits(std::uint32_t a, std::uint32_t b) {
  return CompareIeee<float>(a, b);
}
int CompareDoubleBits(std::uint64_t a, std::uint64_t b) {
  return CompareIeee<double>(a, b);
}

int Compare(const Element& a, const Element& b) {
  if (a.type_ != b.type_) return a.type_ < b.type_ ? -1 : 1;
  switch (a.type_) {
    case Type::kNull: return 0;
    case Type::kBytes:
    case Type::kString: {
      const int c = std::get<std::string>(a.value_).compare(std::get<std::string>(b.value_));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    case Type::kTuple: return Compare(a.tuple(), b.tuple());
    case Type::kInt: return Sign(a.integer(), b.integer());
    case Type::kFloat: return CompareFloatBits(a.float_bits(), b.float_bits());
    case Type::kDouble: return CompareDoubleBits(a.double_bits(), b.double_bits());
    case Type::kBool: return Sign(a.boolean(), b.boolean());
    case Type::kUuid: return Sign(a.uuid(), b.uuid());
    case Type::kVersionstamp: return Sign(a.versionstamp(), b.versionstamp());
  }
  ASPEN_TUPLE_ASSERT(false);
  return 0;
}

}  // namespace aspen::tuple
