#include "node/members_record.h"

#include "storage/coding.h"

namespace aspen::node {
namespace {

constexpr std::uint8_t kMembersTag = 0x01;

Status Bad(const std::string& why) {
  return Status::Corruption("members record: " + why);
}

}  // namespace

std::string EncodeMembers(const std::map<std::uint64_t, std::string>& members) {
  std::string out;
  out.push_back(static_cast<char>(kMembersTag));
  storage::PutBigEndian32(&out, static_cast<std::uint32_t>(members.size()));
  for (const auto& [id, urls] : members) {
    storage::PutBigEndian64(&out, id);
    storage::PutBigEndian32(&out, static_cast<std::uint32_t>(urls.size()));
    out.append(urls);
  }
  return out;
}

Result<std::map<std::uint64_t, std::string>> DecodeMembers(std::string_view bytes) {
  storage::ByteReader r(bytes);
  std::uint8_t tag = 0;
  std::uint32_t count = 0;
  if (!r.ReadU8(&tag) || tag != kMembersTag) return Bad("unknown tag");
  if (!r.ReadBigEndian32(&count)) return Bad("short header");
  std::map<std::uint64_t, std::string> out;
  std::uint64_t prev = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t id = 0;
    std::uint32_t len = 0;
    std::string_view urls;
    if (!r.ReadBigEndian64(&id) || !r.ReadBigEndian32(&len) || !r.ReadView(len, &urls)) {
      return Bad("short member " + std::to_string(i));
    }
    if (id == 0 || id <= prev)
      return Bad("member ids not increasing at member " + std::to_string(i));
    prev = id;
    out.emplace(id, std::string(urls));
  }
  if (r.remaining() != 0) return Bad("trailing bytes");
  return out;
}

}  // namespace aspen::node
