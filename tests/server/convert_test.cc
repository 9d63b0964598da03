// etcd <-> state machine conversions: every etcd field crosses, Aspen's
// extensions never do.
#include "server/convert.h"

#include <gtest/gtest.h>

namespace aspen::server {
namespace {

TEST(ConvertTest, RangeRequestCopiesEveryField) {
  epb::RangeRequest in;
  in.set_key("a");
  in.set_range_end("z");
  in.set_limit(7);
  in.set_revision(3);
  in.set_sort_order(epb::RangeRequest::DESCEND);
  in.set_sort_target(epb::RangeRequest::MOD);
  in.set_serializable(true);
  in.set_keys_only(true);
  in.set_count_only(true);
  in.set_min_mod_revision(1);
  in.set_max_mod_revision(2);
  in.set_min_create_revision(4);
  in.set_max_create_revision(5);
  // Same field numbers on both sides: the encodings must be identical.
  EXPECT_EQ(ToSm(in).SerializeAsString(), in.SerializeAsString());
}

TEST(ConvertTest, UnknownSortOrderIsPassedOnForValidation) {
  epb::RangeRequest in;
  in.set_key("a");
  in.set_sort_order(static_cast<epb::RangeRequest::SortOrder>(9));
  EXPECT_EQ(static_cast<int>(ToSm(in).sort_order()), 9);
}

TEST(ConvertTest, PutRequestNeverCarriesATtl) {
  epb::PutRequest in;
  in.set_key("k");
  in.set_value("v");
  in.set_lease(9);
  in.set_prev_kv(true);
  in.set_ignore_value(true);
  in.set_ignore_lease(true);
  smpb::PutRequest out = ToSm(in);
  EXPECT_EQ(out.ttl_ms(), 0);
  EXPECT_EQ(out.SerializeAsString(), in.SerializeAsString());
}

TEST(ConvertTest, NestedTxnWithEveryCompareTargetRoundsTrip) {
  epb::TxnRequest in;
  auto* c1 = in.add_compare();
  c1->set_key("a");
  c1->set_target(epb::Compare::VALUE);
  c1->set_result(epb::Compare::NOT_EQUAL);
  c1->set_value("x");
  c1->set_range_end("b");
  in.add_compare()->set_version(3);
  in.add_compare()->set_create_revision(4);
  in.add_compare()->set_mod_revision(5);
  in.add_compare()->set_lease(6);
  in.add_success()->mutable_request_put()->set_key("p");
  in.add_success()->mutable_request_range()->set_key("r");
  in.add_failure()->mutable_request_delete_range()->set_key("d");
  auto* nested = in.add_failure()->mutable_request_txn();
  nested->add_success()->mutable_request_put()->set_key("n");
  in.add_failure();  // an op with no request crosses as one; validation rejects it
  smpb::TxnRequest out = ToSm(in);
  EXPECT_EQ(out.SerializeAsString(), in.SerializeAsString());
  EXPECT_EQ(out.failure(2).request_case(), smpb::RequestOp::REQUEST_NOT_SET);
}

TEST(ConvertTest, LeaseRequestsCopyIdAndTtl) {
  epb::LeaseGrantRequest g;
  g.set_ttl(10);
  g.set_id(42);
  EXPECT_EQ(ToSm(g).ttl(), 10);
  EXPECT_EQ(ToSm(g).id(), 42);
  epb::LeaseRevokeRequest r;
  r.set_id(43);
  EXPECT_EQ(ToSm(r).id(), 43);
}

smpb::KeyValue Kv(const std::string& key) {
  smpb::KeyValue kv;
  kv.set_key(key);
  kv.set_value("value-of-" + key);
  kv.set_create_revision(2);
  kv.set_mod_revision(3);
  kv.set_version(4);
  kv.set_lease(5);
  kv.set_expires_at_ms(123456);
  return kv;
}

TEST(ConvertTest, KeyValueDropsExpiryAndKeepsEtcdFields) {
  mvccpb::KeyValue out;
  FromSm(Kv("k"), &out);
  EXPECT_EQ(out.key(), "k");
  EXPECT_EQ(out.value(), "value-of-k");
  EXPECT_EQ(out.create_revision(), 2);
  EXPECT_EQ(out.mod_revision(), 3);
  EXPECT_EQ(out.version(), 4);
  EXPECT_EQ(out.lease(), 5);
  // Nothing beyond etcd's fields reaches the wire.
  mvccpb::KeyValue reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(out.SerializeAsString()));
  EXPECT_TRUE(reparsed.GetReflection()->GetUnknownFields(reparsed).empty());
}

TEST(ConvertTest, RangeResponseMovesKvsAndCounts) {
  smpb::RangeResponse in;
  in.mutable_header()->set_revision(9);
  *in.add_kvs() = Kv("a");
  *in.add_kvs() = Kv("b");
  in.set_more(true);
  in.set_count(3);
  epb::RangeResponse out;
  FromSm(std::move(in), &out);
  EXPECT_EQ(out.header().revision(), 9);
  ASSERT_EQ(out.kvs_size(), 2);
  EXPECT_EQ(out.kvs(1).key(), "b");
  EXPECT_TRUE(out.more());
  EXPECT_EQ(out.count(), 3);
}

TEST(ConvertTest, TxnResponseConvertsEveryResponseKind) {
  smpb::TxnResponse in;
  in.mutable_header()->set_revision(7);
  in.set_succeeded(true);
  *in.add_responses()->mutable_response_range()->add_kvs() = Kv("r");
  *in.add_responses()->mutable_response_put()->mutable_prev_kv() = Kv("p");
  auto* del = in.add_responses()->mutable_response_delete_range();
  del->set_deleted(1);
  *del->add_prev_kvs() = Kv("d");
  in.add_responses()->mutable_response_txn()->set_succeeded(true);
  epb::TxnResponse out;
  FromSm(std::move(in), &out);
  EXPECT_EQ(out.header().revision(), 7);
  EXPECT_TRUE(out.succeeded());
  ASSERT_EQ(out.responses_size(), 4);
  EXPECT_EQ(out.responses(0).response_range().kvs(0).key(), "r");
  EXPECT_EQ(out.responses(1).response_put().prev_kv().key(), "p");
  EXPECT_EQ(out.responses(2).response_delete_range().deleted(), 1);
  EXPECT_EQ(out.responses(2).response_delete_range().prev_kvs(0).key(), "d");
  EXPECT_TRUE(out.responses(3).response_txn().succeeded());
  EXPECT_FALSE(out.responses(3).response_txn().has_header());
}

TEST(ConvertTest, PutResponseWithoutPrevKvHasNone) {
  smpb::PutResponse in;
  in.mutable_header()->set_revision(2);
  epb::PutResponse out;
  FromSm(std::move(in), &out);
  EXPECT_FALSE(out.has_prev_kv());
  EXPECT_EQ(out.header().revision(), 2);
}

TEST(ConvertTest, LeaseResponsesCopyIdTtlAndError) {
  smpb::LeaseGrantResponse in;
  in.set_id(5);
  in.set_ttl(60);
  in.set_error("e");
  epb::LeaseGrantResponse out;
  FromSm(std::move(in), &out);
  EXPECT_EQ(out.id(), 5);
  EXPECT_EQ(out.ttl(), 60);
  EXPECT_EQ(out.error(), "e");
}

}  // namespace
}  // namespace aspen::server
