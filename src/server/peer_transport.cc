#include "server/peer_transport.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <deque>
#include <utility>

#include "aspen/peer/v1/peer.grpc.pb.h"
#include "base/assert.h"
#include "server/peer_snapshot.h"

namespace aspen::server {

namespace ppb = ::aspen::peer::v1;
using Clock = std::chrono::steady_clock;

// One peer: a bounded queue drained into a callback client stream (a
// grpc::ClientWriteReactor) with at most one Batch in flight. Send() starts a
// write itself when none is in flight, so a message leaves from the Ready
// loop's thread without a hand-off; when the write completes, gRPC's thread
// sends everything queued meanwhile as the next Batch. The peer's thread only
// (re)connects: it resolves the address, waits for the channel and opens the
// stream, after the back-off.
class PeerTransport::Peer {
 public:
  Peer(const PeerTransportOptions& options, PeerEvents* events, raft::NodeId id, std::string target)
      : options_(options), events_(events), id_(id), target_(std::move(target)) {
    thread_ = std::thread([this] { Run(); });
  }

  ~Peer() { Stop(); }

  // Queues `m`, or drops it (false) when the queue is at a bound. Starts a
  // write on the calling thread when the stream is idle.
  bool Enqueue(raft::pb::Message m) {
    const std::size_t bytes = m.ByteSizeLong();
    std::unique_lock lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_messages ||
        queued_bytes_ + bytes > options_.queue_bytes || bytes > kMaxPeerBatchBytes / 2) {
      ++stats_.dropped_messages;
      return false;
    }
    queued_bytes_ += bytes;
    queue_.push_back({std::move(m), bytes});
    if (stream_ == nullptr) {
      cv_.notify_one();  // the peer's thread connects
    } else {
      MaybeWrite(lock);
    }
    return true;
  }

  void SetTarget(std::string target) {
    std::unique_lock lock(mu_);
    if (target == target_) return;
    target_ = std::move(target);
    channel_.reset();
    if (stream_ != nullptr) BreakStream(lock, 0);
  }

  void Stop() {
    {
      std::unique_lock lock(mu_);
      stopping_ = true;
      if (stream_ != nullptr) BreakStream(lock, 0);
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return live_streams_ == 0; });
  }

  PeerTransportStats Stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  struct Item {
    raft::pb::Message message;
    std::size_t bytes;
  };

  // One open stream. It holds its call open (AddHold) until the peer lets
  // go of it (Release), so Send never writes on a finished call; it deletes
  // itself when gRPC is done with it.
  class Writer final : public grpc::ClientWriteReactor<ppb::Batch> {
   public:
    explicit Writer(Peer* peer) : peer_(peer) {}
    void OnWriteDone(bool ok) override { peer_->WriteDone(this, ok); }
    void OnDone(const grpc::Status& /*status*/) override {
      Peer* peer = peer_;
      {
        std::lock_guard lock(peer->mu_);
        --peer->live_streams_;
        peer->cv_.notify_all();
      }
      delete this;
    }
    // The peer's state for this stream, guarded by the peer's mu_.
    grpc::ClientContext context;
    ppb::StreamSummary summary;
    ppb::Batch batch;        // the write in flight, if any
    bool in_flight = false;  // a StartWrite has not completed yet
    bool released = false;   // RemoveHold called (or about to be)
    std::uint64_t batch_messages = 0;

   private:
    Peer* const peer_;
  };

  void Run();
  bool OpenStream(std::unique_lock<std::mutex>& lock);
  void MaybeWrite(std::unique_lock<std::mutex>& lock);
  void WriteDone(Writer* w, bool ok);
  void BreakStream(std::unique_lock<std::mutex>& lock, std::size_t lost);

  const PeerTransportOptions& options_;
  PeerEvents* const events_;
  const raft::NodeId id_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                   // guarded by mu_
  std::string target_;                      // guarded by mu_
  std::deque<Item> queue_;                  // guarded by mu_
  std::size_t queued_bytes_ = 0;            // guarded by mu_; sum of queue_[i].bytes
  PeerTransportStats stats_;                // guarded by mu_
  std::shared_ptr<grpc::Channel> channel_;  // guarded by mu_
  std::unique_ptr<ppb::Peer::Stub> stub_;   // guarded by mu_
  Writer* stream_ = nullptr;                // guarded by mu_; the open stream
  int live_streams_ = 0;                    // guarded by mu_; Writers not yet done
  std::chrono::milliseconds backoff_{0};    // guarded by mu_
  Clock::time_point next_attempt_{};        // guarded by mu_
  std::thread thread_;
};

