#include "server/peer_transport.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <utility>

#include "aspen/peer/v1/peer.grpc.pb.h"
#include "base/assert.h"
#include "base/thread_name.h"
#include "server/peer_coalesce.h"
#include "server/peer_snapshot.h"
#include "server/peer_wire.h"

namespace aspen::server {

namespace ppb = ::aspen::peer::v1;
using Clock = std::chrono::steady_clock;

// One peer: a bounded queue and the thread that drains it into a stream.
class PeerTransport::Peer {
 public:
  Peer(const PeerTransportOptions& options, PeerEvents* events, raft::NodeId id, std::string target)
      : options_(options), events_(events), id_(id), target_(std::move(target)) {
    thread_ = std::thread([this] {
      SetThreadName("peer-send-" + std::to_string(id_));
      Run();
    });
  }

  ~Peer() { Stop(); }

  // Queues `messages` (all to this peer, in Send order) under one lock with
  // one wake-up of the sender, folding each into the newest queued message
  // when CoalesceInto allows; a message that fits no bound is dropped.
  // Returns how many were dropped.
  std::size_t EnqueueAll(std::vector<raft::pb::Message>* messages) {
    std::size_t dropped = 0;
    std::unique_lock lock(mu_);
    if (TryWriteNow(messages)) {
      const bool rest = !pending_.empty();  // the sender thread finishes it
      lock.unlock();
      if (rest) cv_.notify_one();
      return 0;
    }
    for (raft::pb::Message& m : *messages) {
      const std::size_t bytes = m.ByteSizeLong();
      if (stopping_ || bytes > kMaxPeerBatchBytes / 2 ||
          queued_bytes_ + bytes > options_.queue_bytes) {
        ++dropped;
        continue;
      }
      if (!queue_.empty()) {
        Item& tail = queue_.back();
        const std::size_t before = tail.bytes;
        if (CoalesceInto(&tail.message, &tail.bytes, &m, bytes)) {
          queued_bytes_ = queued_bytes_ - before + tail.bytes;
          ++stats_.coalesced_messages;
          continue;
        }
      }
      if (queue_.size() >= options_.queue_messages) {
        ++dropped;
        continue;
      }
      queued_bytes_ += bytes;
      queue_.push_back({std::move(m), bytes});
    }
    stats_.dropped_messages += dropped;
    const bool wake = !queue_.empty() || !pending_.empty();
    // Woken after the unlock, the sender does not block on mu_ at once.
    lock.unlock();
    if (wake) cv_.notify_one();
    return dropped;
  }

  void SetTarget(std::string target) {
    std::lock_guard lock(mu_);
    if (target == target_) return;
    target_ = std::move(target);
    channel_.reset();
    if (context_ != nullptr) context_->TryCancel();
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
      if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
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

  void Run();
  bool TryWriteNow(std::vector<raft::pb::Message>* messages);
  bool OpenStream(std::unique_lock<std::mutex>& lock);
  bool OpenTcpStream(std::unique_lock<std::mutex>& lock, const std::string& target);
  bool Write(const ppb::Batch& batch);
  bool StreamOpen() const { return writer_ != nullptr || fd_ >= 0; }
  void CloseStream(std::unique_lock<std::mutex>& lock);
  void BreakStream(std::unique_lock<std::mutex>& lock, std::size_t lost);

  const PeerTransportOptions& options_;
  PeerEvents* const events_;
  const raft::NodeId id_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                         // guarded by mu_
  std::string target_;                            // guarded by mu_
  std::deque<Item> queue_;                        // guarded by mu_
  std::size_t queued_bytes_ = 0;                  // guarded by mu_; sum of queue_[i].bytes
  PeerTransportStats stats_;                      // guarded by mu_
  std::shared_ptr<grpc::Channel> channel_;        // guarded by mu_
  std::unique_ptr<grpc::ClientContext> context_;  // guarded by mu_; set while a stream is open
  // The TCP stream's socket (PeerStreamKind::kTcp): set and closed by the
  // sender thread under mu_, shut down by Stop/SetTarget under mu_.
  int fd_ = -1;
  // Whether the sender thread is writing to fd_ with mu_ released.
  bool writing_ = false;  // guarded by mu_
  // The unwritten rest of a frame TryWriteNow began (the sender thread
  // finishes it before anything else) and how many messages it carries.
  std::string pending_;                 // guarded by mu_
  std::uint64_t pending_messages_ = 0;  // guarded by mu_
  // Owned by the sender thread only.
  std::unique_ptr<ppb::Peer::Stub> stub_;
  std::unique_ptr<grpc::ClientWriter<ppb::Batch>> writer_;
  ppb::StreamSummary summary_;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point next_attempt_{};
  std::thread thread_;
};

// Opens a stream to the peer; false (and nothing open) when the peer cannot
// be reached within dial_timeout. Called with mu_ held; releases it while
// connecting.
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
  if (options_.stream == PeerStreamKind::kTcp) return OpenTcpStream(lock, target_);
  if (channel_ == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(static_cast<int>(kMaxPeerBatchBytes));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff_max.count()));
    channel_ = grpc::CreateCustomChannel(target_, grpc::InsecureChannelCredentials(), args);
    stub_ = ppb::Peer::NewStub(channel_);
  }
  std::shared_ptr<grpc::Channel> channel = channel_;
  lock.unlock();
  // Waits in short slices so that Stop never waits out a whole dial timeout
  // for a peer that is down.
  const auto give_up = std::chrono::system_clock::now() + options_.dial_timeout;
  bool connected = false;
  while (!connected) {
    const auto now = std::chrono::system_clock::now();
    if (now >= give_up) break;
    connected = channel->WaitForConnected(std::min(give_up, now + std::chrono::milliseconds(50)));
    lock.lock();
    const bool stop = stopping_;
    lock.unlock();
    if (stop) break;
  }
  lock.lock();
  if (!connected || stopping_ || channel != channel_) return false;
  context_ = std::make_unique<grpc::ClientContext>();
  writer_ = stub_->Stream(context_.get(), &summary_);
  return true;
}

