// RapidCheck properties of Pack/Unpack, the order, Range and Strinc.
//
// The order property compares the bytes of Pack() against ReferenceCompare, a
// semantic comparator written here from the spec's rules (integers through
// their decimal strings, floats through the documented class order), not the
// encoder's tricks.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "tuple/subspace.h"
#include "tuple/test_util.h"
#include "tuple/tuple.h"

namespace aspen::tuple {
namespace {

using testing::Hex;
using testing::Utf8;

// ---- generators ----

rc::Gen<std::string> GenBytes() {
  // Mostly bytes that matter to the escaping: 0x00, 0x01, 0xfe, 0xff.
  return rc::gen::oneOf(
      rc::gen::container<std::string>(rc::gen::element('\x00', '\x01', 'a', '\xfe', '\xff')),
      rc::gen::container<std::string>(rc::gen::arbitrary<char>()));
}

rc::Gen<std::string> GenUtf8() {
  const auto code_point = rc::gen::oneOf(
      rc::gen::element<std::uint32_t>(0x0, 0x1, 'a', 0x7f, 0x80, 0x85, 0x7ff, 0x800, 0x2028, 0xd7ff,
                                      0xe000, 0xfffd, 0xffff, 0x10000, 0x1f4a9, 0x10ffff),
      rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(0, 0x110000),
                        [](std::uint32_t c) { return c < 0xd800 || c > 0xdfff; }));
  return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(code_point),
                      [](const std::vector<std::uint32_t>& cps) {
                        std::string s;
                        for (auto c : cps) s += Utf8(c);
                        return s;
                      });
}

// Integers of every size: small, near +-2^k for k up to 2040, any magnitude.
rc::Gen<BigInt> GenBigInt() {
  const auto near_power = rc::gen::apply(
      [](int k, int delta, bool negative) {
        // 2^k + delta as a magnitude; clamp into range.
        std::string mag(static_cast<std::size_t>(k / 8 + 1), '\0');
        mag[0] = static_cast<char>(1 << (k % 8));
        if (mag.size() > BigInt::kMaxMagnitudeBytes) mag = std::string(255, '\xff');
        auto base = *BigInt::FromMagnitude(negative, mag);
        if (delta == 0) return base;
        // Add/subtract |delta| on the last byte with borrow/carry.
        std::string m = base.magnitude();
        int d = delta;
        int i = static_cast<int>(m.size()) - 1;
        while (d != 0 && i >= 0) {
          int v = static_cast<unsigned char>(m[static_cast<std::size_t>(i)]) + d;
          d = 0;
          if (v < 0) {
            v += 256;
            d = -1;
          } else if (v > 255) {
            v -= 256;
            d = 1;
          }
          m[static_cast<std::size_t>(i)] = static_cast<char>(v);
          --i;
        }
        if (d > 0) m.insert(m.begin(), '\x01');
        if (d < 0 || m.size() > 255) return base;
        return *BigInt::FromMagnitude(negative, m);
      },
      rc::gen::inRange(0, 2041), rc::gen::inRange(-3, 4), rc::gen::arbitrary<bool>());
  const auto any_magnitude = rc::gen::apply(
      [](const std::string& m, bool negative) {
        return *BigInt::FromMagnitude(negative, m.substr(0, 255));
      },
      rc::gen::container<std::string>(rc::gen::arbitrary<char>()), rc::gen::arbitrary<bool>());
  return rc::gen::oneOf(rc::gen::map(rc::gen::arbitrary<std::int64_t>(), BigInt::FromInt64),
                        rc::gen::map(rc::gen::arbitrary<std::uint64_t>(), BigInt::FromUint64),
                        near_power, any_magnitude);
}

rc::Gen<std::uint32_t> GenFloatBits() {
  return rc::gen::oneOf(
      rc::gen::element<std::uint32_t>(0x0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                                      0xffc00000, 0x7f800001, 0xff800001, 0x3f800000, 0x00000001),
      rc::gen::arbitrary<std::uint32_t>());
}

rc::Gen<std::uint64_t> GenDoubleBits() {
  return rc::gen::oneOf(rc::gen::element<std::uint64_t>(
                            0x0, 0x8000000000000000, 0x7ff0000000000000, 0xfff0000000000000,
                            0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000001, 0x1),
                        rc::gen::arbitrary<std::uint64_t>());
}

rc::Gen<Tuple> GenTuple(int depth);

