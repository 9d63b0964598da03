// The members record: the address book (member id -> peer URLs) kept in the
// replicated state, so every member, a restarted one and one installed from a
// snapshot (the record lives in a state column family) knows every peer.
//
// Stored at Cf::kMeta key "node/members" (DO NOT CHANGE the key or a tag):
//   members := tag:u8 (=0x01) count:be32 member*count        ; nothing follows
//   member  := id:be64 urls_len:be32 urls:urls_len*u8        ; urls: "u1,u2"
// Members are in increasing id order; the decoder checks every length.
//
// Version 2 (written from the first change applied by a node that has it;
// DecodeMembersBook reads both):
//   members := tag:u8 (=0x02) count:be32 member*count removed:be32 id:be64*removed
//   member  := id:be64 urls_len:be32 urls name_len:be32 name
//              client_len:be32 client_urls                ; client_urls: "u1,u2"
// name and client URLs are what the member published once started (etcd's
// member attributes); empty until then. `removed` lists every member id ever
// removed, in increasing order: peers refuse messages from them.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aspen::node {

inline constexpr std::string_view kMembersKey = "node/members";

std::string EncodeMembers(const std::map<std::uint64_t, std::string>& members);
// Corruption naming the record for a bad tag, a short record, id 0, ids out
// of order or trailing bytes.
Result<std::map<std::uint64_t, std::string>> DecodeMembers(std::string_view bytes);

struct MemberAttrs {
  std::string peer_urls;    // comma-separated
  std::string name;         // "" until published
  std::string client_urls;  // comma-separated; "" until published
  bool operator==(const MemberAttrs&) const = default;
};
struct MembersBook {
  std::map<std::uint64_t, MemberAttrs> members;
  std::set<std::uint64_t> removed;
  bool operator==(const MembersBook&) const = default;
};
std::string EncodeMembersBook(const MembersBook& book);
// Reads version 1 (no names, nothing removed) and version 2; Corruption as
// DecodeMembers.
Result<MembersBook> DecodeMembersBook(std::string_view bytes);

// The context of a conf change that publishes a started member's attributes
// (a no-op conf change of the member itself): a byte no URL starts with, then
// name_len:be32 name client_len:be32 client_urls.
inline constexpr char kAttributesContextTag = '\x02';
std::string EncodeAttributesContext(std::string_view name, std::string_view client_urls);
// InvalidArgument unless `context` is such a context.
Status DecodeAttributesContext(std::string_view context, std::string* name,
                               std::string* client_urls);

}  // namespace aspen::node
