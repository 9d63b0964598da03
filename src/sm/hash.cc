// HashKV: a digest of the kv rows that replicas at the same applied index
// share byte for byte.
#include <openssl/evp.h>

#include <memory>

#include "sm/history.h"
#include "sm/reads.h"
#include "sm/record.h"
#include "sm/view.h"

namespace aspen::sm {

namespace {

using DigestCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

DigestCtx NewDigest() {
  DigestCtx ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  ASPEN_ASSERT(ctx != nullptr);
  ASPEN_ASSERT(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  return ctx;
}

// One kv row: length-prefixed key and encoded record.
void HashRow(EVP_MD_CTX* ctx, std::string_view key, std::string_view record, std::string* frame) {
  frame->clear();
  PutVarint64(frame, key.size());
  frame->append(key);
  PutVarint64(frame, record.size());
  frame->append(record);
  ASPEN_ASSERT(EVP_DigestUpdate(ctx, frame->data(), frame->size()) == 1);
}

KvHash Finish(EVP_MD_CTX* ctx, std::int64_t revision) {
  KvHash out;
  out.revision = revision;
  unsigned int len = 0;
  ASPEN_ASSERT(EVP_DigestFinal_ex(ctx, out.sha256.data(), &len) == 1 && len == 32);
  out.hash32 = (std::uint32_t{out.sha256[0]} << 24) | (std::uint32_t{out.sha256[1]} << 16) |
               (std::uint32_t{out.sha256[2]} << 8) | std::uint32_t{out.sha256[3]};
  return out;
}

}  // namespace

Result<KvHashAt> HashKVAt(const storage::Snapshot& snapshot, std::int64_t at) {
  Result<AppliedState> state = ReadAppliedState(snapshot);
  if (!state.ok()) return state.status();
  Result<CompactionState> compaction = ReadCompactionState(snapshot);
  if (!compaction.ok()) return compaction.status();
  KvHashAt out;
  out.compact_revision = compaction->compact_revision;
  if (at > state->revision) {
    return Status::OutOfRange("mvcc: required revision is a future revision");
  }
  if (at <= 0 || at == state->revision) {
    Result<KvHash> now = HashKV(snapshot);
    if (!now.ok()) return now.status();
    out.hash = *now;
    out.at = now->revision;
    return out;
  }
  if (at < compaction->compact_revision) {
    return Status::OutOfRange("mvcc: required revision has been compacted");
  }
  // Every key that has history, in key order (version rows sort by key);
  // each hashed with its version live at `at`, encoded as its kv row was.
  DigestCtx ctx = NewDigest();
  SnapshotView view(&snapshot);
  const auto span = HistoryVersionSpan("", std::nullopt);
  auto it = view.Scan(storage::Cf::kHistory, span.first,
                      span.second ? std::optional<std::string_view>(*span.second) : std::nullopt);
  std::string frame;
  std::string last_key;
  bool first = true;
  for (; it->Valid(); it->Next()) {
    HistoryVersion v;
    ASPEN_RETURN_IF_ERROR(DecodeHistoryVersion(it->key(), it->value(), &v));
    if (!first && v.key == last_key) continue;
    first = false;
    last_key = v.key;
    std::optional<HistoryEvent> live;
    ASPEN_RETURN_IF_ERROR(ReadVersionAt(view, v.key, at, &live));
    if (live.has_value())
      HashRow(ctx.get(), v.key, EncodeKvRecord(live->meta, live->value), &frame);
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  out.hash = Finish(ctx.get(), at);
  out.at = at;
  return out;
}

Result<KvHash> HashKV(const storage::Snapshot& snapshot) {
  Result<AppliedState> state = ReadAppliedState(snapshot);
  if (!state.ok()) return state.status();
  DigestCtx ctx = NewDigest();
  SnapshotView view(&snapshot);
  auto it = view.Scan(storage::Cf::kKv, "", std::nullopt);
  std::string frame;
  for (; it->Valid(); it->Next()) {
    // Validate before hashing, so a corrupt row is reported, not hashed.
    KvMeta meta;
    std::string_view value;
    ASPEN_RETURN_IF_ERROR(DecodeKvRecord(it->value(), &meta, &value));
    HashRow(ctx.get(), it->key(), it->value(), &frame);
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  return Finish(ctx.get(), state->revision);
}

}  // namespace aspen::sm