rc::Gen<Element> GenElement(int depth) {
  const auto leaf = rc::gen::weightedOneOf<Element>({
      {1, rc::gen::just(Element::Null())},
      {2, rc::gen::map(GenBytes(), Element::Bytes)},
      {2, rc::gen::map(GenUtf8(), Element::String)},
      {4, rc::gen::map(GenBigInt(), Element::Int)},
      {1, rc::gen::map(GenFloatBits(), Element::FloatBits)},
      {1, rc::gen::map(GenDoubleBits(), Element::DoubleBits)},
      {1, rc::gen::map(rc::gen::arbitrary<bool>(), Element::Bool)},
      {1, rc::gen::map(
              rc::gen::arbitrary<std::array<std::uint8_t, 16>>(),
              [](const std::array<std::uint8_t, 16>& b) { return Element::FromUuid(Uuid{b}); })},
      {1, rc::gen::map(rc::gen::arbitrary<std::array<std::uint8_t, 12>>(),
                       [](std::array<std::uint8_t, 12> b) {
                         if (!Versionstamp::FromBytes(b).ok()) b[0] = 0;
                         return Element::FromVersionstamp(*Versionstamp::FromBytes(b));
                       })},
  });
  if (depth >= 3) return leaf;
  return rc::gen::weightedOneOf<Element>(
      {{7, leaf}, {1, rc::gen::map(GenTuple(depth + 1), Element::Nested)}});
}

rc::Gen<Tuple> GenTuple(int depth) {
  return rc::gen::map(
      rc::gen::resize(6, rc::gen::container<std::vector<Element>>(GenElement(depth))),
      [](std::vector<Element> elements) {
        Tuple t;
        for (auto& e : elements) t.Append(std::move(e));
        return t;
      });
}

// A second tuple that often shares a prefix with `a`, so comparisons reach
// deep elements and near-equal values.
rc::Gen<Tuple> GenRelated(const Tuple& a) {
  return rc::gen::oneOf(GenTuple(0),
                        rc::gen::map(GenTuple(1),
                                     [a](const Tuple& suffix) {
                                       Tuple t = a;
                                       for (const auto& e : suffix) t.Append(e);
                                       return t;
                                     }),
                        rc::gen::apply(
                            [a](std::size_t cut, const Element& e) {
                              Tuple t;
                              for (std::size_t i = 0; i < std::min(cut, a.size()); ++i)
                                t.Append(a[i]);
                              t.Append(e);
                              return t;
                            },
                            rc::gen::inRange<std::size_t>(0, a.size() + 1), GenElement(1)));
}

// ---- the reference order ----

