#include "node/request_tag.h"

#include <google/protobuf/unknown_field_set.h>

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

std::optional<RequestTag> FindRequestTag(const sm::v1::Command& command) {
  const google::protobuf::UnknownFieldSet& fields =
      command.GetReflection()->GetUnknownFields(command);
  RequestTag tag;
  bool has_proposer = false;
  for (int i = 0; i < fields.field_count(); ++i) {
    const google::protobuf::UnknownField& f = fields.field(i);
    if (f.type() != google::protobuf::UnknownField::TYPE_VARINT) continue;
    if (f.number() == kTagProposerField) {
      tag.proposer = f.varint();
      has_proposer = true;
    } else if (f.number() == kTagRequestField) {
      tag.request_id = f.varint();
    }
  }
  if (!has_proposer || tag.request_id == 0) return std::nullopt;
  return tag;
}

}  // namespace aspen::node
