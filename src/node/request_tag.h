// How the node finds the waiting client of an applied entry.
//
// A proposal's entry data is a serialized sm::v1::Command followed by two
// protobuf fields that command.proto does not define (so sm/ parses them as
// unknown fields and ignores them; apply stays byte-for-byte the same):
//
//   tag         := field 1000, varint: the proposing node's id
//                  field 1001, varint: that node's request id (never 0)
//
// The proposing node (leader or follower) completes the client's callback when
// it applies an entry tagged with its own id and a request id it is waiting
// for. Entries without a tag (leader no-ops, conf changes) answer nobody.
// DO NOT CHANGE the field numbers: they are in the Raft log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aspen/sm/v1/command.pb.h"

namespace aspen::node {

inline constexpr int kTagProposerField = 1000;
inline constexpr int kTagRequestField = 1001;

struct RequestTag {
  std::uint64_t proposer = 0;
  std::uint64_t request_id = 0;
};

// The entry bytes: command's serialization followed by the tag.
std::string EncodeTaggedCommand(const sm::v1::Command& command, const RequestTag& tag);
// The tag in an entry's bytes, or nullopt when it carries none (or a malformed
// one: a field with the wrong wire type, a zero request id, or bytes that are
// not a protobuf message). Scans the top-level fields without copying them.
std::optional<RequestTag> FindRequestTag(std::string_view entry_data);

}  // namespace aspen::node