// Starts the next write when the stream is idle and something is queued:
// everything queued, up to batch_bytes, in one Batch. Called with mu_ held;
// releases it around StartWrite (gRPC may run callbacks inline).
void PeerTransport::Peer::MaybeWrite(std::unique_lock<std::mutex>& lock) {
  Writer* w = stream_;
  if (w == nullptr || w->in_flight || w->released || queue_.empty()) return;
  w->batch.Clear();
  w->batch.set_cluster_id(options_.cluster_id);
  w->batch.set_from(options_.self);
  w->batch.set_to(id_);
  std::size_t bytes = 0;
  while (!queue_.empty() && (bytes == 0 || bytes + queue_.front().bytes <= options_.batch_bytes)) {
    bytes += queue_.front().bytes;
    queued_bytes_ -= queue_.front().bytes;
    *w->batch.add_messages() = std::move(queue_.front().message);
    queue_.pop_front();
  }
  w->batch_messages = static_cast<std::uint64_t>(w->batch.messages_size());
  w->in_flight = true;
  // The hold keeps the call (and `w`) alive until Release, which needs mu_.
  lock.unlock();
  w->StartWrite(&w->batch);
  lock.lock();
}

void PeerTransport::Peer::WriteDone(Writer* w, bool ok) {
  std::unique_lock lock(mu_);
  w->in_flight = false;
  if (w != stream_) {  // a stream already given up: let it finish
    if (!w->released) {
      w->released = true;
      lock.unlock();
      w->RemoveHold();
    }
    return;
  }
  if (!ok) {
    BreakStream(lock, w->batch_messages);
    return;
  }
  stats_.sent_messages += w->batch_messages;
  backoff_ = std::chrono::milliseconds(0);
  MaybeWrite(lock);
}

// Opens a stream to the peer; false (and nothing open) when the peer cannot
// be reached within dial_timeout. Called on the peer's thread with mu_ held;
// releases it while connecting.
bool PeerTransport::Peer::OpenStream(std::unique_lock<std::mutex>& lock) {
  // The address book wins over the configured target: a member's peer URLs
  // may have changed (MemberUpdate) since.
  lock.unlock();
  std::string target = events_->ResolvePeer(id_);
  lock.lock();
  if (stopping_) return false;
  if (!target.empty() && target != target_) {
    target_ = std::move(target);
    channel_.reset();
  }
  if (target_.empty()) return false;
  if (channel_ == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(static_cast<int>(kMaxPeerBatchBytes));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff_max.count()));
    channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
    stub_ = ppb::Peer::NewStub(channel_);
  }
  std::shared_ptr<grpc::Channel> channel = channel_;
  lock.unlock();
  const bool connected =
      channel->WaitForConnected(std::chrono::system_clock::now() + options_.dial_timeout);
  lock.lock();
  if (!connected || stopping_ || channel != channel_) return false;
  auto* w = new Writer(this);
  ++live_streams_;
  stub_->async()->Stream(&w->context, &w->summary, w);
  w->AddHold();
  w->StartCall();
  stream_ = w;
  MaybeWrite(lock);
  return true;
}

// Gives up the current stream (if any): cancels it, drops the queue, reports
// the peer and schedules the next attempt. Called with mu_ held; releases it
// around the calls out.
void PeerTransport::Peer::BreakStream(std::unique_lock<std::mutex>& lock, std::size_t lost) {
  Writer* w = stream_;
  stream_ = nullptr;
  lost += queue_.size();
  queue_.clear();
  queued_bytes_ = 0;
  stats_.dropped_messages += lost;
  ++stats_.broken_streams;
  backoff_ =
      backoff_.count() == 0 ? options_.backoff_min : std::min(backoff_ * 2, options_.backoff_max);
  next_attempt_ = Clock::now() + backoff_;
  cv_.notify_all();
  // A write still in flight releases the hold when it completes (WriteDone).
  const bool release = w != nullptr && !w->in_flight && !w->released;
  if (w != nullptr && release) w->released = true;
  if (w != nullptr) w->context.TryCancel();
  if (release || (lost > 0 && !stopping_)) {
    lock.unlock();
    if (release) w->RemoveHold();
    if (lost > 0 && !stopping_) events_->ReportUnreachable(id_);
    lock.lock();
  }
}

