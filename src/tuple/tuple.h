// The FoundationDB tuple layer: typed, order-preserving keys.
//
// A Tuple is a sequence of Elements. Pack() encodes it byte-for-byte as
// FoundationDB's bindings do (design/tuple.md in apple/foundationdb; the
// grammar is in pack.cc and docs/TUPLE.md), so that for any tuples a and b:
//
//   Compare(a, b) < 0  <=>  a.Pack() < b.Pack()  (unsigned bytewise order)
//   Tuple::Unpack(t.Pack()) == t                 (exactly, float bits included)
//
// Compare is the semantic order, defined on values (numbers by value, text by
// its UTF-8 bytes, ...), not on the encoding. Elements of different types order
// by type: null < bytes < string < tuple < int < float < double < bool < uuid
// < versionstamp, which is the order of their type codes.
//
// Element and Tuple are plain value types: copy freely; concurrent reads are
// safe, concurrent mutation is not. Preconditions of the unchecked builders
// (valid UTF-8, nesting depth) are asserted; code that handles outside input
// uses the checked forms (Element::CheckedString, Versionstamp::FromBytes) or
// validates first.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "tuple/bigint.h"
#include "tuple/result.h"

namespace aspen::tuple {

// Unpack rejects, and the builders assert against, tuples nested deeper than
// this: a tuple without nested tuples has depth 0; {"tuple": [...]} adds 1.
inline constexpr int kMaxNestingDepth = 64;

// Element types in the order they sort. Values are not the wire type codes.
enum class Type : std::uint8_t {
  kNull,
  kBytes,
  kString,
  kTuple,
  kInt,
  kFloat,
  kDouble,
  kBool,
  kUuid,
  kVersionstamp,
};

// A 16-byte RFC 4122 UUID in network byte order.
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
};

// A complete 96-bit versionstamp: a 10-byte transaction version followed by a
// 2-byte big-endian user version. An incomplete one (transaction version all
// 0xff, to be filled in by a commit) cannot be represented.
class Versionstamp {
 public:
  static constexpr std::size_t kSize = 12;
  using Bytes = std::array<std::uint8_t, kSize>;

  // Errors with kIncompleteVersionstamp if the first 10 bytes are all 0xff.
  static Result<Versionstamp> FromBytes(const Bytes& bytes);

  const Bytes& bytes() const { return bytes_; }
  friend auto operator<=>(const Versionstamp&, const Versionstamp&) = default;

 private:
  explicit Versionstamp(const Bytes& bytes) : bytes_(bytes) {}
  Bytes bytes_;
};

class Element;

class Tuple {
 public:
  Tuple() = default;
  Tuple(const Tuple&);
  Tuple(Tuple&&) noexcept;
  Tuple& operator=(const Tuple&);
  Tuple& operator=(Tuple&&) noexcept;
  ~Tuple();

  // Builders return *this for chaining: Tuple().Add("users").Add(12345).
  Tuple& Append(Element e);  // asserts the resulting depth <= kMaxNestingDepth
  Tuple& AddNull();
  Tuple& AddBytes(std::string_view bytes);
  Tuple& Add(std::string_view utf8);  // a string; asserts valid UTF-8
  Tuple& Add(const char* utf8) { return Add(std::string_view(utf8)); }
  Tuple& Add(std::int64_t v);
  Tuple& Add(int v) { return Add(static_cast<std::int64_t>(v)); }
  Tuple& AddUint(std::uint64_t v);
  Tuple& Add(BigInt v);
  Tuple& Add(float v);   // keeps the exact bit pattern
  Tuple& Add(double v);  // keeps the exact bit pattern
  Tuple& Add(bool v);
  Tuple& Add(const Uuid& v);
  Tuple& Add(const Versionstamp& v);
  Tuple& Add(Tuple nested);  // asserts the resulting depth <= kMaxNestingDepth

  std::size_t size() const;
  bool empty() const;
  // Capacity hint for n elements in total; no effect on the value.
  void Reserve(std::size_t n);
  const Element& operator[](std::size_t i) const;  // asserts i < size()
  std::vector<Element>::const_iterator begin() const;
  std::vector<Element>::const_iterator end() const;
  // 0 without nested tuples, else 1 + the deepest nested tuple's depth.
  int depth() const { return depth_; }

