// The decoder: the inverse of pack.cc's grammar. It accepts exactly the
// canonical encodings Pack writes, plus FoundationDB Python's 0x1d/0x0b form of
// +-(2^64-1). Every read is bounds-checked before it happens; recursion depth
// is bounded by kMaxNestingDepth.
#include <algorithm>
#include <cstring>
#include <optional>

#include "tuple/codes.h"
#include "tuple/tuple.h"
#include "tuple/utf8.h"

namespace aspen::tuple {

namespace {

using namespace internal;  // NOLINT: the wire codes

std::string Hex2(std::uint8_t b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  return std::string{'0', 'x', kDigits[b >> 4], kDigits[b & 0xf]};
}

// Most keys hold a handful of elements.
constexpr std::size_t kTypicalElements = 6;

class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}

  // Decodes elements into *out until the input ends (top level) or, for a
  // nested tuple, until its terminating 0x00. `level` is the nesting level of
  // *out (0 for the top).
  std::optional<Error> DecodeTuple(Tuple* out, int level, bool nested) {
    const std::size_t start = pos_ - (nested ? 1 : 0);
    out->Reserve(kTypicalElements);  // saves the 1, 2, 4 growth steps of short keys
    while (true) {
      if (pos_ >= in_.size()) {
        if (!nested) return std::nullopt;
        return Fail(ErrorCode::kTruncated, start, "nested tuple has no terminating 0x00");
      }
      const auto code = Byte(pos_);
      if (code == kNullCode) {
        if (!nested) {
          out->AddNull();
          ++pos_;
        } else if (pos_ + 1 < in_.size() && Byte(pos_ + 1) == kEscape) {
          out->AddNull();
          pos_ += 2;
        } else {
          ++pos_;  // the nested tuple's terminator
          return std::nullopt;
        }
        continue;
      }
      if (auto err = DecodeElement(out, level); err) return err;
    }
  }

 private:
  std::uint8_t Byte(std::size_t i) const {
    ASPEN_TUPLE_ASSERT(i < in_.size());
    return static_cast<std::uint8_t>(in_[i]);
  }

  static Error Fail(ErrorCode code, std::size_t offset, const std::string& what) {
    return Error(code, what + " (element at offset " + std::to_string(offset) + ")");
  }

  // Decodes the element whose type code is at pos_ (not 0x00).
  std::optional<Error> DecodeElement(Tuple* out, int level) {
    const std::size_t start = pos_;
    const std::uint8_t code = Byte(pos_++);
    switch (code) {
      case kBytesCode:
      case kStringCode: return DecodeEscaped(out, code, start);
      case kNestedCode: {
        if (level + 1 > kMaxNestingDepth) {
          return Fail(ErrorCode::kTooDeep, start,
                      "tuples nested deeper than " + std::to_string(kMaxNestingDepth) + " levels");
        }
        Tuple child;
        if (auto err = DecodeTuple(&child, level + 1, /*nested=*/true); err) return err;
        out->Append(Element::Nested(std::move(child)));
        return std::nullopt;
      }
      case kPosBigIntCode:
      case kNegBigIntCode: return DecodeBigInt(out, code, start);
      case kFloatCode: return DecodeIeee<std::uint32_t>(out, start);
      case kDoubleCode: return DecodeIeee<std::uint64_t>(out, start);
      case kFalseCode: out->Add(false); return std::nullopt;
      case kTrueCode: out->Add(true); return std::nullopt;
      case kUuidCode: {
        Uuid u;
        if (!Take(u.bytes.data(), u.bytes.size())) {
          return Fail(ErrorCode::kTruncated, start, "UUID needs 16 bytes");
        }
        out->Add(u);
        return std::nullopt;
      }
      case kVersionstampCode: {
        Versionstamp::Bytes b;
        if (!Take(b.data(), b.size())) {
          return Fail(ErrorCode::kTruncated, start, "versionstamp needs 12 bytes");
        }
        auto vs = Versionstamp::FromBytes(b);
        if (!vs.ok()) return Fail(vs.error().code(), start, vs.error().message());
        out->Add(*vs);
        return std::nullopt;
      }
      default: break;
    }
    if (code >= kIntZeroCode - kMaxSmallIntBytes && code <= kIntZeroCode + kMaxSmallIntBytes) {
      return DecodeSmallInt(out, code, start);
    }
    return Fail(ErrorCode::kUnknownTypeCode, start, "unknown type code " + Hex2(code));
  }

