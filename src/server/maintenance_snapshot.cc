// Maintenance.Snapshot: a consistent backup of this member, streamed.
//
// The state is written from one store snapshot into a temporary file under
// the data dir (storage/snapshot.h's format; the store snapshot is released
// as soon as the file is complete, so RocksDB can compact), which is unlinked
// once opened and then sent in messages of limits::kSnapshotSendBytes. The
// file's size is known before the first message, so remaining_bytes counts
// down exactly, as etcd's does. At most kMaxSnapshotStreams run at once.
// The file is written on a thread of ServiceEnv::stream_threads, which
// stopping the server cancels (checked between frames) and joins before the
// node stops; a stream still writing or sending then ends with Unavailable
// "server stopping", never with a truncated success.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include "base/limits.h"
#include "server/call.h"
#include "sm/snapshot_header.h"
#include "storage/snapshot.h"

namespace aspen::server {

namespace epb = ::etcdserverpb;

namespace {

std::atomic<std::uint64_t> g_stream_counter{0};

// The stream's file sink, failing once the server stops.
class CancellableSink final : public storage::ByteSink {
 public:
  CancellableSink(storage::ByteSink* sink, const std::atomic<bool>* cancelled)
      : sink_(sink), cancelled_(cancelled) {}
  Status Append(std::string_view bytes) override {
    if (cancelled_->load()) return Status::Unavailable("server stopping");
    return sink_->Append(bytes);
  }

 private:
  storage::ByteSink* sink_;
  const std::atomic<bool>* cancelled_;
};

class SnapshotStream final : public grpc::ServerWriteReactor<epb::SnapshotResponse> {
 public:
  explicit SnapshotStream(ServiceEnv* env) : env_(env), start_(std::chrono::steady_clock::now()) {}

  ~SnapshotStream() override {
    if (file_ != nullptr) std::fclose(file_);
  }

  // Writes the file on a thread of env_->stream_threads (it may take long);
  // the thread's last act is the first StartWrite or the Finish, after which
  // this object may be deleted by gRPC at any time.
  void Begin() {
    if (!env_->stream_threads.Start(
            [this](const std::atomic<bool>& cancelled) { Produce(cancelled); })) {
      Done(StoppingStatus());
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) return Done(grpc::Status(grpc::StatusCode::CANCELLED, "snapshot stream cancelled"));
    SendNext();
  }

  void OnDone() override {
    env_->snapshot_streams.fetch_sub(1);
    delete this;
  }

 private:
  static grpc::Status StoppingStatus() {
    return ToGrpcStatus(Status::Unavailable("server stopping"));
  }

  void Produce(const std::atomic<bool>& cancelled) {
    if (cancelled.load()) return Done(StoppingStatus());
    const std::string path = env_->snapshot_tmp_dir + "/snapshot-stream-" +
                             std::to_string(::getpid()) + "-" +
                             std::to_string(g_stream_counter.fetch_add(1)) + ".tmp";
    Status s = WriteFile(path, &cancelled);
    if (!s.ok()) {
      ::unlink(path.c_str());
      return Done(ToGrpcStatus(s));
    }
    file_ = std::fopen(path.c_str(), "rb");
    ::unlink(path.c_str());  // the open handle keeps the bytes
    if (file_ == nullptr) {
      return Done(ToGrpcStatus(Status::IOError("snapshot: cannot reopen " + path)));
    }
    SendNext();
  }

  Status WriteFile(const std::string& path, const std::atomic<bool>* cancelled) {
    Result<std::unique_ptr<storage::FileSink>> sink = storage::FileSink::Create(path);
    if (!sink.ok()) return sink.status();
    CancellableSink cancellable(sink->get(), cancelled);
    std::unique_ptr<storage::Snapshot> snap = env_->node->GetSnapshot();
    Result<storage::SnapshotHeader> header =
        sm::ReadSnapshotHeader(*snap, env_->cluster_id, env_->member_id);
    if (!header.ok()) return header.status();
    Result<storage::SnapshotSummary> written =
        storage::WriteStateSnapshot(*snap, *header, &cancellable);
    if (!written.ok()) return written.status();
    snap.reset();
    ASPEN_RETURN_IF_ERROR((*sink)->Finish());
    total_ = written->file_bytes;
    revision_ = header->revision;
    return Status::Ok();
  }

  void SendNext() {
    if (env_->stream_threads.stopping()) return Done(StoppingStatus());
    if (sent_ == total_) return Done(grpc::Status::OK);
    std::string* blob = resp_.mutable_blob();
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(limits::kSnapshotSendBytes, total_ - sent_));
    blob->resize(want);
    const std::size_t got = std::fread(blob->data(), 1, want, file_);
    if (got != want) {
      return Done(ToGrpcStatus(Status::IOError("snapshot: short read of the stream file")));
    }
    sent_ += got;
    resp_.set_remaining_bytes(total_ - sent_);
    if (first_) {
      env_->FillHeader(resp_.mutable_header(), revision_);
      first_ = false;
    } else {
      resp_.clear_header();
    }
    StartWrite(&resp_);
  }

  void Done(const grpc::Status& status) {
    env_->metrics->Record("Snapshot", status.error_code(),
                          std::chrono::steady_clock::now() - start_);
    Finish(status);
  }

  ServiceEnv* env_;
  std::chrono::steady_clock::time_point start_;
  std::FILE* file_ = nullptr;
  std::uint64_t total_ = 0;
  std::uint64_t sent_ = 0;
  std::int64_t revision_ = 0;
  bool first_ = true;
  epb::SnapshotResponse resp_;
};

// Answers at once (the stream bound was reached).
class RefusedStream final : public grpc::ServerWriteReactor<epb::SnapshotResponse> {
 public:
  RefusedStream() { Finish(etcd::kTooManyRequests.ToGrpc()); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<epb::SnapshotResponse>* MaintenanceService::Snapshot(
    grpc::CallbackServerContext* /*ctx*/, const epb::SnapshotRequest* /*req*/) {
  if (env_->snapshot_streams.fetch_add(1) >= kMaxSnapshotStreams) {
    env_->snapshot_streams.fetch_sub(1);
    return new RefusedStream();
  }
  auto* stream = new SnapshotStream(env_);
  stream->Begin();
  return stream;
}

}  // namespace aspen::server
