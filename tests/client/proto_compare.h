// Structural comparison of our etcd protos with etcd's reference protos.
#pragma once

#include <google/protobuf/descriptor.h>

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace aspen::testing {

// etcd's reference protos (rpc.proto, kv.proto and their imports) as a
// FileDescriptorSet, written at build time by protoc from Debian's
// golang-etcd-server-dev (see tests/client/CMakeLists.txt), loaded into a pool.
class ReferenceProtos {
 public:
  // Returns NotFound naming the file when it cannot be read, or
  // InvalidArgument when it is not a descriptor set or a file fails to build.
  static Result<std::unique_ptr<ReferenceProtos>> Load(const std::string& descriptor_set_path);
  const google::protobuf::DescriptorPool& pool() const { return pool_; }

 private:
  google::protobuf::DescriptorPool pool_;
};

// Every difference between the messages, enums and services declared in
// `ours` and the same full names in `reference`, one readable line each; empty
// when ours conforms. Checked: each message exists and has exactly the
// reference's fields (by number: name, type, label, message/enum type name,
// oneof); each enum has exactly the reference's values; each service exists
// and each method we declare exists with the same request and response types
// and streaming flags.
std::vector<std::string> CompareWithReference(const google::protobuf::FileDescriptor& ours,
                                              const google::protobuf::DescriptorPool& reference);

}  // namespace aspen::testing