// Connects to the peer port, sends the preface and the hello and waits for
// the peer's StreamAccept. Called with mu_ held; releases it meanwhile.
bool PeerTransport::Peer::OpenTcpStream(std::unique_lock<std::mutex>& lock,
                                        const std::string& target) {
  lock.unlock();
  auto cancelled = [this] {
    std::lock_guard l(mu_);
    return stopping_;
  };
  Result<int> fd = DialTcp(target, options_.dial_timeout, cancelled);
  bool ok = fd.ok();
  if (ok) {
    ppb::Batch hello;
    hello.set_cluster_id(options_.cluster_id);
    hello.set_from(options_.self);
    hello.set_to(id_);
    const std::string body = hello.SerializeAsString();
    char header[kFrameHeaderBytes];
    EncodeFrameHeader(body.size(), header);
    std::string out(kRaftStreamPreface);
    out.append(header, sizeof header);
    out += body;
    ok = WriteAll(*fd, out).ok();
    if (ok) {
      FrameReader reader(64u << 10);
      Result<std::string> answer = ReadOneFrame(*fd, &reader, options_.dial_timeout);
      ppb::StreamAccept accept;
      // A refusal (another cluster, another member) ends here; the peer
      // logs why, and this side retries after its back-off.
      ok = answer.ok() && accept.ParseFromString(*answer) && accept.code() == 0;
    }
    if (!ok) ::close(*fd);
  }
  lock.lock();
  if (!ok) return false;
  if (stopping_) {
    ::close(*fd);
    return false;
  }
  fd_ = *fd;
  return true;
}

bool PeerTransport::Peer::Write(const ppb::Batch& batch) {
  if (fd_ >= 0) return WriteFrame(fd_, batch.SerializeAsString()).ok();
  return writer_->Write(batch);
}

// Closes the open stream, if any. Called with mu_ held.
void PeerTransport::Peer::CloseStream(std::unique_lock<std::mutex>& lock) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (writer_ != nullptr) {
    context_->TryCancel();
    lock.unlock();
    (void)writer_->Finish();
    lock.lock();
    writer_.reset();
  }
  context_.reset();
}

// Ends the current stream (if any), drops the queue, reports the peer and
// schedules the next attempt. Called with mu_ held.
void PeerTransport::Peer::BreakStream(std::unique_lock<std::mutex>& lock, std::size_t lost) {
  CloseStream(lock);
  lost += queue_.size() + pending_messages_;
  queue_.clear();
  pending_.clear();
  pending_messages_ = 0;
  queued_bytes_ = 0;
  stats_.dropped_messages += lost;
  ++stats_.broken_streams;
  backoff_ =
      backoff_.count() == 0 ? options_.backoff_min : std::min(backoff_ * 2, options_.backoff_max);
  next_attempt_ = Clock::now() + backoff_;
  if (lost > 0 && !stopping_) {
    lock.unlock();
    events_->ReportUnreachable(id_);
    lock.lock();
  }
}

