// The node's small parts on their own: the request tag inside entry bytes and
// the Lessor's deadlines against a hand-moved clock.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include "base/limits.h"
#include "node/lessor.h"
#include "node/members_record.h"
#include "node/request_tag.h"

namespace aspen::node {
namespace {

class ManualClock final : public Clock {
 public:
  std::int64_t NowMs() const override { return 1'700'000'000'000 + steady_.load(); }
  std::int64_t SteadyMs() const override { return steady_.load(); }
  void Advance(std::int64_t ms) { steady_.fetch_add(ms); }

 private:
  std::atomic<std::int64_t> steady_{1000};
};

sm::v1::Command Put(const std::string& key) {
  sm::v1::Command cmd;
  cmd.set_now_ms(42);
  cmd.mutable_put()->set_key(key);
  cmd.mutable_put()->set_value("v");
  return cmd;
}

TEST(RequestTag, RoundTripsAndLeavesTheCommandUnchangedForTheStateMachine) {
  const sm::v1::Command cmd = Put("k");
  const std::string bytes = EncodeTaggedCommand(cmd, RequestTag{3, 123456789012345ULL});
  sm::v1::Command parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.put().key(), "k");
  EXPECT_EQ(parsed.now_ms(), 42);
  auto tag = FindRequestTag(bytes);
  ASSERT_TRUE(tag.has_value());
  EXPECT_EQ(tag->proposer, 3u);
  EXPECT_EQ(tag->request_id, 123456789012345ULL);
  // The known fields are what the proposer sent.
  parsed.GetReflection()->MutableUnknownFields(&parsed)->Clear();
  EXPECT_EQ(parsed.SerializeAsString(), cmd.SerializeAsString());
}

TEST(RequestTag, UntaggedOrMalformedTagsAreIgnored) {
  sm::v1::Command plain = Put("k");
  EXPECT_FALSE(FindRequestTag(plain.SerializeAsString()).has_value());
  EXPECT_FALSE(FindRequestTag("").has_value());
  EXPECT_FALSE(FindRequestTag(std::string("\xff\xff\xff", 3)).has_value());  // not protobuf
  // Field 1001 as a length-delimited field (wire type 2) is not a tag.
  std::string bytes = plain.SerializeAsString();
  bytes += std::string("\xc0\x3e\x01", 3);   // field 1000, varint 1
  bytes += std::string("\xca\x3e\x01x", 4);  // field 1001, bytes "x"
  EXPECT_FALSE(FindRequestTag(bytes).has_value());
  // A truncated tag is no tag.
  const std::string tagged = EncodeTaggedCommand(plain, RequestTag{1, 300});
  EXPECT_FALSE(FindRequestTag(std::string_view(tagged).substr(0, tagged.size() - 1)).has_value());
}

TEST(Lessor, OnlyThePrimaryKeepsAliveAndExpires) {
  ManualClock clock;
  Lessor lessor(&clock);
  lessor.Grant(7, 2);
  EXPECT_EQ(lessor.KeepAlive(7).status().code(), Code::kFailedPrecondition);
  clock.Advance(5000);
  EXPECT_TRUE(lessor.Expired(10).empty());  // followers never expire leases
  lessor.Promote();                         // a new leader extends every lease
  EXPECT_TRUE(lessor.Expired(10).empty());
  auto left = lessor.TimeToLive(7);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->remaining_ttl_s, 2);
  clock.Advance(1500);
  ASSERT_EQ(*lessor.KeepAlive(7), 2);
  clock.Advance(1500);
  EXPECT_TRUE(lessor.Expired(10).empty());
  clock.Advance(600);
  ASSERT_EQ(lessor.Expired(10), std::vector<std::int64_t>{7});
  lessor.MarkRevoking(7, clock.SteadyMs() + 1000);
  EXPECT_TRUE(lessor.Expired(10).empty());  // revoke in flight
  clock.Advance(1000);
  EXPECT_EQ(lessor.Expired(10).size(), 1u);  // retried after the retry time
  lessor.Revoke(7);
  EXPECT_EQ(lessor.KeepAlive(7).status().code(), Code::kNotFound);
  lessor.Demote();
  EXPECT_FALSE(lessor.is_primary());
}

