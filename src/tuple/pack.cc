// The encoder. The byte format, as a grammar (docs/TUPLE.md has the prose):
//
//   key      := element*
//   element  := null | bytes | string | nested | int | float | double
//             | false | true | uuid | vstamp
//   null     := 0x00                      (top level)
//   nnull    := 0x00 0xff                 (inside a nested tuple)
//   bytes    := 0x01 escaped 0x00
//   string   := 0x02 escaped(UTF-8) 0x00
//   escaped  := (byte other than 0x00 | 0x00 0xff)*
//   nested   := 0x05 (nnull | element other than null)* 0x00
//   int      := 0x14                                  zero
//             | (0x14 + n) mag[n]                     1 <= n <= 8, positive
//             | (0x14 - n) ~mag[n]                    1 <= n <= 8, negative
//             | 0x1d n mag[n]                         9 <= n <= 255, positive
//             | 0x0b (n ^ 0xff) ~mag[n]               9 <= n <= 255, negative
//       mag[n]: the big-endian magnitude in exactly n bytes, first byte non-zero;
//       ~: every byte complemented (one's complement).
//   float    := 0x20 ieee32'    double := 0x21 ieee64'
//       ieee': the big-endian IEEE-754 bits, all bits flipped if the sign bit
//       is set, else only the sign bit flipped.
//   false    := 0x26            true := 0x27
//   uuid     := 0x30 byte[16]   vstamp := 0x33 byte[12]  (first 10 not all 0xff)
#include <cstring>

#include "tuple/codes.h"
#include "tuple/tuple.h"

namespace aspen::tuple {

namespace {

using namespace internal;  // NOLINT: the wire codes

void PutByte(std::string* out, std::uint8_t b) {
  out->push_back(static_cast<char>(b));
}

void PutEscaped(std::string* out, std::uint8_t code, const std::string& data) {
  PutByte(out, code);
  const char* p = data.data();
  const char* end = p + data.size();
  while (p < end) {
    const void* zero = std::memchr(p, 0, static_cast<std::size_t>(end - p));
    if (zero == nullptr) {
      out->append(p, end);
      break;
    }
    const char* z = static_cast<const char*>(zero);
    out->append(p, z + 1);
    PutByte(out, kEscape);
    p = z + 1;
  }
  PutByte(out, 0x00);
}

void PutInt(std::string* out, const BigInt& v) {
  const std::string& mag = v.magnitude();
  const std::size_t n = mag.size();
  ASPEN_TUPLE_ASSERT(n <= BigInt::kMaxMagnitudeBytes);
  if (!v.negative()) {
    if (n <= kMaxSmallIntBytes) {
      PutByte(out, static_cast<std::uint8_t>(kIntZeroCode + n));
    } else {
      PutByte(out, kPosBigIntCode);
      PutByte(out, static_cast<std::uint8_t>(n));
    }
    out->append(mag);
    return;
  }
  if (n <= kMaxSmallIntBytes) {
    PutByte(out, static_cast<std::uint8_t>(kIntZeroCode - n));
  } else {
    PutByte(out, kNegBigIntCode);
    PutByte(out, static_cast<std::uint8_t>(n ^ 0xff));
  }
  for (char c : mag) PutByte(out, static_cast<std::uint8_t>(~static_cast<unsigned char>(c)));
}

template <typename Bits>
void PutIeee(std::string* out, std::uint8_t code, Bits bits) {
  constexpr int kBits = sizeof(Bits) * 8;
  constexpr Bits kSign = Bits{1} << (kBits - 1);
  bits = (bits & kSign) ? static_cast<Bits>(~bits) : static_cast<Bits>(bits ^ kSign);
  PutByte(out, code);
  for (int shift = kBits - 8; shift >= 0; shift -= 8) {
    PutByte(out, static_cast<std::uint8_t>(bits >> shift));
  }
}

void PutElements(std::string* out, const Tuple& t, bool nested);

void PutElement(std::string* out, const Element& e, bool nested) {
  switch (e.type()) {
    case Type::kNull:
      PutByte(out, kNullCode);
      if (nested) PutByte(out, kEscape);
      return;
    case Type::kBytes: PutEscaped(out, kBytesCode, e.bytes()); return;
    case Type::kString: PutEscaped(out, kStringCode, e.str()); return;
    case Type::kTuple:
      PutByte(out, kNestedCode);
      PutElements(out, e.tuple(), /*nested=*/true);
      PutByte(out, 0x00);
      return;
    case Type::kInt: PutInt(out, e.integer()); return;
    case Type::kFloat: PutIeee(out, kFloatCode, e.float_bits()); return;
    case Type::kDouble: PutIeee(out, kDoubleCode, e.double_bits()); return;
    case Type::kBool: PutByte(out, e.boolean() ? kTrueCode : kFalseCode); return;
    case Type::kUuid:
      PutByte(out, kUuidCode);
      out->append(reinterpret_cast<const char*>(e.uuid().bytes.data()), e.uuid().bytes.size());
      return;
    case Type::kVersionstamp:
      PutByte(out, kVersionstampCode);
      out->append(reinterpret_cast<const char*>(e.versionstamp().bytes().data()),
                  Versionstamp::kSize);
      return;
  }
  ASPEN_TUPLE_ASSERT(false);
}

void PutElements(std::string* out, const Tuple& t, bool nested) {
  for (const Element& e : t) PutElement(out, e, nested);
}

}  // namespace

void Tuple::PackTo(std::string* out) const {
  PutElements(out, *this, /*nested=*/false);
}

std::string Tuple::Pack() const {
  std::string out;
  PackTo(&out);
  return out;
}

}  // namespace aspen::tuple
