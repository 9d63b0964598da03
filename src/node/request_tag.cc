#include "node/request_tag.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "base/assert.h"

namespace aspen::node {
namespace {

void PutVarint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutVarintField(std::string* out, int field, std::uint64_t v) {
  PutVarint(out, static_cast<std::uint64_t>(field) << 3);  // wire type 0: varint
  PutVarint(out, v);
}

}  // namespace

std::string EncodeTaggedCommand(const sm::v1::Command& command, const RequestTag& tag) {
  ASPEN_ASSERT(tag.request_id != 0);
  std::string out;
  const bool ok = command.SerializeToString(&out);
  ASPEN_ASSERT(ok);
  PutVarintField(&out, kTagProposerField, tag.proposer);
  PutVarintField(&out, kTagRequestField, tag.request_id);
  return out;
}

std::optional<RequestTag> FindRequestTag(std::string_view entry_data) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const std::uint8_t*>(entry_data.data()),
      static_cast<int>(entry_data.size()));
  RequestTag tag;
  bool has_proposer = false;
  while (true) {
    const std::uint32_t t = in.ReadTag();
    if (t == 0) break;  // end of input (or a malformed tag)
    const int field = WireFormatLite::GetTagFieldNumber(t);
    const bool varint = WireFormatLite::GetTagWireType(t) == WireFormatLite::WIRETYPE_VARINT;
    if (varint && (field == kTagProposerField || field == kTagRequestField)) {
      std::uint64_t v = 0;
      if (!in.ReadVarint64(&v)) return std::nullopt;
      if (field == kTagProposerField) {
        tag.proposer = v;
        has_proposer = true;
      } else {
        tag.request_id = v;
      }
    } else if (!WireFormatLite::SkipField(&in, t)) {
      return std::nullopt;
    }
  }
  // ReadTag also answers 0 for bytes that are not a tag: only a clean end counts.
  if (in.CurrentPosition() != static_cast<int>(entry_data.size())) return std::nullopt;
  if (!has_proposer || tag.request_id == 0) return std::nullopt;
  return tag;
}

}  // namespace aspen::node
