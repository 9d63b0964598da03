// Fixed-width big-endian integer encoding and a bounds-checked reader, for the
// byte formats of storage/ (log entries, hard state, keys).
//
// Big-endian so that encoded indexes sort numerically as unsigned bytes, which
// is how both engines order keys.
//
// Thread safety: stateless functions; a ByteReader is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace aspen::storage {

inline void PutBigEndian64(std::string* out, std::uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, sizeof(buf));
}

inline void PutBigEndian32(std::string* out, std::uint32_t v) {
  char buf[4];
  for (int i = 3; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(buf, sizeof(buf));
}

// Requires bytes.size() >= 8.
inline std::uint64_t DecodeBigEndian64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<std::uint8_t>(bytes[i]);
  }
  return v;
}

// Reads fixed-width fields from a byte string and never past its end: every
// read reports failure instead (the caller turns that into Corruption).
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}

  bool ReadU8(std::uint8_t* v) {
    if (rest_.empty()) return false;
    *v = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return true;
  }
  bool ReadBigEndian64(std::uint64_t* v) {
    if (rest_.size() < 8) return false;
    *v = DecodeBigEndian64(rest_);
    rest_.remove_prefix(8);
    return true;
  }
  bool ReadBigEndian32(std::uint32_t* v) {
    if (rest_.size() < 4) return false;
    std::uint32_t r = 0;
    for (std::size_t i = 0; i < 4; ++i) r = (r << 8) | static_cast<std::uint8_t>(rest_[i]);
    *v = r;
    rest_.remove_prefix(4);
    return true;
  }
  // Copies exactly n bytes into dst.
  bool ReadBytes(void* dst, std::size_t n) {
    if (rest_.size() < n) return false;
    std::memcpy(dst, rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  // A view of the next n bytes (valid while the underlying bytes live).
  bool ReadView(std::size_t n, std::string_view* v) {
    if (rest_.size() < n) return false;
    *v = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return true;
  }
  std::size_t remaining() const { return rest_.size(); }

 private:
  std::string_view rest_;
};

}  // namespace aspen::storage
