#include "client/proto_compare.h"

#include <google/protobuf/descriptor.pb.h>

#include <fstream>

namespace aspen::testing {

namespace pb = google::protobuf;

namespace {

// The type of a field as one comparable string: "TYPE_MESSAGE mvccpb.KeyValue".
std::string TypeOf(const pb::FieldDescriptor& f) {
  std::string type = pb::FieldDescriptor::TypeName(f.type());
  if (f.message_type() != nullptr) type += " " + f.message_type()->full_name();
  if (f.enum_type() != nullptr) type += " " + f.enum_type()->full_name();
  return type;
}

std::string OneofOf(const pb::FieldDescriptor& f) {
  return f.real_containing_oneof() == nullptr ? "(none)" : f.real_containing_oneof()->name();
}

void CompareEnum(const pb::EnumDescriptor& ours, const pb::DescriptorPool& reference,
                 std::vector<std::string>* out) {
  const pb::EnumDescriptor* ref = reference.FindEnumTypeByName(ours.full_name());
  if (ref == nullptr) {
    out->push_back("enum " + ours.full_name() + ": not in etcd");
    return;
  }
  if (ours.value_count() != ref->value_count()) {
    out->push_back("enum " + ours.full_name() + ": " + std::to_string(ours.value_count()) +
                   " values, etcd has " + std::to_string(ref->value_count()));
  }
  for (int i = 0; i < ours.value_count(); ++i) {
    const pb::EnumValueDescriptor& v = *ours.value(i);
    const pb::EnumValueDescriptor* r = ref->FindValueByName(v.name());
    if (r == nullptr || r->number() != v.number()) {
      out->push_back("enum value " + v.full_name() + " = " + std::to_string(v.number()) +
                     ": differs from etcd");
    }
  }
}

void CompareField(const pb::FieldDescriptor& f, const pb::Descriptor& ref_message,
                  std::vector<std::string>* out) {
  const std::string where = "field " + f.full_name() + " (" + std::to_string(f.number()) + ")";
  const pb::FieldDescriptor* r = ref_message.FindFieldByNumber(f.number());
  if (r == nullptr) {
    out->push_back(where + ": etcd has no field with this number");
    return;
  }
  if (r->name() != f.name()) out->push_back(where + ": etcd names it " + r->name());
  if (TypeOf(*r) != TypeOf(f)) {
    out->push_back(where + ": type " + TypeOf(f) + ", etcd has " + TypeOf(*r));
  }
  if (r->label() != f.label()) {
    out->push_back(where + ": label " + std::to_string(f.label()) + ", etcd has " +
                   std::to_string(r->label()));
  }
  if (OneofOf(*r) != OneofOf(f)) {
    out->push_back(where + ": oneof " + OneofOf(f) + ", etcd has " + OneofOf(*r));
  }
}

void CompareMessage(const pb::Descriptor& ours, const pb::DescriptorPool& reference,
                    std::vector<std::string>* out) {
  const pb::Descriptor* ref = reference.FindMessageTypeByName(ours.full_name());
  if (ref == nullptr) {
    out->push_back("message " + ours.full_name() + ": not in etcd");
    return;
  }
  for (int i = 0; i < ours.field_count(); ++i) CompareField(*ours.field(i), *ref, out);
  for (int i = 0; i < ref->field_count(); ++i) {
    const pb::FieldDescriptor& r = *ref->field(i);
    if (ours.FindFieldByNumber(r.number()) == nullptr) {
      out->push_back("message " + ours.full_name() + ": lacks etcd's field " + r.name() + " = " +
                     std::to_string(r.number()));
    }
  }
  for (int i = 0; i < ours.nested_type_count(); ++i) {
    CompareMessage(*ours.nested_type(i), reference, out);
  }
  for (int i = 0; i < ours.enum_type_count(); ++i) CompareEnum(*ours.enum_type(i), reference, out);
}

void CompareService(const pb::ServiceDescriptor& ours, const pb::DescriptorPool& reference,
                    std::vector<std::string>* out) {
  const pb::ServiceDescriptor* ref = reference.FindServiceByName(ours.full_name());
  if (ref == nullptr) {
    out->push_back("service " + ours.full_name() + ": not in etcd");
    return;
  }
  for (int i = 0; i < ours.method_count(); ++i) {
    const pb::MethodDescriptor& m = *ours.method(i);
    const std::string where = "method /" + ours.full_name() + "/" + m.name();
    const pb::MethodDescriptor* r = ref->FindMethodByName(m.name());
    if (r == nullptr) {
      out->push_back(where + ": not in etcd");
      continue;
    }
    if (r->input_type()->full_name() != m.input_type()->full_name()) {
      out->push_back(where + ": request " + m.input_type()->full_name() + ", etcd has " +
                     r->input_type()->full_name());
    }
    if (r->output_type()->full_name() != m.output_type()->full_name()) {
      out->push_back(where + ": response " + m.output_type()->full_name() + ", etcd has " +
                     r->output_type()->full_name());
    }
    if (r->client_streaming() != m.client_streaming() ||
        r->server_streaming() != m.server_streaming()) {
      out->push_back(where + ": streaming flags differ from etcd");
    }
  }
}

}  // namespace

Result<std::unique_ptr<ReferenceProtos>> ReferenceProtos::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("reference descriptor set " + path +
                            " is missing: install golang-etcd-server-dev and rebuild");
  }
  pb::FileDescriptorSet set;
  if (!set.ParseFromIstream(&in)) {
    return Status::InvalidArgument(path + " is not a FileDescriptorSet");
  }
  auto ref = std::unique_ptr<ReferenceProtos>(new ReferenceProtos());
  for (const pb::FileDescriptorProto& file : set.file()) {  // dependencies come first
    if (ref->pool_.BuildFile(file) == nullptr) {
      return Status::InvalidArgument("reference file " + file.name() + " does not build");
    }
  }
  return ref;
}

std::vector<std::string> CompareWithReference(const pb::FileDescriptor& ours,
                                              const pb::DescriptorPool& reference) {
  std::vector<std::string> out;
  for (int i = 0; i < ours.message_type_count(); ++i) {
    CompareMessage(*ours.message_type(i), reference, &out);
  }
  for (int i = 0; i < ours.enum_type_count(); ++i) CompareEnum(*ours.enum_type(i), reference, &out);
  for (int i = 0; i < ours.service_count(); ++i) CompareService(*ours.service(i), reference, &out);
  return out;
}

}  // namespace aspen::testing
