// OpenStreams: the long-lived client streams (Watch, LeaseKeepAlive) a
// server is answering, so that stopping it can end them at once with
// Unavailable "etcdserver: server stopped" (etcd's clients retry that on
// another endpoint) instead of letting grpc::Server::Shutdown wait out its
// deadline for streams that never end on their own.
//
// Each stream registers an `end` function when it starts and unregisters in
// its reactor's OnDone. EndAll marks the registry stopped (a stream that
// registers later is ended at once) and calls every registered `end`
// outside the registry's lock; `end` must be safe to call after the stream
// finished on its own (reactors guard it with their own handle, as the watch
// reactor's WakeHandle does).
//
// Thread safety: every method from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace aspen::server {

class OpenStreams {
 public:
  using End = std::function<void()>;

  // Registers a stream; returns its id for Remove. After EndAll, calls `end`
  // at once (outside the lock) and still returns an id.
  std::uint64_t Add(End end);
  void Remove(std::uint64_t id);
  // Ends every registered stream; later Adds end at once. Idempotent.
  void EndAll();
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  bool stopped_ = false;               // guarded by mu_
  std::uint64_t next_id_ = 1;          // guarded by mu_
  std::map<std::uint64_t, End> ends_;  // guarded by mu_
};

}  // namespace aspen::server
