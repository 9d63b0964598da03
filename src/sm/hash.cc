// HashKV: a digest of the kv rows that replicas at the same applied index
// share byte for byte.
#include <openssl/evp.h>

#include <memory>

#include "sm/reads.h"
#include "sm/record.h"
#include "sm/view.h"

namespace aspen::sm {

Result<KvHash> HashKV(const storage::Snapshot& snapshot) {
  Result<AppliedState> state = ReadAppliedState(snapshot);
  if (!state.ok()) return state.status();
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  ASPEN_ASSERT(ctx != nullptr);
  ASPEN_ASSERT(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  SnapshotView view(&snapshot);
  auto it = view.Scan(storage::Cf::kKv, "", std::nullopt);
  std::string frame;
  for (; it->Valid(); it->Next()) {
    // Validate before hashing, so a corrupt row is reported, not hashed.
    KvMeta meta;
    std::string_view value;
    ASPEN_RETURN_IF_ERROR(DecodeKvRecord(it->value(), &meta, &value));
    frame.clear();
    PutVarint64(&frame, it->key().size());
    frame.append(it->key());
    PutVarint64(&frame, it->value().size());
    frame.append(it->value());
    ASPEN_ASSERT(EVP_DigestUpdate(ctx.get(), frame.data(), frame.size()) == 1);
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  KvHash out;
  out.revision = state->revision;
  unsigned int len = 0;
  ASPEN_ASSERT(EVP_DigestFinal_ex(ctx.get(), out.sha256.data(), &len) == 1 && len == 32);
  out.hash32 = (std::uint32_t{out.sha256[0]} << 24) | (std::uint32_t{out.sha256[1]} << 16) |
               (std::uint32_t{out.sha256[2]} << 8) | std::uint32_t{out.sha256[3]};
  return out;
}

}  // namespace aspen::sm
