#include "tuple/bigint.h"

#include <cstring>
#include <utility>
#include <vector>

namespace aspen::tuple {

namespace {

// Strips leading zero bytes from a big-endian magnitude.
std::string_view TrimLeadingZeros(std::string_view m) {
  std::size_t i = 0;
  while (i < m.size() && m[i] == '\0') ++i;
  return m.substr(i);
}

std::string MagnitudeOfUint64(std::uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return std::string(TrimLeadingZeros(std::string_view(buf, 8)));
}

Result<BigInt> DecimalError(std::string_view text, const char* why) {
  std::string shown(text.substr(0, 40));
  if (text.size() > 40) shown += "...";
  return Error(ErrorCode::kInvalidArgument,
               "integer \"" + shown + "\" is not a canonical decimal: " + why);
}

}  // namespace

BigInt::BigInt(bool negative, std::string magnitude)
    : negative_(negative), magnitude_(std::move(magnitude)) {
  ASPEN_TUPLE_ASSERT(magnitude_.size() <= kMaxMagnitudeBytes);
  ASPEN_TUPLE_ASSERT(magnitude_.empty() || magnitude_[0] != '\0');
  ASPEN_TUPLE_ASSERT(!(negative_ && magnitude_.empty()));
}

BigInt BigInt::FromInt64(std::int64_t v) {
  // Two's-complement negation in unsigned arithmetic handles INT64_MIN.
  const std::uint64_t m = v < 0 ? 0 - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  return BigInt(v < 0, MagnitudeOfUint64(m));
}

BigInt BigInt::FromUint64(std::uint64_t v) {
  return BigInt(false, MagnitudeOfUint64(v));
}

Result<BigInt> BigInt::FromMagnitude(bool negative, std::string_view magnitude) {
  std::string_view m = TrimLeadingZeros(magnitude);
  if (m.size() > kMaxMagnitudeBytes) {
    return Error(ErrorCode::kOutOfRange, "integer magnitude has " + std::to_string(m.size()) +
                                             " bytes; the tuple layer allows at most 255 "
                                             "(|n| < 2^2040)");
  }
  return BigInt(negative && !m.empty(), std::string(m));
}

Result<BigInt> BigInt::FromDecimal(std::string_view text) {
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits[0] == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty()) return DecimalError(text, "no digits");
  for (char c : digits) {
    if (c < '0' || c > '9') return DecimalError(text, "only digits and a leading '-' allowed");
  }
  if (digits[0] == '0' && digits.size() > 1) return DecimalError(text, "leading zero");
  if (negative && digits == "0") return DecimalError(text, "negative zero (write \"0\")");
  if (digits.size() > kMaxDecimalDigits) {
    return Error(ErrorCode::kOutOfRange, "integer has " + std::to_string(digits.size()) +
                                             " digits; the tuple layer allows |n| < 2^2040");
  }
  // Little-endian base-256 accumulator; four digits per step keep the
  // per-byte product (255 * 10^4 + carry) well inside 32 bits.
  std::vector<std::uint32_t> le;
  std::size_t i = 0;
  while (i < digits.size()) {
    std::uint32_t chunk = 0;
    std::uint32_t scale = 1;
    for (int k = 0; k < 4 && i < digits.size(); ++k, ++i) {
      chunk = chunk * 10 + static_cast<std::uint32_t>(digits[i] - '0');
      scale *= 10;
    }
    std::uint32_t carry = chunk;
    for (auto& byte : le) {
      const std::uint32_t v = byte * scale + carry;
      byte = v & 0xff;
      carry = v >> 8;
    }
    while (carry != 0) {
      le.push_back(carry & 0xff);
      carry >>= 8;
    }
  }
  std::string be(le.size(), '\0');
  for (std::size_t j = 0; j < le.size(); ++j) be[le.size() - 1 - j] = static_cast<char>(le[j]);
  return FromMagnitude(negative, be);
}

std::string BigInt::ToDecimal() const {
  if (magnitude_.empty()) return "0";
  // Repeatedly divide the big-endian magnitude by 10^4, collecting remainders.
  std::vector<std::uint32_t> work(magnitude_.begin(), magnitude_.end());
  for (auto& w : work) w &= 0xff;
  std::string reversed;
  std::size_t start = 0;
  while (start < work.size()) {
    std::uint32_t rem = 0;
    for (std::size_t j = start; j < work.size(); ++j) {
      const std::uint32_t cur = (rem << 8) | work[j];
      work[j] = cur / 10000;
      rem = cur % 10000;
    }
    while (start < work.size() && work[start] == 0) ++start;
    for (int k = 0; k < 4; ++k) {
      reversed.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
      if (start == work.size() && rem == 0) break;
    }
  }
  if (negative_) reversed.push_back('-');
  return std::string(reversed.rbegin(), reversed.rend());
}

std::optional<std::uint64_t> BigInt::ToUint64() const {
  if (negative_ || magnitude_.size() > 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : magnitude_) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

std::optional<std::int64_t> BigInt::ToInt64() const {
  if (magnitude_.size() > 8) return std::nullopt;
  std::uint64_t m = 0;
  for (char c : magnitude_) m = (m << 8) | static_cast<unsigned char>(c);
  constexpr std::uint64_t kMaxPositive = static_cast<std::uint64_t>(INT64_MAX);
  if (!negative_) {
    if (m > kMaxPositive) return std::nullopt;
    return static_cast<std::int64_t>(m);
  }
  if (m > kMaxPositive + 1) return std::nullopt;
  if (m == kMaxPositive + 1) return INT64_MIN;
  return -static_cast<std::int64_t>(m);
}

std::strong_ordering operator<=>(const BigInt& a, const BigInt& b) {
  if (a.negative_ != b.negative_) {
    return a.negative_ ? std::strong_ordering::less : std::strong_ordering::greater;
  }
  // Same sign: compare magnitudes (length first: no leading zeros), then flip
  // for negatives.
  std::strong_ordering mag = a.magnitude_.size() <=> b.magnitude_.size();
  if (mag == 0) {
    const int c = std::memcmp(a.magnitude_.data(), b.magnitude_.data(), a.magnitude_.size());
    mag = c <=> 0;
  }
  return a.negative_ ? 0 <=> mag : mag;
}

}  // namespace aspen::tuple