TEST(Lessor, AnExpiredLeaseIsNotRenewedWhileItsRevocationIsDue) {
  // Found by aspen-sim (seed 74, docs/SIMULATOR.md "Leases"): the leader
  // proposed the revocation of an expired lease, then acknowledged a
  // keep-alive of it (TTL 1 s), and the revocation applied 17 ms later.
  ManualClock clock;
  Lessor lessor(&clock);
  lessor.Grant(7, 1);
  lessor.Promote();
  clock.Advance(1000);
  ASSERT_EQ(lessor.Expired(10), std::vector<std::int64_t>{7});
  lessor.MarkRevoking(7, clock.SteadyMs() + 1000);
  clock.Advance(30);
  auto renewed = lessor.KeepAlive(7);
  EXPECT_EQ(renewed.status().code(), Code::kUnavailable);
  EXPECT_TRUE(lessor.Expired(10).empty());  // the revocation stays in flight
  clock.Advance(1000);
  EXPECT_EQ(lessor.Expired(10), std::vector<std::int64_t>{7});  // and is retried
  // A new leader extends the lease (etcd): it can be renewed again.
  lessor.Demote();
  lessor.Promote();
  EXPECT_EQ(*lessor.KeepAlive(7), 1);
  lessor.Revoke(7);
  EXPECT_EQ(lessor.KeepAlive(7).status().code(), Code::kNotFound);
}

TEST(Lessor, ExpiredIsBoundedAndRemainingRoundsUp) {
  ManualClock clock;
  Lessor lessor(&clock);
  for (int i = 1; i <= 10; ++i) lessor.Grant(i, 1);
  lessor.Promote();
  clock.Advance(1);
  EXPECT_EQ(lessor.TimeToLive(3)->remaining_ttl_s, 1);
  clock.Advance(1000);
  EXPECT_EQ(lessor.TimeToLive(3)->remaining_ttl_s, 0);
  EXPECT_EQ(lessor.Expired(4).size(), 4u);
  EXPECT_EQ(lessor.size(), 10u);
}

TEST(Lessor, WaitingCallsAreAnsweredWhenTheTakeoverOrDemotionComesAndAreBounded) {
  ManualClock clock;
  Lessor lessor(&clock, /*wait_ms=*/1000);
  lessor.Grant(7, 2);
  std::vector<std::function<void()>> out;
  std::optional<Result<std::int64_t>> kept;
  std::optional<Result<Lessor::Remaining>> left;
  // A follower answers at once; an elected leader waits for Promote.
  EXPECT_EQ(lessor.KeepAliveOrWait(7, [](Result<std::int64_t>) {})->status().code(),
            Code::kFailedPrecondition);
  lessor.Elect();
  EXPECT_FALSE(lessor.KeepAliveOrWait(7, [&](Result<std::int64_t> r) { kept = r; }).has_value());
  EXPECT_FALSE(
      lessor.TimeToLiveOrWait(7, [&](Result<Lessor::Remaining> r) { left = r; }).has_value());
  EXPECT_EQ(lessor.KeepAlive(7).status().code(), Code::kUnavailable);  // the form that never waits
  lessor.AnswerWaiters(&out);
  EXPECT_TRUE(out.empty());
  lessor.Promote();
  lessor.AnswerWaiters(&out);
  ASSERT_EQ(out.size(), 2u);
  for (auto& f : out) f();
  out.clear();
  ASSERT_TRUE(kept.has_value() && kept->ok());
  EXPECT_EQ(**kept, 2);
  ASSERT_TRUE(left.has_value() && left->ok());
  EXPECT_EQ((*left)->remaining_ttl_s, 2);

  // An expired lease waits; a demotion answers "not leader" (the caller
  // forwards to the new leader, which extended the lease).
  clock.Advance(2000);
  kept.reset();
  EXPECT_FALSE(lessor.KeepAliveOrWait(7, [&](Result<std::int64_t> r) { kept = r; }).has_value());
  lessor.Demote();
  lessor.AnswerWaiters(&out);
  ASSERT_EQ(out.size(), 1u);
  out[0]();
  out.clear();
  EXPECT_EQ(kept->status().code(), Code::kFailedPrecondition);

  // Bounded: past kMaxLeaseWaiters a call is refused at once, naming it.
  lessor.Elect();
  for (std::size_t i = 0; i < limits::kMaxLeaseWaiters; ++i) {
    ASSERT_FALSE(lessor.KeepAliveOrWait(7, [](Result<std::int64_t>) {}).has_value());
  }
  auto refused = lessor.KeepAliveOrWait(7, [](Result<std::int64_t>) {});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status().code(), Code::kResourceExhausted);
  EXPECT_NE(refused->status().message().find("limits::kMaxLeaseWaiters"), std::string::npos);
  // Each waits at most wait_ms.
  clock.Advance(999);
  lessor.AnswerWaiters(&out);
  EXPECT_TRUE(out.empty());
  clock.Advance(1);
  lessor.AnswerWaiters(&out);
  EXPECT_EQ(out.size(), limits::kMaxLeaseWaiters);
  EXPECT_EQ(lessor.waiters(), 0u);
}

