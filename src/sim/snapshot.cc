#include "sim/snapshot.h"

#include <cstring>
#include <memory>
#include <vector>

#include "sm/reads.h"
#include "storage/snapshot.h"

namespace aspen::sim {
namespace {

// Every state column family (the raft log CFs excluded), MVCC history included.
const std::vector<storage::Cf> kStateCfs = storage::StateCfs();

void PutU32(std::string* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

bool GetU32(std::string_view* in, std::uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i)
    *v |= static_cast<std::uint32_t>(static_cast<std::uint8_t>((*in)[i])) << (8 * i);
  in->remove_prefix(4);
  return true;
}

bool GetBytes(std::string_view* in, std::string_view* out) {
  std::uint32_t n = 0;
  if (!GetU32(in, &n) || in->size() < n) return false;
  *out = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

Result<std::string> EncodeStateBlob(const storage::Snapshot& snapshot,
                                    const storage::ChainHash& chain_hash) {
  std::string out(reinterpret_cast<const char*>(chain_hash.data()), chain_hash.size());
  for (storage::Cf cf : kStateCfs) {
    auto it = snapshot.NewIterator(cf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      out.push_back(static_cast<char>(cf));
      PutU32(&out, static_cast<std::uint32_t>(it->key().size()));
      out.append(it->key());
      PutU32(&out, static_cast<std::uint32_t>(it->value().size()));
      out.append(it->value());
    }
    ASPEN_RETURN_IF_ERROR(it->status());
  }
  return out;
}

Result<storage::ChainHash> BlobChainHash(std::string_view blob) {
  storage::ChainHash h{};
  if (blob.size() < h.size()) return Status::Corruption("snapshot blob shorter than its header");
  std::memcpy(h.data(), blob.data(), h.size());
  return h;
}

Status RestoreToBatch(const storage::Snapshot& current, std::string_view blob,
                      storage::WriteBatch* batch) {
  for (storage::Cf cf : kStateCfs) {
    auto it = current.NewIterator(cf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) batch->Delete(cf, it->key());
    ASPEN_RETURN_IF_ERROR(it->status());
  }
  std::string_view in = blob.substr(std::min<std::size_t>(blob.size(), 32));
  while (!in.empty()) {
    const auto cf = static_cast<storage::Cf>(static_cast<std::uint8_t>(in[0]));
    in.remove_prefix(1);
    std::string_view key, value;
    bool known_cf = false;
    for (storage::Cf c : kStateCfs) known_cf = known_cf || c == cf;
    if (!known_cf || !GetBytes(&in, &key) || !GetBytes(&in, &value)) {
      return Status::Corruption("malformed snapshot blob row");
    }
    batch->Put(cf, key, value);
  }
  return Status::Ok();
}

raft::Result<raft::pb::Snapshot> SimStorage::Snapshot() const {
  auto broken = [](const Status& st) {
    return raft::Error(raft::ErrorCode::kInvalidArgument, "sim snapshot: " + st.ToString());
  };
  std::unique_ptr<storage::Snapshot> snap = store_->GetSnapshot();
  auto applied = sm::ReadAppliedState(*snap);
  if (!applied.ok()) return broken(applied.status());
  const std::uint64_t index = applied->applied_index;
  storage::ChainHash chain = log_->Truncated().chain_hash;
  if (index >= log_->FirstIndex()) {
    auto at = log_->Entries(index, index + 1, UINT64_MAX);
    if (!at.ok()) return broken(at.status());
    chain = at->front().chain_hash;
  } else if (index != log_->Truncated().index) {
    return broken(Status::Internal("applied index " + std::to_string(index) +
                                   " is below the compaction point"));
  }
  raft::Result<std::uint64_t> term = inner_->Term(index);
  if (!term.ok()) return term.error();
  raft::Result<raft::StorageState> state = inner_->InitialState();
  if (!state.ok()) return state.error();
  auto blob = EncodeStateBlob(*snap, chain);
  if (!blob.ok()) return broken(blob.status());
  raft::pb::Snapshot out;
  out.set_data(std::move(blob).value());
  out.mutable_metadata()->set_index(index);
  out.mutable_metadata()->set_term(*term);
  *out.mutable_metadata()->mutable_conf_state() = state->conf_state;
  return out;
}

}  // namespace aspen::sim
