#include "server/peer_service.h"

#include <string>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "server/etcd_errors.h"

namespace aspen::server {

namespace ppb = ::aspen::peer::v1;

namespace {

std::string Hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

PeerService::PeerService(std::uint64_t cluster_id, raft::NodeId self, PeerHandler* handler,
                         ppb::MemberInfo self_info)
    : cluster_id_(cluster_id), self_(self), handler_(handler), self_info_(std::move(self_info)) {
  ASPEN_ASSERT(self_ != raft::kNone && handler_ != nullptr);
}

grpc::Status PeerService::Member(grpc::ServerContext* /*context*/,
                                 const ppb::MemberRequest* request, ppb::MemberInfo* reply) {
  if (grpc::Status s = CheckCluster(request->cluster_id()); !s.ok()) return s;
  *reply = self_info_;
  reply->set_id(self_);
  return grpc::Status::OK;
}

grpc::Status PeerService::Cluster(grpc::ServerContext* /*context*/,
                                  const ppb::MemberRequest* request, ppb::ClusterInfo* reply) {
  if (request->cluster_id() != 0) {
    if (grpc::Status s = CheckCluster(request->cluster_id()); !s.ok()) return s;
  }
  reply->set_cluster_id(cluster_id_);
  for (const node::Member& m : handler_->Members()) {
    ppb::MemberInfo* out = reply->add_members();
    out->set_id(m.id);
    if (m.id == self_) out->set_name(self_info_.name());
    std::string urls = m.peer_address;
    std::size_t pos = 0;
    while (pos <= urls.size() && !urls.empty()) {
      const std::size_t comma = urls.find(',', pos);
      const std::string u = urls.substr(pos, comma == std::string::npos ? comma : comma - pos);
      if (!u.empty()) out->add_peer_urls(u);
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  return grpc::Status::OK;
}

grpc::Status PeerService::MemberPromote(grpc::ServerContext* /*context*/,
                                        const ppb::PromoteRequest* request,
                                        ppb::PromoteReply* /*reply*/) {
  if (grpc::Status s = CheckCluster(request->cluster_id()); !s.ok()) return s;
  return ToGrpcStatus(handler_->PromoteMember(request->id()));
}

grpc::Status PeerService::CheckCluster(std::uint64_t cluster_id) const {
  if (cluster_id == cluster_id_) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      "cluster ID mismatch: this member is in cluster " + Hex(cluster_id_) +
                          ", the sender in cluster " + Hex(cluster_id));
}

grpc::Status PeerService::CheckBatch(const ppb::Batch& batch) const {
  if (grpc::Status s = CheckCluster(batch.cluster_id()); !s.ok()) return s;
  if (batch.to() != self_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "member ID mismatch: batch for member " + Hex(batch.to()) +
                            " reached member " + Hex(self_));
  }
  if (batch.from() == raft::kNone || batch.from() == self_) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "batch from invalid member " + Hex(batch.from()));
  }
  for (const raft::pb::Message& m : batch.messages()) {
    if (m.from() != batch.from() || m.to() != self_) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "message from " + Hex(m.from()) + " to " + Hex(m.to()) +
                              " in a batch from " + Hex(batch.from()));
    }
    if (!raft::pb::MessageType_IsValid(m.type()) || raft::IsLocalMsg(m.type())) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "message type " + std::to_string(m.type()) + " cannot arrive from the network");
    }
  }
  return grpc::Status::OK;
}

// One inbound message stream. gRPC runs OnReadDone on its own threads, one
// read at a time per stream, so batches from one peer reach the node in order.
class PeerService::StreamReader final : public grpc::ServerReadReactor<ppb::Batch> {
 public:
  StreamReader(PeerService* service, ppb::StreamSummary* summary)
      : service_(service), summary_(summary) {
    StartRead(&batch_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the sender closed the stream or it broke
      Finish(grpc::Status::OK);
      return;
    }
    summary_->set_batches(summary_->batches() + 1);
    std::size_t accepted = 0;
    if (grpc::Status s = service_->Deliver(&batch_, &accepted); !s.ok()) {
      Finish(s);
      return;
    }
    summary_->set_messages(summary_->messages() + accepted);
    batch_.Clear();
    StartRead(&batch_);
  }

  void OnDone() override { delete this; }

 private:
  PeerService* const service_;
  ppb::StreamSummary* const summary_;
  ppb::Batch batch_;
};

grpc::Status PeerService::CheckHello(const ppb::Batch& hello) {
  grpc::Status s = CheckBatch(hello);
  if (s.ok() && hello.messages_size() != 0) {
    s = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "raft stream hello carries messages");
  }
  if (!s.ok()) ++rejected_;
  return s;
}

grpc::Status PeerService::Deliver(ppb::Batch* batch, std::size_t* accepted_out) {
  if (grpc::Status s = CheckBatch(*batch); !s.ok()) {
    ++rejected_;
    return s;
  }
  std::vector<raft::pb::Message> messages;
  messages.reserve(static_cast<std::size_t>(batch->messages_size()));
  for (raft::pb::Message& m : *batch->mutable_messages()) messages.push_back(std::move(m));
  const std::size_t total = messages.size();
  const std::size_t accepted = handler_->ReceiveBatch(std::move(messages));
  ASPEN_ASSERT(accepted <= total);
  received_ += accepted;
  refused_ += total - accepted;
  if (accepted_out != nullptr) *accepted_out = accepted;
  return grpc::Status::OK;
}

grpc::ServerReadReactor<ppb::Batch>* PeerService::Stream(grpc::CallbackServerContext* /*context*/,
                                                         ppb::StreamSummary* summary) {
  return new StreamReader(this, summary);
}

grpc::Status PeerService::LeaseKeepAlive(grpc::ServerContext* /*context*/,
                                         const ppb::LeaseRequest* request, ppb::LeaseReply* reply) {
  if (grpc::Status s = CheckCluster(request->cluster_id()); !s.ok()) return s;
  Result<std::int64_t> ttl = handler_->KeepAlive(request->id());
  if (!ttl.ok()) return ToGrpcStatus(ttl.status());
  reply->set_id(request->id());
  reply->set_granted_ttl(*ttl);
  reply->set_remaining_ttl(*ttl);
  return grpc::Status::OK;
}

grpc::Status PeerService::LeaseTimeToLive(grpc::ServerContext* /*context*/,
                                          const ppb::LeaseRequest* request,
                                          ppb::LeaseReply* reply) {
  if (grpc::Status s = CheckCluster(request->cluster_id()); !s.ok()) return s;
  Result<node::LeaseStatus> st = handler_->LeaseTimeToLive(request->id());
  if (!st.ok()) return ToGrpcStatus(st.status());
  reply->set_id(st->id);
  reply->set_granted_ttl(st->granted_ttl_s);
  reply->set_remaining_ttl(st->remaining_ttl_s);
  return grpc::Status::OK;
}

PeerServiceStats PeerService::Stats() const {
  return {received_.load(), refused_.load(), rejected_.load()};
}

}  // namespace aspen::server
