// etcd's Watch service over node::WatchHub: one bidirectional stream per
// client carrying many watchers. Requests (create, cancel, progress) are
// handled as they are read; responses are written one at a time, in the
// order the hub queued them (node/watch_hub.h).
#include <memory>
#include <mutex>

#include "server/call.h"
#include "server/convert.h"
#include "server/etcd_errors.h"
#include "server/services.h"

namespace aspen::server {

namespace epb = ::etcdserverpb;

namespace {

class WatchReactor;

// Lets the hub wake a reactor that may already be gone.
struct WakeHandle {
  std::mutex mu;
  WatchReactor* reactor = nullptr;  // guarded by mu; nullptr once done
};

class WatchReactor final : public grpc::ServerBidiReactor<epb::WatchRequest, epb::WatchResponse> {
 public:
  explicit WatchReactor(ServiceEnv* env) : env_(env), handle_(std::make_shared<WakeHandle>()) {
    handle_->reactor = this;
    Result<std::unique_ptr<node::WatchStream>> s = env_->watch_hub->OpenStream([h = handle_] {
      std::lock_guard lock(h->mu);
      if (h->reactor != nullptr) h->reactor->MaybeWrite();
    });
    if (!s.ok()) {
      Finish(ToGrpcStatus(s.status()));
      return;
    }
    stream_ = std::move(s).value();
    StartRead(&request_);
    // Stopping the server ends the stream (Unavailable, as a lost connection).
    open_id_ = env_->open_streams.Add([h = handle_] {
      std::lock_guard lock(h->mu);
      if (h->reactor != nullptr) h->reactor->EndForStop();
    });
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The client closed its side (or the call ended): finish once the
      // write in flight, if any, is done.
      std::lock_guard lock(mu_);
      closing_ = true;
      if (!writing_ && !finished_) {
        finished_ = true;
        Finish(final_status_);
      }
      return;
    }
    Handle(request_);
    StartRead(&request_);
    MaybeWrite();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      closing_ = true;
    }
    if (closing_) {
      if (!finished_) {
        finished_ = true;
        Finish(final_status_);
      }
      return;
    }
    WriteNextLocked();
  }

  void OnDone() override {
    {
      std::lock_guard lock(handle_->mu);
      handle_->reactor = nullptr;
    }
    if (open_id_ != 0) env_->open_streams.Remove(open_id_);
    stream_.reset();
    delete this;
  }

  // The server is stopping (under handle_->mu): finish now, or once the
  // write in flight is done, with etcd's "server stopped".
  void EndForStop() {
    std::lock_guard lock(mu_);
    final_status_ = etcd::kStopped.ToGrpc();
    closing_ = true;
    if (!writing_ && !finished_) {
      finished_ = true;
      Finish(final_status_);
    }
  }

  // Called by the hub (under handle_->mu) and by this reactor.
  void MaybeWrite() {
    std::lock_guard lock(mu_);
    WriteNextLocked();
  }

 private:
  void Handle(const epb::WatchRequest& req) {
    switch (req.request_union_case()) {
      case epb::WatchRequest::kCreateRequest: {
        const epb::WatchCreateRequest& c = req.create_request();
        node::WatchSpec spec;
        spec.key = c.key();
        spec.range_end = c.range_end();
        spec.start_revision = c.start_revision();
        spec.prev_kv = c.prev_kv();
        spec.progress_notify = c.progress_notify();
        spec.fragment = c.fragment();
        for (int f : c.filters()) {
          if (f == epb::WatchCreateRequest::NOPUT) spec.no_put = true;
          if (f == epb::WatchCreateRequest::NODELETE) spec.no_delete = true;
        }
        // etcd: watch_id 0 (AutoWatchID) lets the server pick one.
        stream_->Create(spec, c.watch_id(), c.watch_id() == 0);
        break;
      }
      case epb::WatchRequest::kCancelRequest:
        stream_->Cancel(req.cancel_request().watch_id());
        break;
      case epb::WatchRequest::kProgressRequest: stream_->RequestProgress(); break;
      case epb::WatchRequest::REQUEST_UNION_NOT_SET: break;
    }
  }

  void WriteNextLocked() {
    if (writing_ || closing_ || stream_ == nullptr) return;
    node::WatchMessage m;
    if (!stream_->Next(&m)) return;
    response_.Clear();
    env_->FillHeader(response_.mutable_header(), m.revision);
    response_.set_watch_id(m.watch_id);
    response_.set_created(m.created);
    response_.set_canceled(m.canceled);
    response_.set_compact_revision(m.compact_revision);
    response_.set_cancel_reason(m.cancel_reason);
    response_.set_fragment(m.fragment);
    for (node::WatchEvent& e : m.events) {
      mvccpb::Event* out = response_.add_events();
      out->set_type(e.deleted ? mvccpb::Event::DELETE : mvccpb::Event::PUT);
      FromSm(std::move(e.kv), out->mutable_kv());
      if (e.prev_kv.has_value()) FromSm(std::move(*e.prev_kv), out->mutable_prev_kv());
    }
    writing_ = true;
    StartWrite(&response_);
  }

  ServiceEnv* const env_;
  std::shared_ptr<WakeHandle> handle_;
  std::unique_ptr<node::WatchStream> stream_;
  epb::WatchRequest request_;
  std::mutex mu_;
  epb::WatchResponse response_;  // guarded by mu_ while writing_
  bool writing_ = false;
  bool closing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;  // guarded by mu_; OK unless the server stops
  std::uint64_t open_id_ = 0;  // in env_->open_streams
};

}  // namespace

grpc::ServerBidiReactor<epb::WatchRequest, epb::WatchResponse>* WatchService::Watch(
    grpc::CallbackServerContext* /*ctx*/) {
  return new WatchReactor(env_);
}

}  // namespace aspen::server