// Writes `messages` as one frame at once from the caller's thread (the Ready
// loop) when the TCP stream is open and idle: nothing queued, nothing being
// written, nothing pending. The write does not block (MSG_DONTWAIT): what the
// socket does not take at once is left in pending_ for the sender thread, and
// a socket that takes nothing leaves the messages to the queue. Saves the
// hand-off to the sender thread (one context switch per message on an idle
// stream). Called with mu_ held; true when the messages are written or
// pending (then `messages` is emptied).
bool PeerTransport::Peer::TryWriteNow(std::vector<raft::pb::Message>* messages) {
  if (fd_ < 0 || writing_ || stopping_ || !queue_.empty() || !pending_.empty() ||
      messages->empty()) {
    return false;
  }
  std::size_t bytes = 0;
  for (const raft::pb::Message& m : *messages) {
    const std::size_t b = m.ByteSizeLong();
    if (b > kMaxPeerBatchBytes / 2) return false;  // EnqueueAll drops and reports it
    bytes += b;
  }
  if (bytes > options_.batch_bytes) return false;
  ppb::Batch batch;
  batch.set_cluster_id(options_.cluster_id);
  batch.set_from(options_.self);
  batch.set_to(id_);
  // Folded as the queue would fold them (peer_coalesce.h).
  std::size_t tail_bytes = 0;
  std::uint64_t coalesced = 0;
  for (raft::pb::Message& m : *messages) {
    // Sized by the loop above and not changed since.
    const auto b = static_cast<std::size_t>(m.GetCachedSize());
    if (batch.messages_size() > 0 &&
        CoalesceInto(batch.mutable_messages(batch.messages_size() - 1), &tail_bytes, &m, b)) {
      ++coalesced;
      continue;
    }
    *batch.add_messages() = std::move(m);
    tail_bytes = b;
  }
  std::string frame(kFrameHeaderBytes, '\0');
  batch.AppendToString(&frame);
  EncodeFrameHeader(frame.size() - kFrameHeaderBytes, frame.data());
  ssize_t n;
  do {
    n = ::send(fd_, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    // Full socket or a broken stream: the queue and the sender thread take
    // it from here (a broken stream is found by its next write). The folded
    // messages go back folded.
    messages->clear();
    for (raft::pb::Message& m : *batch.mutable_messages()) messages->push_back(std::move(m));
    stats_.coalesced_messages += coalesced;
    return false;
  }
  const auto count = static_cast<std::uint64_t>(batch.messages_size());
  stats_.coalesced_messages += coalesced;
  messages->clear();
  if (static_cast<std::size_t>(n) == frame.size()) {
    stats_.sent_messages += count;
    backoff_ = std::chrono::milliseconds(0);
    return true;
  }
  pending_ = frame.substr(static_cast<std::size_t>(n));
  pending_messages_ = count;
  return true;
}

void PeerTransport::Peer::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !pending_.empty(); });
    if (stopping_) break;
    if (!pending_.empty()) {
      ASPEN_ASSERT(fd_ >= 0);
      const std::string rest = std::move(pending_);
      pending_.clear();
      const std::uint64_t n = pending_messages_;
      pending_messages_ = 0;
      writing_ = true;
      lock.unlock();
      const bool ok = WriteAll(fd_, rest).ok();
      lock.lock();
      writing_ = false;
      if (ok) {
        stats_.sent_messages += n;
      } else {
        BreakStream(lock, n);
      }
      continue;
    }
    if (!StreamOpen()) {
      if (Clock::now() < next_attempt_) {
        cv_.wait_until(lock, next_attempt_, [&] { return stopping_; });
        continue;
      }
      if (!OpenStream(lock)) {
        if (stopping_) break;
        BreakStream(lock, 0);
        continue;
      }
    }
    ppb::Batch batch;
    batch.set_cluster_id(options_.cluster_id);
    batch.set_from(options_.self);
    batch.set_to(id_);
    std::size_t bytes = 0;
    while (!queue_.empty() &&
           (bytes == 0 || bytes + queue_.front().bytes <= options_.batch_bytes)) {
      bytes += queue_.front().bytes;
      queued_bytes_ -= queue_.front().bytes;
      *batch.add_messages() = std::move(queue_.front().message);
      queue_.pop_front();
    }
    writing_ = true;
    lock.unlock();
    const bool ok = Write(batch);
    lock.lock();
    writing_ = false;
    const auto n = static_cast<std::uint64_t>(batch.messages_size());
    if (ok) {
      stats_.sent_messages += n;
      backoff_ = std::chrono::milliseconds(0);
    } else {
      BreakStream(lock, n);
    }
  }
  CloseStream(lock);
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
    // Per peer, in Send order; a MsgSnap leaves at once on its own stream.
    std::map<raft::NodeId, std::vector<raft::pb::Message>> by_peer;
    for (raft::pb::Message& m : messages) {
      const raft::NodeId to = m.to();
      if (to == options_.self || to == raft::kNone) continue;
      if (m.type() == raft::pb::MSG_SNAP) {
        // The state goes on a stream of its own (peer_snapshot.h).
        if (!snapshots_->Start(std::move(m))) failed_snaps.push_back(to);
        continue;
      }
      by_peer[to].push_back(std::move(m));
    }
    for (auto& [to, list] : by_peer) {
      if (GetOrCreatePeer(to)->EnqueueAll(&list) > 0) unreachable.push_back(to);
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
    total.coalesced_messages += s.coalesced_messages;
  }
  return total;
}

}  // namespace aspen::server
