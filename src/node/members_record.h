// The members record: the address book (member id -> peer URLs) kept in the
// replicated state, so every member, a restarted one and one installed from a
// snapshot (the record lives in a state column family) knows every peer.
//
// Stored at Cf::kMeta key "node/members" (DO NOT CHANGE the key or a tag):
//   members := tag:u8 (=0x01) count:be32 member*count        ; nothing follows
//   member  := id:be64 urls_len:be32 urls:urls_len*u8        ; urls: "u1,u2"
// Members are in increasing id order; the decoder checks every length.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aspen::node {

inline constexpr std::string_view kMembersKey = "node/members";

std::string EncodeMembers(const std::map<std::uint64_t, std::string>& members);
// Corruption naming the record for a bad tag, a short record, id 0, ids out
// of order or trailing bytes.
Result<std::map<std::uint64_t, std::string>> DecodeMembers(std::string_view bytes);

}  // namespace aspen::node
