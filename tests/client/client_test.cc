// aspen::client::Client against a real etcd (Debian etcd-server) on loopback.
#include "client/client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "proc/etcd_fixture.h"

namespace aspen::client {
namespace {

using aspen::testing::EtcdProcess;

class ClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Result<std::unique_ptr<EtcdProcess>> etcd = EtcdProcess::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
    etcd_ = std::move(etcd).value().release();
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(etcd_, nullptr);
    ClientOptions options;
    options.endpoints = {etcd_->endpoint()};
    Result<std::unique_ptr<Client>> created = Client::Create(options);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    client_ = std::move(created).value();
  }
  // Each test works under its own prefix so tests do not see each other's keys.
  std::string Key(const std::string& suffix) const {
    return std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/" +
           suffix;
  }

  static EtcdProcess* etcd_;
  std::unique_ptr<Client> client_;
};

EtcdProcess* ClientTest::etcd_ = nullptr;

TEST_F(ClientTest, PutThenGetReturnsValueAndRevisions) {
  Result<etcdserverpb::PutResponse> put = client_->Put(Key("a"), "one");
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  const std::int64_t revision = put->header().revision();
  EXPECT_GT(revision, 0);
  Result<etcdserverpb::RangeResponse> got = client_->Get(Key("a"));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value(), "one");
  EXPECT_EQ(got->kvs(0).create_revision(), revision);
  EXPECT_EQ(got->kvs(0).mod_revision(), revision);
  EXPECT_EQ(got->kvs(0).version(), 1);

  PutOptions with_prev;
  with_prev.prev_kv = true;
  Result<etcdserverpb::PutResponse> again = client_->Put(Key("a"), "two", with_prev);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->prev_kv().value(), "one");
  got = client_->Get(Key("a"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kvs(0).version(), 2);
  EXPECT_EQ(got->kvs(0).create_revision(), revision);
}

TEST_F(ClientTest, GetHonoursPrefixLimitSortAndCountOptions) {
  for (const char* k : {"c", "a", "b", "d"}) ASSERT_TRUE(client_->Put(Key(k), k).ok());
  // "<test>0" is PrefixEnd("<test>/"): just past the prefix, so never listed.
  ASSERT_TRUE(client_->Put(Key("").substr(0, Key("").size() - 1) + "0", "outside").ok());

  GetOptions prefix;
  prefix.prefix = true;
  Result<etcdserverpb::RangeResponse> all = client_->Get(Key(""), prefix);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->kvs_size(), 4);
  EXPECT_EQ(all->kvs(0).key(), Key("a"));
  EXPECT_EQ(all->kvs(3).key(), Key("d"));

  GetOptions limited = prefix;
  limited.limit = 2;
  limited.sort_order = etcdserverpb::RangeRequest::DESCEND;
  Result<etcdserverpb::RangeResponse> top = client_->Get(Key(""), limited);
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->kvs_size(), 2);
  EXPECT_EQ(top->kvs(0).key(), Key("d"));
  EXPECT_TRUE(top->more());
  EXPECT_EQ(top->count(), 4);

  GetOptions count = prefix;
  count.count_only = true;
  Result<etcdserverpb::RangeResponse> counted = client_->Get(Key(""), count);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->count(), 4);
  EXPECT_EQ(counted->kvs_size(), 0);

  GetOptions keys = prefix;
  keys.keys_only = true;
  keys.serializable = true;
  Result<etcdserverpb::RangeResponse> names = client_->Get(Key(""), keys);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->kvs_size(), 4);
  EXPECT_EQ(names->kvs(1).value(), "");

  GetOptions range;
  range.range_end = Key("c");
  Result<etcdserverpb::RangeResponse> half = client_->Get(Key("a"), range);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->kvs_size(), 2);  // [a, c)
}

