// Raft snapshots over the peer port: SnapshotSender (peer_snapshot.h) and
// the receiving half, PeerService::Snapshot.
#include "server/peer_snapshot.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cstdio>
#include <filesystem>
#include <utility>

#include "aspen/peer/v1/peer.grpc.pb.h"
#include "base/assert.h"
#include "base/limits.h"
#include "base/thread_name.h"
#include "server/etcd_errors.h"
#include "server/peer_service.h"
#include "sm/reads.h"
#include "storage/snapshot.h"

namespace aspen::server {

namespace ppb = ::aspen::peer::v1;

namespace {

std::string Hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Sends the snapshot file's bytes as SnapshotChunk messages of at most
// limits::kSnapshotSendBytes; the first one carries the MsgSnap.
class ChunkSink final : public storage::ByteSink {
 public:
  ChunkSink(grpc::ClientWriter<ppb::SnapshotChunk>* writer, ppb::SnapshotChunk first)
      : writer_(writer), first_(std::move(first)) {}

  Status Append(std::string_view bytes) override {
    buffer_.append(bytes);
    while (buffer_.size() >= limits::kSnapshotSendBytes) {
      ASPEN_RETURN_IF_ERROR(Flush(limits::kSnapshotSendBytes));
    }
    return Status::Ok();
  }
  // Sends what is buffered (and the first message, even when empty).
  Status Finish() {
    if (!buffer_.empty() || !first_sent_) return Flush(buffer_.size());
    return Status::Ok();
  }

 private:
  Status Flush(std::size_t n) {
    ppb::SnapshotChunk chunk;
    if (!first_sent_) {
      chunk = std::move(first_);
      first_sent_ = true;
    }
    chunk.set_data(buffer_.substr(0, n));
    buffer_.erase(0, n);
    if (!writer_->Write(chunk)) return Status::Unavailable("snapshot stream broke");
    return Status::Ok();
  }

  grpc::ClientWriter<ppb::SnapshotChunk>* writer_;
  ppb::SnapshotChunk first_;
  bool first_sent_ = false;
  std::string buffer_;
};

}  // namespace

SnapshotSender::SnapshotSender(const PeerTransportOptions& options, PeerEvents* events,
                               std::chrono::milliseconds timeout)
    : options_(options), events_(events), timeout_(timeout) {
  ASPEN_ASSERT(events_ != nullptr);
}

SnapshotSender::~SnapshotSender() {
  Stop();
}

bool SnapshotSender::Start(raft::pb::Message message) {
  const raft::NodeId to = message.to();
  std::lock_guard lock(mu_);
  if (stopped_ || active_.count(to) != 0) return false;
  if (auto it = threads_.find(to); it != threads_.end()) {
    it->second.join();  // finished: active_ no longer holds `to`
    threads_.erase(it);
  }
  active_.insert(to);
  threads_[to] = std::thread([this, m = std::move(message)]() mutable {
    SetThreadName("peer-snap-send");
    Run(std::move(m));
  });
  return true;
}

void SnapshotSender::Stop() {
  std::map<raft::NodeId, std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, ctx] : contexts_) ctx->TryCancel();
    threads.swap(threads_);
  }
  for (auto& [id, t] : threads) t.join();
}

std::uint64_t SnapshotSender::sent() const {
  std::lock_guard lock(mu_);
  return sent_;
}

void SnapshotSender::Run(raft::pb::Message message) {
  const raft::NodeId to = message.to();
  std::string target = events_->ResolvePeer(to);
  if (target.empty()) {
    if (auto it = options_.peers.find(to); it != options_.peers.end()) target = it->second;
  }
  Status s = target.empty() ? Status::Unavailable("no address for member " + Hex(to))
                            : Send(message, target);
  {
    std::lock_guard lock(mu_);
    active_.erase(to);
    if (s.ok()) ++sent_;
  }
  events_->ReportSnapshot(to, s.ok());
}

