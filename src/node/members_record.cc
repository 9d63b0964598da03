#include "node/members_record.h"

#include "storage/coding.h"

namespace aspen::node {
namespace {

constexpr std::uint8_t kMembersTag = 0x01;
constexpr std::uint8_t kMembersTagV2 = 0x02;

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

std::string EncodeMembersBook(const MembersBook& book) {
  std::string out;
  out.push_back(static_cast<char>(kMembersTagV2));
  storage::PutBigEndian32(&out, static_cast<std::uint32_t>(book.members.size()));
  for (const auto& [id, m] : book.members) {
    storage::PutBigEndian64(&out, id);
    for (const std::string* part : {&m.peer_urls, &m.name, &m.client_urls}) {
      storage::PutBigEndian32(&out, static_cast<std::uint32_t>(part->size()));
      out.append(*part);
    }
  }
  storage::PutBigEndian32(&out, static_cast<std::uint32_t>(book.removed.size()));
  for (std::uint64_t id : book.removed) storage::PutBigEndian64(&out, id);
  return out;
}

Result<MembersBook> DecodeMembersBook(std::string_view bytes) {
  MembersBook book;
  if (!bytes.empty() && static_cast<std::uint8_t>(bytes[0]) == kMembersTag) {
    auto v1 = DecodeMembers(bytes);
    if (!v1.ok()) return v1.status();
    for (auto& [id, urls] : *v1) book.members[id].peer_urls = std::move(urls);
    return book;
  }
  storage::ByteReader r(bytes);
  std::uint8_t tag = 0;
  std::uint32_t count = 0;
  if (!r.ReadU8(&tag) || tag != kMembersTagV2) return Bad("unknown tag");
  if (!r.ReadBigEndian32(&count)) return Bad("short header");
  std::uint64_t prev = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t id = 0;
    if (!r.ReadBigEndian64(&id)) return Bad("short member " + std::to_string(i));
    MemberAttrs m;
    for (std::string* part : {&m.peer_urls, &m.name, &m.client_urls}) {
      std::uint32_t len = 0;
      std::string_view field;
      if (!r.ReadBigEndian32(&len) || !r.ReadView(len, &field)) {
        return Bad("short member " + std::to_string(i));
      }
      part->assign(field);
    }
    if (id == 0 || id <= prev)
      return Bad("member ids not increasing at member " + std::to_string(i));
    prev = id;
    book.members.emplace(id, std::move(m));
  }
  std::uint32_t removed = 0;
  if (!r.ReadBigEndian32(&removed)) return Bad("short removed list");
  prev = 0;
  for (std::uint32_t i = 0; i < removed; ++i) {
    std::uint64_t id = 0;
    if (!r.ReadBigEndian64(&id)) return Bad("short removed list");
    if (id == 0 || id <= prev) return Bad("removed ids not increasing at " + std::to_string(i));
    prev = id;
    book.removed.insert(id);
  }
  if (r.remaining() != 0) return Bad("trailing bytes");
  return book;
}

std::string EncodeAttributesContext(std::string_view name, std::string_view client_urls) {
  std::string out(1, kAttributesContextTag);
  for (std::string_view part : {name, client_urls}) {
    storage::PutBigEndian32(&out, static_cast<std::uint32_t>(part.size()));
    out.append(part);
  }
  return out;
}

Status DecodeAttributesContext(std::string_view context, std::string* name,
                               std::string* client_urls) {
  if (context.empty() || context[0] != kAttributesContextTag) {
    return Status::InvalidArgument("not a member attributes context");
  }
  storage::ByteReader r(context.substr(1));
  for (std::string* part : {name, client_urls}) {
    std::uint32_t len = 0;
    std::string_view field;
    if (!r.ReadBigEndian32(&len) || !r.ReadView(len, &field)) {
      return Status::InvalidArgument("member attributes context: short field");
    }
    part->assign(field);
  }
  if (r.remaining() != 0)
    return Status::InvalidArgument("member attributes context: trailing bytes");
  return Status::Ok();
}

}  // namespace aspen::node