TEST(Lessor, AKeepAliveWaitsUntilEverythingCommittedWhenItArrivedIsApplied) {
  // etcd's waitAppliedIndex: a revocation this leader committed (and another
  // member applied and acknowledged) may not be mirrored here yet.
  ManualClock clock;
  Lessor lessor(&clock, /*wait_ms=*/1000);
  lessor.Grant(7, 5);
  lessor.Applied(10);
  lessor.Committed(10);
  lessor.Promote();
  EXPECT_EQ(*lessor.KeepAlive(7), 5);  // nothing pending: answered at once
  std::vector<std::function<void()>> out;
  std::optional<Result<std::int64_t>> kept;
  std::optional<Result<std::int64_t>> kept_later;
  lessor.Committed(12);  // the revocation of 7 at 12 is committed, not applied
  EXPECT_FALSE(lessor.KeepAliveOrWait(7, [&](Result<std::int64_t> r) { kept = r; }).has_value());
  EXPECT_EQ(lessor.KeepAlive(7).status().code(), Code::kUnavailable);  // never waits
  lessor.Committed(13);
  lessor.Applied(11);
  lessor.AnswerWaiters(&out);
  EXPECT_TRUE(out.empty()) << "answered before the index it arrived at was applied";
  // A call arriving now waits for 13, the first one only for 12.
  EXPECT_FALSE(
      lessor.KeepAliveOrWait(7, [&](Result<std::int64_t> r) { kept_later = r; }).has_value());
  lessor.Revoke(7);
  lessor.Applied(12);
  lessor.AnswerWaiters(&out);
  ASSERT_EQ(out.size(), 1u);
  out[0]();
  out.clear();
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->status().code(), Code::kNotFound);
  EXPECT_FALSE(kept_later.has_value());
  lessor.Applied(13);
  lessor.AnswerWaiters(&out);
  ASSERT_EQ(out.size(), 1u);
  out[0]();
  out.clear();
  EXPECT_EQ(kept_later->status().code(), Code::kNotFound);
  // Bounded as every wait: lease_wait_timeout_ms, naming what it waited for.
  lessor.Grant(8, 5);
  lessor.Committed(14);
  kept.reset();
  EXPECT_FALSE(lessor.KeepAliveOrWait(8, [&](Result<std::int64_t> r) { kept = r; }).has_value());
  clock.Advance(1000);
  lessor.AnswerWaiters(&out);
  ASSERT_EQ(out.size(), 1u);
  out[0]();
  out.clear();
  EXPECT_EQ(kept->status().code(), Code::kUnavailable);
  EXPECT_NE(kept->status().message().find("apply the entries it has committed"), std::string::npos)
      << kept->status().ToString();
  // A follower answers "not leader" at once, whatever it has applied.
  lessor.Demote();
  EXPECT_EQ(lessor.KeepAliveOrWait(8, [](Result<std::int64_t>) {})->status().code(),
            Code::kFailedPrecondition);
}

}  // namespace
}  // namespace aspen::node

