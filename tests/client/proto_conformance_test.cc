// Our etcd protos against etcd 3.4's own rpc.proto and kv.proto: every message,
// field, enum and method we declare must match by name, number, type, label
// and streaming, or etcd clients would misread our bytes.
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "client/proto_compare.h"
#include "etcdserverpb/cluster.grpc.pb.h"
#include "etcdserverpb/kv.grpc.pb.h"
#include "etcdserverpb/lease.grpc.pb.h"
#include "etcdserverpb/maintenance.grpc.pb.h"
#include "etcdserverpb/watch.grpc.pb.h"
#include "mvccpb/kv.pb.h"

namespace aspen::testing {
namespace {

namespace pb = google::protobuf;

// Referencing one type per file makes the linker keep its descriptor.
std::vector<const pb::FileDescriptor*> OurFiles() {
  return {mvccpb::KeyValue::descriptor()->file(),
          etcdserverpb::RangeRequest::descriptor()->file(),
          etcdserverpb::WatchRequest::descriptor()->file(),
          etcdserverpb::LeaseGrantRequest::descriptor()->file(),
          etcdserverpb::Member::descriptor()->file(),
          etcdserverpb::StatusRequest::descriptor()->file()};
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

class ProtoConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<ReferenceProtos>> loaded =
        ReferenceProtos::Load(ASPEN_ETCD_REFERENCE_DESCRIPTORS);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    reference_ = std::move(loaded).value();
  }
  std::unique_ptr<ReferenceProtos> reference_;
};

TEST_F(ProtoConformanceTest, EveryDeclaredMessageEnumAndMethodMatchesEtcd) {
  for (const pb::FileDescriptor* file : OurFiles()) {
    EXPECT_EQ(Join(CompareWithReference(*file, reference_->pool())), "") << file->name();
  }
}

TEST_F(ProtoConformanceTest, DeclaresTheServedServicesAndMethods) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"etcdserverpb.KV", {"Range", "Put", "DeleteRange", "Txn", "Compact"}},
      {"etcdserverpb.Watch", {"Watch"}},
      {"etcdserverpb.Lease",
       {"LeaseGrant", "LeaseRevoke", "LeaseKeepAlive", "LeaseTimeToLive", "LeaseLeases"}},
      {"etcdserverpb.Cluster",
       {"MemberAdd", "MemberRemove", "MemberUpdate", "MemberList", "MemberPromote"}},
      {"etcdserverpb.Maintenance",
       {"Alarm", "Status", "Defragment", "Hash", "HashKV", "Snapshot", "MoveLeader"}},
  };
  const pb::DescriptorPool& ours = *pb::DescriptorPool::generated_pool();
  OurFiles();
  for (const auto& [service, methods] : expected) {
    const pb::ServiceDescriptor* s = ours.FindServiceByName(service);
    ASSERT_NE(s, nullptr) << service;
    EXPECT_EQ(s->method_count(), static_cast<int>(methods.size())) << service;
    for (const std::string& method : methods) {
      EXPECT_NE(s->FindMethodByName(method), nullptr) << service << "/" << method;
    }
  }
  // The gRPC path clients call, as generated for our stubs.
  EXPECT_STREQ(etcdserverpb::KV::service_full_name(), "etcdserverpb.KV");
  EXPECT_STREQ(etcdserverpb::Maintenance::service_full_name(), "etcdserverpb.Maintenance");
}

// The comparison must catch each kind of drift: build a mutated copy of our
// kv.proto in a fresh pool and check the reported difference.
class ProtoDriftTest : public ProtoConformanceTest {
 protected:
  std::vector<std::string> CompareMutated(
      const std::function<void(pb::FileDescriptorProto*)>& mutate) {
    pb::DescriptorPool pool;
    pb::FileDescriptorProto mvcc;
    mvccpb::KeyValue::descriptor()->file()->CopyTo(&mvcc);
    EXPECT_NE(pool.BuildFile(mvcc), nullptr);
    pb::FileDescriptorProto kv;
    etcdserverpb::RangeRequest::descriptor()->file()->CopyTo(&kv);
    mutate(&kv);
    const pb::FileDescriptor* file = pool.BuildFile(kv);
    EXPECT_NE(file, nullptr);
    if (file == nullptr) return {"(mutated file did not build)"};
    return CompareWithReference(*file, reference_->pool());
  }