void PeerTransport::Peer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || (!queue_.empty() && stream_ == nullptr); });
    if (stopping_) break;
    if (Clock::now() < next_attempt_) {
      cv_.wait_until(lock, next_attempt_, [&] { return stopping_; });
      continue;
    }
    if (!OpenStream(lock)) {
      if (stopping_) break;
      BreakStream(lock, 0);
    }
  }
}

PeerTransport::PeerTransport(PeerTransportOptions options) : options_(std::move(options)) {
  ASPEN_ASSERT(options_.self != raft::kNone);
  ASPEN_ASSERT(options_.queue_messages > 0 && options_.batch_bytes > 0);
  ASPEN_ASSERT(options_.backoff_min.count() > 0 && options_.backoff_min <= options_.backoff_max);
}

PeerTransport::~PeerTransport() {
  Stop();
}

void PeerTransport::Attach(PeerEvents* events) {
  ASPEN_ASSERT(events != nullptr);
  std::lock_guard lock(mu_);
  ASPEN_ASSERT(events_ == nullptr && peers_.empty());
  events_ = events;
  snapshots_ = std::make_unique<SnapshotSender>(options_, events_);
}

PeerTransport::Peer* PeerTransport::GetOrCreatePeer(raft::NodeId id) {
  if (auto it = peers_.find(id); it != peers_.end()) return it->second.get();
  std::string target;  // empty: the sender thread resolves it before connecting
  if (auto it = options_.peers.find(id); it != options_.peers.end()) target = it->second;
  auto [it, inserted] = peers_.emplace(id, std::make_unique<Peer>(options_, events_, id, target));
  ASPEN_ASSERT(inserted);
  return it->second.get();
}

void PeerTransport::Send(std::vector<raft::pb::Message> messages) {
  std::vector<raft::NodeId> unreachable;
  std::vector<raft::NodeId> failed_snaps;
  {
    std::lock_guard lock(mu_);
    ASPEN_ASSERT_MSG(events_ != nullptr, "PeerTransport::Send before Attach");
    if (stopped_) return;
    for (raft::pb::Message& m : messages) {
      const raft::NodeId to = m.to();
      if (to == options_.self || to == raft::kNone) continue;
      if (m.type() == raft::pb::MSG_SNAP) {
        // The state goes on a stream of its own (peer_snapshot.h).
        if (!snapshots_->Start(std::move(m))) failed_snaps.push_back(to);
        continue;
      }
      if (!GetOrCreatePeer(to)->Enqueue(std::move(m))) unreachable.push_back(to);
    }
  }
  for (raft::NodeId id : unreachable) events_->ReportUnreachable(id);
  for (raft::NodeId id : failed_snaps) events_->ReportSnapshot(id, false);
}

void PeerTransport::SetPeerTarget(raft::NodeId peer, std::string target) {
  std::lock_guard lock(mu_);
  if (auto it = peers_.find(peer); it != peers_.end()) it->second->SetTarget(std::move(target));
}

void PeerTransport::Stop() {
  std::map<raft::NodeId, std::unique_ptr<Peer>> peers;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    peers.swap(peers_);
  }
  for (auto& [id, peer] : peers) peer->Stop();
  if (snapshots_ != nullptr) snapshots_->Stop();
}

PeerTransportStats PeerTransport::Stats() const {
  std::lock_guard lock(mu_);
  PeerTransportStats total;
  for (const auto& [id, peer] : peers_) {
    PeerTransportStats s = peer->Stats();
    total.sent_messages += s.sent_messages;
    total.dropped_messages += s.dropped_messages;
    total.broken_streams += s.broken_streams;
  }
  return total;
}

}  // namespace aspen::server