  // The FoundationDB encoding; the empty tuple packs to zero bytes.
  std::string Pack() const;
  // Appends the encoding to *out (keys with a prefix, batching).
  void PackTo(std::string* out) const;
  // Decodes a whole key. Errors (never reads out of bounds) on truncated input,
  // an unknown type code, a non-canonical form, invalid UTF-8 in a string,
  // nesting deeper than kMaxNestingDepth, or an incomplete versionstamp.
  // Accepted non-canonical alias: FoundationDB's Python binding writes
  // +-(2^64-1) as 1d 08 ff*8 / 0b f7 00*8; both decode to the same integer as
  // the canonical 1c ff*8 / 0c 00*8 that Pack writes.
  static Result<Tuple> Unpack(std::string_view key);

  // [Pack() + 0x00, Pack() + 0xff): exactly the packed keys of tuples that
  // extend this one by at least one element (this tuple's own key excluded),
  // as FoundationDB's Tuple.range().
  std::pair<std::string, std::string> Range() const;

  // The semantic order described above: element by element, a proper prefix
  // first. Returns <0, 0 or >0.
  friend int Compare(const Tuple& a, const Tuple& b);
  friend bool operator==(const Tuple& a, const Tuple& b) { return Compare(a, b) == 0; }
  friend std::strong_ordering operator<=>(const Tuple& a, const Tuple& b) {
    return Compare(a, b) <=> 0;
  }

 private:
  std::vector<Element> elements_;
  int depth_ = 0;
};

class Element {
 public:
  Element() = default;  // null

  static Element Null() { return Element(); }
  static Element Bytes(std::string bytes);
  static Element String(std::string utf8);  // asserts valid UTF-8
  // Errors with kInvalidUtf8 (naming the byte offset) instead of asserting.
  static Result<Element> CheckedString(std::string utf8);
  static Element Int(BigInt v);
  static Element FloatBits(std::uint32_t bits);
  static Element DoubleBits(std::uint64_t bits);
  static Element Bool(bool v);
  static Element FromUuid(const Uuid& v);
  static Element FromVersionstamp(const Versionstamp& v);
  static Element Nested(Tuple t);  // asserts t.depth() < kMaxNestingDepth

  Type type() const { return type_; }
  // Accessors assert the type.
  const std::string& bytes() const;          // kBytes
  const std::string& str() const;            // kString (UTF-8)
  const Tuple& tuple() const;                // kTuple
  const BigInt& integer() const;             // kInt
  std::uint32_t float_bits() const;          // kFloat
  std::uint64_t double_bits() const;         // kDouble
  bool boolean() const;                      // kBool
  const Uuid& uuid() const;                  // kUuid
  const Versionstamp& versionstamp() const;  // kVersionstamp

  friend int Compare(const Element& a, const Element& b);
  friend bool operator==(const Element& a, const Element& b) { return Compare(a, b) == 0; }
  friend std::strong_ordering operator<=>(const Element& a, const Element& b) {
    return Compare(a, b) <=> 0;
  }

 private:
  // kBytes and kString share std::string; kFloat holds uint32_t bits, kDouble
  // uint64_t bits. The alternative always matches type_ (asserted).
  using Value = std::variant<std::monostate, std::string, Tuple, BigInt, std::uint32_t,
                             std::uint64_t, bool, Uuid, Versionstamp>;
  Element(Type type, Value value) : type_(type), value_(std::move(value)) {}

  Type type_ = Type::kNull;
  Value value_;
};

// Defined here, where Element is complete.
inline std::size_t Tuple::size() const {
  return elements_.size();
}
inline bool Tuple::empty() const {
  return elements_.empty();
}

// The semantic order of IEEE-754 values used by Compare (IEEE totalOrder):
// negative NaNs (larger payload first) < -inf < ... < -0.0 < +0.0 < ... < +inf
// < positive NaNs (larger payload last). Exposed for tests.
int CompareFloatBits(std::uint32_t a, std::uint32_t b);
int CompareDoubleBits(std::uint64_t a, std::uint64_t b);

}  // namespace aspen::tuple