int Sign(int c) {
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int TypeRank(Type t) {
  // The order of the spec's type codes.
  switch (t) {
    case Type::kNull: return 0x00;
    case Type::kBytes: return 0x01;
    case Type::kString: return 0x02;
    case Type::kTuple: return 0x05;
    case Type::kInt: return 0x14;
    case Type::kFloat: return 0x20;
    case Type::kDouble: return 0x21;
    case Type::kBool: return 0x26;
    case Type::kUuid: return 0x30;
    case Type::kVersionstamp: return 0x33;
  }
  return -1;
}

int CompareDecimal(const std::string& a, const std::string& b) {
  const bool na = a[0] == '-';
  const bool nb = b[0] == '-';
  if (na != nb) return na ? -1 : 1;
  const std::string ma = na ? a.substr(1) : a;
  const std::string mb = nb ? b.substr(1) : b;
  int c = ma.size() != mb.size() ? (ma.size() < mb.size() ? -1 : 1) : Sign(ma.compare(mb));
  return na ? -c : c;
}

// Spec order for IEEE values: -NaNs (payload descending), numbers ascending with
// -0.0 before +0.0, +NaNs (payload ascending).
template <typename F, typename Bits>
int ReferenceIeee(Bits a, Bits b) {
  auto key = [](Bits bits) {
    const F f = std::bit_cast<F>(bits);
    const Bits payload = bits & ~(Bits{1} << (sizeof(Bits) * 8 - 1));
    if (std::isnan(f)) {
      return std::signbit(f) ? std::tuple(0, 0.0L, -static_cast<long double>(payload))
                             : std::tuple(4, 0.0L, static_cast<long double>(payload));
    }
    if (f == 0) return std::tuple(std::signbit(f) ? 1 : 2, 0.0L, 0.0L);
    return std::tuple(f < 0 ? 1 : 3, static_cast<long double>(f), 0.0L);
  };
  const auto ka = key(a);
  const auto kb = key(b);
  return ka < kb ? -1 : (kb < ka ? 1 : 0);
}

int ReferenceCompare(const Tuple& a, const Tuple& b);

int ReferenceCompare(const Element& a, const Element& b) {
  if (a.type() != b.type()) return TypeRank(a.type()) < TypeRank(b.type()) ? -1 : 1;
  auto bytes_cmp = [](const std::string& x, const std::string& y) {
    const std::size_t n = std::min(x.size(), y.size());
    const int c = n == 0 ? 0 : std::memcmp(x.data(), y.data(), n);
    if (c != 0) return Sign(c);
    return x.size() == y.size() ? 0 : (x.size() < y.size() ? -1 : 1);
  };
  switch (a.type()) {
    case Type::kNull: return 0;
    case Type::kBytes: return bytes_cmp(a.bytes(), b.bytes());
    case Type::kString: return bytes_cmp(a.str(), b.str());
    case Type::kTuple: return ReferenceCompare(a.tuple(), b.tuple());
    case Type::kInt: return CompareDecimal(a.integer().ToDecimal(), b.integer().ToDecimal());
    case Type::kFloat: return ReferenceIeee<float>(a.float_bits(), b.float_bits());
    case Type::kDouble: return ReferenceIeee<double>(a.double_bits(), b.double_bits());
    case Type::kBool: return a.boolean() == b.boolean() ? 0 : (a.boolean() ? 1 : -1);
    case Type::kUuid: return Sign(std::memcmp(a.uuid().bytes.data(), b.uuid().bytes.data(), 16));
    case Type::kVersionstamp:
      return Sign(
          std::memcmp(a.versionstamp().bytes().data(), b.versionstamp().bytes().data(), 12));
  }
  return 0;
}

int ReferenceCompare(const Tuple& a, const Tuple& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (const int c = ReferenceCompare(a[i], b[i]); c != 0) return c;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

int ByteCompare(const std::string& a, const std::string& b) {
  const int c = a.compare(b);  // char_traits<char> compares as unsigned char
  return Sign(c);
}

// ---- properties ----

RC_GTEST_PROP(TupleProperty, UnpackOfPackIsIdentity, ()) {
  const Tuple t = *GenTuple(0);
  const std::string key = t.Pack();
  auto back = Tuple::Unpack(key);
  RC_ASSERT(back.ok());
  RC_ASSERT(ReferenceCompare(*back, t) == 0);
  RC_ASSERT(back->Pack() == key);
}

RC_GTEST_PROP(TupleProperty, ByteOrderOfPackEqualsSemanticOrder, ()) {
  const Tuple a = *GenTuple(0);
  const Tuple b = *GenRelated(a);
  const int expected = ReferenceCompare(a, b);
  RC_TAG(expected);
  RC_ASSERT(ByteCompare(a.Pack(), b.Pack()) == expected);
  RC_ASSERT(Sign(Compare(a, b)) == expected);
}

RC_GTEST_PROP(TupleProperty, RangeHoldsExactlyTheProperExtensions, ()) {
  const Tuple t = *GenTuple(0);
  const Tuple u = *GenRelated(t);
  auto [begin, end] = t.Range();
  const std::string key = u.Pack();
  bool extends = u.size() > t.size();
  for (std::size_t i = 0; extends && i < t.size(); ++i) {
    extends = ReferenceCompare(t[i], u[i]) == 0;
  }
  RC_TAG(extends);
  RC_ASSERT((begin <= key && key < end) == extends);
}

RC_GTEST_PROP(TupleProperty, StrincBoundsExactlyTheKeysWithAPrefix, ()) {
  const std::string prefix = *rc::gen::nonEmpty(GenBytes());
  RC_PRE(prefix.find_first_not_of('\xff') != std::string::npos);
  const std::string key = *rc::gen::oneOf(
      GenBytes(), rc::gen::map(GenBytes(), [prefix](const std::string& s) { return prefix + s; }),
      rc::gen::map(GenBytes(), [prefix](const std::string& s) {
        return prefix.substr(0, prefix.size() - 1) + s;
      }));
  auto next = Strinc(prefix);
  RC_ASSERT(next.ok());
  const bool has_prefix = key.compare(0, prefix.size(), prefix) == 0 && key.size() >= prefix.size();
  RC_TAG(has_prefix);
  RC_ASSERT((prefix <= key && key < *next) == has_prefix);
}

RC_GTEST_PROP(TupleProperty, SubspaceRoundTripsAndContainsItsKeys, ()) {
  const Subspace s(*GenTuple(1), *GenBytes());
  const Tuple t = *GenTuple(0);
  const std::string key = s.Pack(t);
  RC_ASSERT(s.Contains(key));
  auto back = s.Unpack(key);
  RC_ASSERT(back.ok());
  RC_ASSERT(ReferenceCompare(*back, t) == 0);
}

RC_GTEST_PROP(TupleProperty, DecimalRoundTrips, ()) {
  const BigInt v = *GenBigInt();
  auto back = BigInt::FromDecimal(v.ToDecimal());
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == v);
}

}  // namespace
}  // namespace aspen::tuple