namespace aspen::node {
namespace {

TEST(MembersRecord, RoundTripsAndRefusesDamagedBytes) {
  const std::map<std::uint64_t, std::string> book = {
      {1, "http://127.0.0.1:1"}, {7, "http://a:2,http://b:3"}, {9, ""}};
  const std::string bytes = EncodeMembers(book);
  auto back = DecodeMembers(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, book);
  EXPECT_EQ(DecodeMembers(EncodeMembers({}))->size(), 0u);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeMembers(bytes.substr(0, n)).status().code(), Code::kCorruption) << n;
  }
  EXPECT_EQ(DecodeMembers(bytes + "x").status().code(), Code::kCorruption);
  std::string bad_tag = bytes;
  bad_tag[0] = 0x02;
  EXPECT_EQ(DecodeMembers(bad_tag).status().code(), Code::kCorruption);
}

TEST(MembersRecord, VersionTwoCarriesNamesClientUrlsAndRemovedIdsAndReadsVersionOne) {
  MembersBook book;
  book.members[1] = MemberAttrs{"http://127.0.0.1:1", "n1", "http://127.0.0.1:11"};
  book.members[7] = MemberAttrs{"http://a:2,http://b:3", "", ""};
  book.removed = {3, 5};
  const std::string bytes = EncodeMembersBook(book);
  auto back = DecodeMembersBook(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, book);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeMembersBook(bytes.substr(0, n)).status().code(), Code::kCorruption) << n;
  }
  EXPECT_EQ(DecodeMembersBook(bytes + "x").status().code(), Code::kCorruption);
  // A version-1 record (an older data dir or snapshot) reads as peer URLs only.
  auto v1 = DecodeMembersBook(EncodeMembers({{4, "http://c:4"}}));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->members.at(4).peer_urls, "http://c:4");
  EXPECT_TRUE(v1->members.at(4).name.empty());
  EXPECT_TRUE(v1->removed.empty());
  // Removed ids must increase.
  MembersBook dup;
  dup.removed = {2};
  std::string twice = EncodeMembersBook(dup);
  twice[twice.size() - 12] = 2;             // count 2 ...
  twice += twice.substr(twice.size() - 8);  // ... and the same id again
  EXPECT_EQ(DecodeMembersBook(twice).status().code(), Code::kCorruption);
}

TEST(MembersRecord, AttributesContextRoundTripsAndIsNeverAPeerUrl) {
  const std::string ctx = EncodeAttributesContext("n1", "http://127.0.0.1:1,http://x:2");
  std::string name, urls;
  ASSERT_TRUE(DecodeAttributesContext(ctx, &name, &urls).ok());
  EXPECT_EQ(name, "n1");
  EXPECT_EQ(urls, "http://127.0.0.1:1,http://x:2");
  EXPECT_FALSE(DecodeAttributesContext("http://127.0.0.1:1", &name, &urls).ok());
  EXPECT_FALSE(DecodeAttributesContext("", &name, &urls).ok());
  for (std::size_t n = 1; n < ctx.size(); ++n) {
    EXPECT_FALSE(DecodeAttributesContext(ctx.substr(0, n), &name, &urls).ok()) << n;
  }
  EXPECT_FALSE(DecodeAttributesContext(ctx + "x", &name, &urls).ok());
}

}  // namespace
}  // namespace aspen::node