TEST_F(ClientTest, GetAtOldRevisionSeesOldValue) {
  Result<etcdserverpb::PutResponse> first = client_->Put(Key("k"), "old");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(client_->Put(Key("k"), "new").ok());
  GetOptions at;
  at.revision = first->header().revision();
  Result<etcdserverpb::RangeResponse> got = client_->Get(Key("k"), at);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->kvs_size(), 1);
  EXPECT_EQ(got->kvs(0).value(), "old");
}

TEST_F(ClientTest, DeleteRemovesKeysAndReturnsPrevious) {
  for (const char* k : {"x", "y"}) ASSERT_TRUE(client_->Put(Key(k), k).ok());
  DeleteOptions one;
  one.prev_kv = true;
  Result<etcdserverpb::DeleteRangeResponse> del = client_->Delete(Key("x"), one);
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_EQ(del->deleted(), 1);
  ASSERT_EQ(del->prev_kvs_size(), 1);
  EXPECT_EQ(del->prev_kvs(0).value(), "x");
  DeleteOptions prefix;
  prefix.prefix = true;
  del = client_->Delete(Key(""), prefix);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->deleted(), 1);
  Result<etcdserverpb::RangeResponse> got = client_->Get(Key("y"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kvs_size(), 0);
}

TEST_F(ClientTest, TxnRunsSuccessBranchOnlyWhenCompareHolds) {
  Result<etcdserverpb::PutResponse> put = client_->Put(Key("k"), "v1");
  ASSERT_TRUE(put.ok());
  auto cas = [&](std::int64_t expected_mod, const std::string& value) {
    etcdserverpb::TxnRequest txn;
    etcdserverpb::Compare* cmp = txn.add_compare();
    cmp->set_key(Key("k"));
    cmp->set_target(etcdserverpb::Compare::MOD);
    cmp->set_result(etcdserverpb::Compare::EQUAL);
    cmp->set_mod_revision(expected_mod);
    etcdserverpb::PutRequest* p = txn.add_success()->mutable_request_put();
    p->set_key(Key("k"));
    p->set_value(value);
    txn.add_failure()->mutable_request_range()->set_key(Key("k"));
    return client_->Txn(txn);
  };
  Result<etcdserverpb::TxnResponse> stale = cas(put->header().revision() - 1, "lost");
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->succeeded());
  ASSERT_EQ(stale->responses_size(), 1);
  EXPECT_EQ(stale->responses(0).response_range().kvs(0).value(), "v1");

  Result<etcdserverpb::TxnResponse> fresh = cas(put->header().revision(), "v2");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->succeeded());
  Result<etcdserverpb::RangeResponse> got = client_->Get(Key("k"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kvs(0).value(), "v2");
}

TEST_F(ClientTest, TxnWithMoreThanMaxTxnOpsIsInvalidArgument) {
  etcdserverpb::TxnRequest txn;
  for (int i = 0; i < 129; ++i) {  // etcd's --max-txn-ops defaults to 128
    etcdserverpb::PutRequest* p = txn.add_success()->mutable_request_put();
    p->set_key(Key(std::to_string(i)));
    p->set_value("v");
  }
  Result<etcdserverpb::TxnResponse> r = client_->Txn(txn);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("INVALID_ARGUMENT: etcdserver: too many operations"),
            std::string::npos)
      << r.status().message();
}

TEST_F(ClientTest, PutLargerThanMaxRequestBytesIsRejected) {
  // etcd's --max-request-bytes defaults to 1.5 MiB.
  Result<etcdserverpb::PutResponse> r = client_->Put(Key("big"), std::string(1600 * 1024, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().ToString();
  EXPECT_NE(r.status().message().find("request is too large"), std::string::npos)
      << r.status().message();
}

TEST_F(ClientTest, CompactedRevisionIsOutOfRange) {
  Result<etcdserverpb::PutResponse> first = client_->Put(Key("k"), "a");
  ASSERT_TRUE(first.ok());
  Result<etcdserverpb::PutResponse> second = client_->Put(Key("k"), "b");
  ASSERT_TRUE(second.ok());
  Result<etcdserverpb::CompactionResponse> compacted =
      client_->Compact(second->header().revision(), /*physical=*/true);
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  GetOptions at;
  at.revision = first->header().revision();
  Result<etcdserverpb::RangeResponse> old = client_->Get(Key("k"), at);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), Code::kOutOfRange) << old.status().ToString();
  EXPECT_NE(old.status().message().find("compacted"), std::string::npos);
}

