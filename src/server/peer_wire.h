// The raft message stream's wire format and socket helpers (the peer port's
// own framing beside gRPC; peer_stream_port.h receives it, PeerTransport
// sends it).
//
// A connection to the peer port that starts with kRaftStreamPreface carries
// raft messages; anything else is gRPC (HTTP/2 starts with "PRI * HTTP/2.0")
// and is handed to the gRPC server. After the preface every unit is a frame:
// a 4-byte little-endian payload length, then the payload, a serialized
// protobuf message. The sender's first frame is a Batch with no messages
// (cluster, from, to: the hello), the receiver's only frame is a
// StreamAccept, and every later sender frame is a Batch. The length is
// checked before anything is buffered: a frame over the reader's bound ends
// the stream with an error naming both numbers.
//
// Why not gRPC for this stream: a gRPC callback stream costs about three
// context switches per message on each side (its polling threads hand the
// epoll role to each other), while a blocking reader thread per connection
// costs one (docs/BENCHMARKS.md).
//
// Thread safety: FrameReader is not thread-safe; the free functions are.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace aspen::server {

inline constexpr std::string_view kRaftStreamPreface{"ASPNRFT1", 8};
inline constexpr std::size_t kFrameHeaderBytes = 4;

// The 4-byte header for a payload of `n` bytes.
void EncodeFrameHeader(std::size_t n, char out[kFrameHeaderBytes]);

// Splits a byte stream into frames of at most `max_payload` bytes each.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload) : max_payload_(max_payload) {}

  // Appends received bytes.
  void Feed(std::string_view bytes) { buffer_.append(bytes); }

  // The next complete payload, nullopt when more bytes are needed, or an
  // error when the next frame announces more than max_payload bytes.
  Result<std::optional<std::string>> Next();

  // Bytes fed but not yet returned as frames.
  std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  const std::size_t max_payload_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned
};

// Writes all of `bytes` to a blocking socket (EINTR and partial writes
// handled; no SIGPIPE). IOError naming errno otherwise.
Status WriteAll(int fd, std::string_view bytes);

// Writes all of `header` then `payload` to a blocking socket (EINTR and
// partial writes handled; no SIGPIPE). IOError naming errno otherwise.
Status WriteFrame(int fd, std::string_view payload);

// Reads one frame from a blocking socket through `reader` (which may hold
// bytes already); waits at most `timeout` in total. IOError on EOF, a socket
// error or the timeout; the reader's error for an oversized frame.
Result<std::string> ReadOneFrame(int fd, FrameReader* reader, std::chrono::milliseconds timeout);

// Connects to "host:port" (a name or a numeric address), waiting at most
// `timeout` in slices of 50 ms and giving up early when `cancelled()` turns
// true. Returns a blocking socket with TCP_NODELAY and keep-alive set.
Result<int> DialTcp(const std::string& target, std::chrono::milliseconds timeout,
                    const std::function<bool()>& cancelled);

// Sets TCP_NODELAY, TCP keep-alive (probes after 5 s idle, every 2 s, 3 lost
// probes) and a 10 s TCP_USER_TIMEOUT: a peer that vanished without a FIN is
// noticed in about 11 s whether the stream is idle or has data in flight.
void TunePeerSocket(int fd);

}  // namespace aspen::server
