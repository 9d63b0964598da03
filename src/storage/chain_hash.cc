#include "storage/chain_hash.h"

#include <openssl/evp.h>

#include <memory>

#include "base/assert.h"
#include "storage/coding.h"

namespace aspen::storage {

namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

ChainHash ComputeChainHash(const ChainHash& prev, std::uint64_t term, std::uint64_t index,
                           std::uint8_t type, std::string_view data) {
  // The fixed-width prefix: prev (32) || term (8) || index (8) || type (1).
  std::string header;
  header.reserve(prev.size() + 17);
  header.append(reinterpret_cast<const char*>(prev.data()), prev.size());
  PutBigEndian64(&header, term);
  PutBigEndian64(&header, index);
  header.push_back(static_cast<char>(type));

  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  ASPEN_ASSERT_MSG(ctx != nullptr, "EVP_MD_CTX_new failed");
  ASPEN_ASSERT(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  ASPEN_ASSERT(EVP_DigestUpdate(ctx.get(), header.data(), header.size()) == 1);
  ASPEN_ASSERT(EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1);
  ChainHash out{};
  unsigned int len = 0;
  ASPEN_ASSERT(EVP_DigestFinal_ex(ctx.get(), out.data(), &len) == 1);
  ASPEN_ASSERT(len == out.size());
  return out;
}

std::string ChainHashHex(const ChainHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(hash.size() * 2);
  for (std::uint8_t b : hash) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

}  // namespace aspen::storage
