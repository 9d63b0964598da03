// Internal to snapshot_*.cc: frame constants and a SHA-256 accumulator.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/assert.h"

namespace aspen::storage::snapshot_internal {

// Frame types (on disk: DO NOT CHANGE).
inline constexpr std::uint8_t kFrameHeader = 0x01;
inline constexpr std::uint8_t kFrameChunk = 0x02;
inline constexpr std::uint8_t kFrameEnd = 0x03;
// type:u8 len:be32 before the payload, crc:be32 after it.
inline constexpr std::size_t kFramePrefixBytes = 5;
inline constexpr std::size_t kFrameCrcBytes = 4;

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    ASPEN_ASSERT(ctx_ != nullptr);
    ASPEN_ASSERT(EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1);
  }
  void Update(std::string_view bytes) {
    ASPEN_ASSERT(EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size()) == 1);
  }
  std::array<std::uint8_t, 32> Final() {
    std::array<std::uint8_t, 32> out{};
    unsigned int len = 0;
    ASPEN_ASSERT(EVP_DigestFinal_ex(ctx_.get(), out.data(), &len) == 1 && len == 32);
    return out;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

}  // namespace aspen::storage::snapshot_internal