TEST_F(ClientTest, LeaseLifecycleGrantAttachKeepAliveTimeToLiveListRevoke) {
  Result<etcdserverpb::LeaseGrantResponse> lease = client_->LeaseGrant(60);
  ASSERT_TRUE(lease.ok()) << lease.status().ToString();
  const std::int64_t id = lease->id();
  EXPECT_NE(id, 0);
  EXPECT_EQ(lease->ttl(), 60);
  PutOptions attached;
  attached.lease = id;
  ASSERT_TRUE(client_->Put(Key("leased"), "v", attached).ok());

  Result<etcdserverpb::LeaseKeepAliveResponse> kept = client_->LeaseKeepAliveOnce(id);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->id(), id);
  EXPECT_EQ(kept->ttl(), 60);

  Result<etcdserverpb::LeaseTimeToLiveResponse> ttl = client_->LeaseTimeToLive(id, true);
  ASSERT_TRUE(ttl.ok()) << ttl.status().ToString();
  EXPECT_EQ(ttl->grantedttl(), 60);
  EXPECT_GT(ttl->ttl(), 50);
  ASSERT_EQ(ttl->keys_size(), 1);
  EXPECT_EQ(ttl->keys(0), Key("leased"));

  Result<etcdserverpb::LeaseLeasesResponse> leases = client_->LeaseLeases();
  ASSERT_TRUE(leases.ok()) << leases.status().ToString();
  bool listed = false;
  for (const auto& l : leases->leases()) listed = listed || l.id() == id;
  EXPECT_TRUE(listed);

  ASSERT_TRUE(client_->LeaseRevoke(id).ok());
  Result<etcdserverpb::RangeResponse> got = client_->Get(Key("leased"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->kvs_size(), 0);  // revoking deletes attached keys
  ttl = client_->LeaseTimeToLive(id);
  ASSERT_TRUE(ttl.ok());
  EXPECT_EQ(ttl->ttl(), -1);  // etcd reports a gone lease as TTL -1, not an error
}

TEST_F(ClientTest, UnknownLeaseIsNotFound) {
  constexpr std::int64_t kUnknown = 0x7eadbeef;
  Result<etcdserverpb::LeaseRevokeResponse> revoked = client_->LeaseRevoke(kUnknown);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.status().code(), Code::kNotFound);
  EXPECT_NE(revoked.status().message().find("NOT_FOUND: etcdserver: requested lease not found"),
            std::string::npos)
      << revoked.status().message();

  Result<etcdserverpb::LeaseKeepAliveResponse> kept = client_->LeaseKeepAliveOnce(kUnknown);
  ASSERT_FALSE(kept.ok());
  EXPECT_EQ(kept.status().code(), Code::kNotFound);

  PutOptions attached;
  attached.lease = kUnknown;
  Result<etcdserverpb::PutResponse> put = client_->Put(Key("k"), "v", attached);
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), Code::kNotFound);
}

TEST_F(ClientTest, MemberListAndStatusDescribeTheSingleNode) {
  Result<etcdserverpb::MemberListResponse> members = client_->MemberList();
  ASSERT_TRUE(members.ok()) << members.status().ToString();
  ASSERT_EQ(members->members_size(), 1);
  EXPECT_EQ(members->members(0).name(), "default");
  ASSERT_EQ(members->members(0).clienturls_size(), 1);
  EXPECT_EQ(members->members(0).clienturls(0), "http://" + etcd_->endpoint());

  Result<etcdserverpb::StatusResponse> status = client_->EndpointStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->leader(), members->members(0).id());
  EXPECT_EQ(status->version().substr(0, 4), "3.4.");
  EXPECT_GT(status->raftindex(), 0u);
}

}  // namespace
}  // namespace aspen::client