  static pb::DescriptorProto* Message(pb::FileDescriptorProto* file, const std::string& name) {
    for (auto& m : *file->mutable_message_type()) {
      if (m.name() == name) return &m;
    }
    ADD_FAILURE() << "no message " << name;
    return file->add_message_type();
  }
};

TEST_F(ProtoDriftTest, UnchangedCopyConforms) {
  EXPECT_EQ(Join(CompareMutated([](pb::FileDescriptorProto*) {})), "");
}

TEST_F(ProtoDriftTest, RenumberedFieldIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    Message(f, "PutRequest")->mutable_field(1)->set_number(20);  // value = 2 -> 20
  }));
  EXPECT_NE(diff.find("etcdserverpb.PutRequest.value (20): etcd has no field"), std::string::npos)
      << diff;
  EXPECT_NE(diff.find("lacks etcd's field value = 2"), std::string::npos) << diff;
}

TEST_F(ProtoDriftTest, RenamedFieldIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    Message(f, "RangeRequest")->mutable_field(2)->set_name("max_keys");  // limit = 3
  }));
  EXPECT_NE(diff.find("etcd names it limit"), std::string::npos) << diff;
}

TEST_F(ProtoDriftTest, ChangedTypeIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    Message(f, "ResponseHeader")->mutable_field(2)->set_type(pb::FieldDescriptorProto::TYPE_UINT64);
  }));
  EXPECT_NE(diff.find("ResponseHeader.revision (3): type uint64, etcd has int64"),
            std::string::npos)
      << diff;
}

TEST_F(ProtoDriftTest, ChangedLabelIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    Message(f, "TxnRequest")->mutable_field(0)->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  }));
  EXPECT_NE(diff.find("TxnRequest.compare (1): label"), std::string::npos) << diff;
}

TEST_F(ProtoDriftTest, ChangedEnumValueIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    Message(f, "Compare")->mutable_enum_type(1)->mutable_value(4)->set_number(7);  // LEASE = 4
  }));
  EXPECT_NE(diff.find("etcdserverpb.Compare.LEASE = 7: differs from etcd"), std::string::npos)
      << diff;
}

TEST_F(ProtoDriftTest, ChangedStreamingFlagIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    f->mutable_service(0)->mutable_method(0)->set_server_streaming(true);  // KV.Range
  }));
  EXPECT_NE(diff.find("/etcdserverpb.KV/Range: streaming flags differ"), std::string::npos) << diff;
}

TEST_F(ProtoDriftTest, MethodEtcdDoesNotHaveIsReported) {
  const std::string diff = Join(CompareMutated([](pb::FileDescriptorProto* f) {
    pb::MethodDescriptorProto* m = f->mutable_service(0)->add_method();
    m->set_name("Scan");
    m->set_input_type(".etcdserverpb.RangeRequest");
    m->set_output_type(".etcdserverpb.RangeResponse");
  }));
  EXPECT_NE(diff.find("/etcdserverpb.KV/Scan: not in etcd"), std::string::npos) << diff;
}

TEST(ReferenceProtosTest, MissingReferenceIsNotFound) {
  Result<std::unique_ptr<ReferenceProtos>> loaded =
      ReferenceProtos::Load("/nonexistent/etcd_reference.desc");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kNotFound);
  EXPECT_NE(loaded.status().message().find("golang-etcd-server-dev"), std::string::npos);
}

}  // namespace
}  // namespace aspen::testing