Status SnapshotSender::Send(const raft::pb::Message& message, const std::string& target) {
  const raft::pb::SnapshotMetadata& md = message.snapshot().metadata();
  std::shared_ptr<storage::Snapshot> view = events_->SnapshotView(md.index());
  if (view == nullptr) {
    return Status::FailedPrecondition("the state at index " + std::to_string(md.index()) +
                                      " is no longer kept");
  }
  Result<sm::AppliedState> applied = sm::ReadAppliedState(*view);
  if (!applied.ok()) return applied.status();
  ASPEN_ASSERT(applied->applied_index == md.index());
  storage::SnapshotHeader header;
  header.cluster_id = options_.cluster_id;
  header.member_id = options_.self;
  header.applied_index = md.index();
  header.applied_term = md.term();
  header.revision = applied->revision;
  header.conf_state = md.conf_state().SerializeAsString();

  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(static_cast<int>(kMaxPeerBatchBytes));
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  auto stub = ppb::Peer::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout_);
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Status::Unavailable("transport stopped");
    contexts_[message.to()] = &ctx;
  }
  ppb::SnapshotReply reply;
  std::unique_ptr<grpc::ClientWriter<ppb::SnapshotChunk>> writer = stub->Snapshot(&ctx, &reply);
  ppb::SnapshotChunk first;
  first.set_cluster_id(options_.cluster_id);
  first.set_from(options_.self);
  first.set_to(message.to());
  *first.mutable_message() = message;
  ChunkSink sink(writer.get(), std::move(first));
  Result<storage::SnapshotSummary> written = storage::WriteStateSnapshot(*view, header, &sink);
  Status s = written.ok() ? sink.Finish() : written.status();
  if (s.ok()) writer->WritesDone();
  const grpc::Status g = writer->Finish();
  {
    std::lock_guard lock(mu_);
    contexts_.erase(message.to());
  }
  if (!g.ok()) {
    return Status::Unavailable("snapshot to " + target + " failed: " + g.error_message());
  }
  return s;
}

// ----- receiving -----

void PeerService::SetSnapshotStaging(std::string dir, std::uint64_t max_bytes) {
  staging_dir_ = std::move(dir);
  max_snapshot_bytes_ = max_bytes;
}

grpc::Status PeerService::Snapshot(grpc::ServerContext* /*context*/,
                                   grpc::ServerReader<ppb::SnapshotChunk>* reader,
                                   ppb::SnapshotReply* reply) {
  using grpc::StatusCode;
  if (staging_dir_.empty()) {
    return grpc::Status(StatusCode::UNIMPLEMENTED, "this member does not accept snapshots");
  }
  ppb::SnapshotChunk chunk;
  if (!reader->Read(&chunk)) {
    return grpc::Status(StatusCode::INVALID_ARGUMENT, "empty snapshot stream");
  }
  ppb::Batch as_batch;  // the first chunk's names, checked as a batch's
  as_batch.set_cluster_id(chunk.cluster_id());
  as_batch.set_from(chunk.from());
  as_batch.set_to(chunk.to());
  *as_batch.add_messages() = chunk.message();
  if (grpc::Status s = CheckBatch(as_batch); !s.ok()) {
    ++rejected_;
    return s;
  }
  raft::pb::Message message = chunk.message();
  if (message.type() != raft::pb::MSG_SNAP || !message.has_snapshot()) {
    ++rejected_;
    return grpc::Status(StatusCode::INVALID_ARGUMENT, "a snapshot stream must start with MsgSnap");
  }
  const std::uint64_t index = message.snapshot().metadata().index();
  const std::string path = staging_dir_ + "/incoming-" + Hex(chunk.from()) + "-" +
                           std::to_string(index) + "-" + std::to_string(next_staged_++) + ".snap";
  std::error_code ec;
  std::filesystem::create_directories(staging_dir_, ec);
  std::uint64_t bytes = 0;
  {
    Result<std::unique_ptr<storage::FileSink>> sink = storage::FileSink::Create(path);
    if (!sink.ok()) return ToGrpcStatus(sink.status());
    do {
      bytes += chunk.data().size();
      if (bytes > max_snapshot_bytes_) {
        return grpc::Status(StatusCode::RESOURCE_EXHAUSTED,
                            "snapshot larger than this member accepts (--max-snapshot-bytes " +
                                std::to_string(max_snapshot_bytes_) + ")");
      }
      if (Status s = (*sink)->Append(chunk.data()); !s.ok()) return ToGrpcStatus(s);
    } while (reader->Read(&chunk));
    if (Status s = (*sink)->Finish(); !s.ok()) return ToGrpcStatus(s);
  }
  auto discard = [&](grpc::Status why) {
    std::filesystem::remove(path, ec);
    return why;
  };
  Result<std::unique_ptr<storage::FileSource>> source = storage::FileSource::Open(path);
  if (!source.ok()) return discard(ToGrpcStatus(source.status()));
  Result<storage::SnapshotSummary> summary = storage::VerifyStateSnapshot(source->get());
  if (!summary.ok()) {
    return discard(grpc::Status(StatusCode::DATA_LOSS, summary.status().message()));
  }
  if (summary->header.cluster_id != cluster_id_ || summary->header.applied_index != index) {
    return discard(grpc::Status(StatusCode::INVALID_ARGUMENT,
                                "snapshot file of cluster " + Hex(summary->header.cluster_id) +
                                    " at index " + std::to_string(summary->header.applied_index) +
                                    " does not match its MsgSnap (index " + std::to_string(index) +
                                    ")"));
  }
  source->reset();
  if (Status s = handler_->ReceiveSnapshot(std::move(message), path); !s.ok()) {
    return discard(ToGrpcStatus(s));
  }
  ++received_;
  reply->set_bytes(bytes);
  return grpc::Status::OK;
}

}  // namespace aspen::server