  // Copies n bytes at pos_ to dst if they are there.
  bool Take(std::uint8_t* dst, std::size_t n) {
    if (in_.size() - pos_ < n) return false;
    std::memcpy(dst, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }

  std::optional<Error> DecodeEscaped(Tuple* out, std::uint8_t code, std::size_t start) {
    std::string data;
    while (true) {
      const char* p = in_.data() + pos_;
      const void* z = std::memchr(p, 0, in_.size() - pos_);
      if (z == nullptr) {
        return Fail(
            ErrorCode::kTruncated, start,
            std::string(code == kBytesCode ? "bytes" : "string") + " has no terminating 0x00");
      }
      const std::size_t zpos = static_cast<std::size_t>(static_cast<const char*>(z) - in_.data());
      data.append(p, static_cast<const char*>(z));
      if (zpos + 1 < in_.size() && Byte(zpos + 1) == kEscape) {
        data.push_back('\0');
        pos_ = zpos + 2;
        continue;
      }
      pos_ = zpos + 1;
      break;
    }
    if (code == kBytesCode) {
      out->Append(Element::Bytes(std::move(data)));
      return std::nullopt;
    }
    auto e = Element::CheckedString(std::move(data));
    if (!e.ok()) return Fail(e.error().code(), start, e.error().message());
    out->Append(std::move(*e));
    return std::nullopt;
  }

  // Reads n magnitude bytes (complemented if negative) and appends the int.
  std::optional<Error> FinishInt(Tuple* out, bool negative, std::size_t n, std::size_t start) {
    if (in_.size() - pos_ < n) {
      return Fail(ErrorCode::kTruncated, start, "integer needs " + std::to_string(n) + " bytes");
    }
    std::string mag(in_.substr(pos_, n));
    pos_ += n;
    if (negative) {
      for (char& c : mag) c = static_cast<char>(~static_cast<unsigned char>(c));
    }
    if (n > 0 && mag[0] == '\0') {
      return Fail(ErrorCode::kNonCanonical, start,
                  "non-canonical integer: its first magnitude byte is zero");
    }
    auto v = BigInt::FromMagnitude(negative, mag);
    ASPEN_TUPLE_ASSERT(v.ok());  // n <= 255 by construction
    out->Add(std::move(*v));
    return std::nullopt;
  }

  std::optional<Error> DecodeSmallInt(Tuple* out, std::uint8_t code, std::size_t start) {
    const bool negative = code < kIntZeroCode;
    const std::size_t n = negative ? kIntZeroCode - code : code - kIntZeroCode;
    return FinishInt(out, negative, n, start);
  }

  std::optional<Error> DecodeBigInt(Tuple* out, std::uint8_t code, std::size_t start) {
    if (pos_ >= in_.size()) return Fail(ErrorCode::kTruncated, start, "integer has no length byte");
    const bool negative = code == kNegBigIntCode;
    const std::size_t n = negative ? Byte(pos_) ^ 0xff : Byte(pos_);
    ++pos_;
    if (n <= static_cast<std::size_t>(kMaxSmallIntBytes)) {
      // Python's form of +-(2^64-1): 8 magnitude bytes all 0xff.
      const char fill = negative ? '\x00' : '\xff';
      const bool alias = n == 8 && in_.size() - pos_ >= 8 &&
                         std::all_of(in_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                     in_.begin() + static_cast<std::ptrdiff_t>(pos_ + 8),
                                     [fill](char c) { return c == fill; });
      if (!alias) {
        if (in_.size() - pos_ < n) {
          return Fail(ErrorCode::kTruncated, start,
                      "integer needs " + std::to_string(n) + " bytes");
        }
        return Fail(ErrorCode::kNonCanonical, start,
                    "non-canonical integer: " + std::to_string(n) + " bytes under type code " +
                        Hex2(code) + " (only 9 to 255 bytes, or +-(2^64-1), use it)");
      }
    }
    return FinishInt(out, negative, n, start);
  }

  template <typename Bits>
  std::optional<Error> DecodeIeee(Tuple* out, std::size_t start) {
    constexpr std::size_t kSize = sizeof(Bits);
    std::uint8_t raw[kSize];
    if (!Take(raw, kSize)) {
      return Fail(ErrorCode::kTruncated, start,
                  std::string(kSize == 4 ? "float" : "double") + " needs " + std::to_string(kSize) +
                      " bytes");
    }
    Bits bits = 0;
    for (std::uint8_t b : raw) bits = static_cast<Bits>((bits << 8) | b);
    constexpr Bits kSign = Bits{1} << (kSize * 8 - 1);
    // Encoded sign bit set: the value was positive (only its sign was flipped).
    bits = (bits & kSign) ? static_cast<Bits>(bits ^ kSign) : static_cast<Bits>(~bits);
    if constexpr (kSize == 4) {
      out->Append(Element::FloatBits(bits));
    } else {
      out->Append(Element::DoubleBits(bits));
    }
    return std::nullopt;
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<Tuple> Tuple::Unpack(std::string_view key) {
  Tuple out;
  Decoder decoder(key);
  if (auto err = decoder.DecodeTuple(&out, /*level=*/0, /*nested=*/false); err) {
    return *std::move(err);
  }
  return out;
}

}  // namespace aspen::tuple
