#include "node/watch_hub.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>

#include "base/assert.h"
#include "base/limits.h"
#include "base/thread_name.h"
#include "sm/history.h"
#include "sm/reads.h"
#include "sm/validate.h"
#include "sm/view.h"

namespace aspen::node {

struct WatchHub::Watcher {
  std::int64_t id = 0;
  Stream* stream = nullptr;
  WatchSpec spec;
  sm::KeyRange range;
  std::int64_t next_rev = 0;  // the first revision not yet queued
  // The compact revision when the watcher was created. A watcher that starts
  // at the compact revision misses a deletion at it, as in etcd (the row is
  // compacted away); one overtaken by a later compaction never silently does.
  std::int64_t created_compact = 0;
  bool synced = false;
  std::size_t queued_events = 0;
  std::size_t queued_bytes = 0;
  std::int64_t last_queued_ms = 0;  // for progress notifications
};

struct WatchHub::Stream {
  std::uint64_t id = 0;
  std::function<void()> wake;
  std::map<std::int64_t, std::unique_ptr<Watcher>> watchers;
  struct Queued {
    WatchMessage msg;
    std::size_t events = 0;
    std::size_t bytes = 0;
  };
  std::deque<Queued> queue;
  std::int64_t next_pick = 0;
};

struct WatchHub::Impl {
  WatchHubOptions opts;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::thread thread;
  bool started = false;
  bool stopping = false;
  bool kicked = false;
  std::int64_t notified = 0;
  std::int64_t synced_rev = 0;  // written by the hub's step only (under mu)
  std::map<std::uint64_t, std::unique_ptr<Stream>> streams;
  std::uint64_t next_stream = 1;
  std::size_t total_watchers = 0;
  std::set<Watcher*> synced;
  std::deque<Watcher*> unsynced;  // in catch-up order (round robin)
  std::multimap<std::int64_t, std::function<void(Status)>> compaction_waiters;
  std::int64_t next_progress_ms = 0;
  WatchHubStats stats;
  std::set<std::uint64_t> to_wake;  // streams whose queue grew (under mu)

  static std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  void Enqueue(Stream* s, WatchMessage msg, Watcher* w) {
    std::size_t bytes = 0;
    for (const WatchEvent& e : msg.events) {
      bytes += e.kv.ByteSizeLong() + (e.prev_kv.has_value() ? e.prev_kv->ByteSizeLong() : 0);
    }
    const std::size_t events = msg.events.size();
    if (w != nullptr) {
      w->queued_events += events;
      w->queued_bytes += bytes;
      w->last_queued_ms = NowMs();
    }
    s->queue.push_back(Stream::Queued{std::move(msg), events, bytes});
    to_wake.insert(s->id);
  }

  // Queues `events` (all of revisions < w->next_rev) for w, fragmented when
  // the watcher allows it and they are large.
  void EnqueueEvents(Watcher* w, std::vector<WatchEvent> events, std::int64_t header_rev) {
    if (events.empty()) return;
    const std::size_t limit = limits::kMaxWatchResponseBytes;
    if (!w->spec.fragment) {
      WatchMessage m;
      m.watch_id = w->id;
      m.revision = header_rev;
      m.events = std::move(events);
      Enqueue(w->stream, std::move(m), w);
      return;
    }
    std::size_t i = 0;
    while (i < events.size()) {
      WatchMessage m;
      m.watch_id = w->id;
      m.revision = header_rev;
      std::size_t bytes = 0;
      while (i < events.size()) {
        const std::size_t b =
            events[i].kv.ByteSizeLong() +
            (events[i].prev_kv.has_value() ? events[i].prev_kv->ByteSizeLong() : 0);
        if (!m.events.empty() && bytes + b > limit) break;
        bytes += b;
        m.events.push_back(std::move(events[i++]));
      }
      m.fragment = i < events.size();
      Enqueue(w->stream, std::move(m), w);
    }
  }

  std::size_t MaxEvents() const {
    return opts.max_buffer_events != 0 ? opts.max_buffer_events : limits::kMaxWatcherBufferEvents;
  }
  std::size_t MaxBytes() const {
    return opts.max_buffer_bytes != 0 ? opts.max_buffer_bytes : limits::kMaxWatcherBufferBytes;
  }
  bool Full(const Watcher& w, std::size_t extra_events, std::size_t extra_bytes) const {
    return w.queued_events + extra_events >= MaxEvents() ||
           w.queued_bytes + extra_bytes >= MaxBytes();
  }

  void RemoveFromGroups(Watcher* w) {
    if (w->synced) {
      synced.erase(w);
    } else {
      unsynced.erase(std::remove(unsynced.begin(), unsynced.end(), w), unsynced.end());
    }
  }

  void CancelWatcher(Watcher* w, std::int64_t compact_revision, std::string reason,
                     std::int64_t header_rev) {
    Stream* s = w->stream;
    WatchMessage m;
    m.watch_id = w->id;
    m.revision = header_rev;
    m.canceled = true;
    m.compact_revision = compact_revision;
    m.cancel_reason = std::move(reason);
    RemoveFromGroups(w);
    --total_watchers;
    const std::int64_t id = w->id;
    s->watchers.erase(id);
    Enqueue(s, std::move(m), nullptr);
  }

  // Whether a watcher may read the history from `next`: at or above the
  // compacted revision (only a deletion at it may be gone), or below it with
  // no row at or above `next` touched yet by the physical compaction.
  static bool Untouched(std::int64_t rev, const sm::CompactionState& c) {
    return c.cursor_revision < rev || (c.cursor_revision == rev && c.cursor_sub == 0);
  }
  // Whether w may read the history from `next`. Below the compact revision
  // only a synced watcher may (the hub was merely behind the apply of the
  // compaction) and only while no row it needs is gone; an unsynced one is
  // canceled, as in etcd. At the compact revision: if nothing is gone yet,
  // or if w started there (etcd's rule: a deletion at it is not sent).
  static bool Readable(const Watcher& w, std::int64_t next, const sm::CompactionState& c) {
    if (next > c.compact_revision) return true;
    if (next < c.compact_revision) return w.synced && Untouched(next, c);
    return Untouched(next, c) || w.created_compact >= c.compact_revision;
  }

  // The events of `hist` that w wants, as WatchEvents.
  Status Select(const sm::KvView& view, const Watcher& w, const std::vector<sm::HistoryEvent>& hist,
                const sm::CompactionState& c, std::size_t begin, std::size_t end,
                std::vector<std::optional<std::optional<sm::HistoryEvent>>>* prev_cache,
                std::vector<WatchEvent>* out, std::size_t* bytes) {
    for (std::size_t i = begin; i < end; ++i) {
      const sm::HistoryEvent& h = hist[i];
      if (!w.range.Contains(h.key) || (w.range.single_key && h.key != w.range.begin)) continue;
      if (h.deleted ? w.spec.no_delete : w.spec.no_put) continue;
      // A deletion at the compacted revision is gone from etcd's history, so
      // a watcher that started there never gets it (whether or not this
      // member has removed the row yet). Others never reach here without it.
      if (h.deleted && h.revision == c.compact_revision &&
          w.created_compact >= c.compact_revision) {
        continue;
      }
      WatchEvent e;
      e.deleted = h.deleted;
      e.kv.set_key(h.key);
      e.kv.set_mod_revision(h.revision);
      if (!h.deleted) {
        e.kv.set_create_revision(h.meta.create_revision);
        e.kv.set_version(h.meta.version);
        e.kv.set_value(h.value);
        e.kv.set_lease(h.meta.lease);
        e.kv.set_expires_at_ms(h.meta.expires_at_ms);
      }
      if (w.spec.prev_kv) {
        std::optional<std::optional<sm::HistoryEvent>>& cached = (*prev_cache)[i];
        if (!cached.has_value()) {
          std::optional<sm::HistoryEvent> p;
          ASPEN_RETURN_IF_ERROR(sm::ReadPrevVersion(view, h.key, h.revision, h.sub, &p));
          cached = std::move(p);
        }
        if (cached->has_value()) {
          const sm::HistoryEvent& p = **cached;
          sm::v1::KeyValue& kv = e.prev_kv.emplace();
          kv.set_key(p.key);
          kv.set_create_revision(p.meta.create_revision);
          kv.set_mod_revision(p.meta.mod_revision);
          kv.set_version(p.meta.version);
          kv.set_value(p.value);
          kv.set_lease(p.meta.lease);
          kv.set_expires_at_ms(p.meta.expires_at_ms);
        }
      }
      *bytes += e.kv.ByteSizeLong() + (e.prev_kv.has_value() ? e.prev_kv->ByteSizeLong() : 0);
      out->push_back(std::move(e));
    }
    return Status::Ok();
  }

  void Promote(Watcher* w) {
    unsynced.erase(std::remove(unsynced.begin(), unsynced.end(), w), unsynced.end());
    w->synced = true;
    synced.insert(w);
  }

  void Demote(Watcher* w, std::int64_t next_rev) {
    synced.erase(w);
    w->synced = false;
    w->next_rev = next_rev;
    unsynced.push_back(w);
    ++stats.demoted;
  }

  bool Step();
};

namespace {
constexpr std::size_t kUnsyncedPerStep = 256;
const char* const kCompactedReason = "mvcc: required revision has been compacted";
}  // namespace

// One round: feed the synced group from the history up to the snapshot's
// revision, catch some unsynced watchers up, answer compaction waiters,
// send progress notifications. Runs on one thread at a time.
bool WatchHub::Impl::Step() {
  auto snap = opts.store->GetSnapshot();
  Result<sm::AppliedState> applied = sm::ReadAppliedState(*snap);
  Result<sm::CompactionState> comp = sm::ReadCompactionState(*snap);
  if (!applied.ok() || !comp.ok()) return false;
  const std::int64_t rs = applied->revision;
  sm::SnapshotView view(snap.get());
  bool did = false;

  std::vector<std::function<void(Status)>> compacted_done;
  std::unique_lock lock(mu);
  ++stats.steps;
  for (auto it = compaction_waiters.begin();
       it != compaction_waiters.end() && it->first <= comp->done_revision();) {
    compacted_done.push_back(std::move(it->second));
    it = compaction_waiters.erase(it);
  }

  // ----- synced group -----
  const std::int64_t from = synced_rev + 1;
  if (rs > synced_rev) {
    did = true;
    std::vector<sm::HistoryEvent> hist;
    std::int64_t next = rs + 1;  // with nobody to feed, jump ahead
    for (Watcher* w : std::vector<Watcher*>(synced.begin(), synced.end())) {
      if (Readable(*w, from, *comp)) continue;
      ++stats.compact_canceled;
      CancelWatcher(w, comp->compact_revision, kCompactedReason, rs);
    }
    if (!synced.empty()) {
      lock.unlock();
      Status s = sm::ReadEvents(view, from, rs, limits::kWatchCatchUpEvents, &hist, &next);
      lock.lock();
      if (!s.ok()) return false;
    }
    // Revision groups [starts[i], starts[i+1]).
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < hist.size(); ++i) {
      if (i == 0 || hist[i].revision != hist[i - 1].revision) starts.push_back(i);
    }
    starts.push_back(hist.size());
    std::vector<std::optional<std::optional<sm::HistoryEvent>>> prev_cache(hist.size());
    for (Watcher* w : std::vector<Watcher*>(synced.begin(), synced.end())) {
      std::vector<WatchEvent> out;
      std::size_t bytes = 0;
      bool demoted = false;
      for (std::size_t g = 0; g + 1 < starts.size(); ++g) {
        if (Full(*w, out.size(), bytes)) {
          EnqueueEvents(w, std::move(out), rs);
          Demote(w, hist[starts[g]].revision);
          demoted = true;
          break;
        }
        if (!Select(view, *w, hist, *comp, starts[g], starts[g + 1], &prev_cache, &out, &bytes)
                 .ok()) {
          return false;
        }
      }
      if (demoted) continue;
      w->next_rev = next;
      EnqueueEvents(w, std::move(out), rs);
    }
    synced_rev = next - 1;
  }

  // ----- unsynced watchers -----
  const std::size_t n = std::min(unsynced.size(), kUnsyncedPerStep);
  for (std::size_t i = 0; i < n && !unsynced.empty(); ++i) {
    Watcher* w = unsynced.front();
    unsynced.pop_front();
    unsynced.push_back(w);  // round robin
    if (w->next_rev > synced_rev) {
      if (w->next_rev == synced_rev + 1) {
        Promote(w);
        did = true;
      }
      continue;  // a future start revision waits
    }
    if (!Readable(*w, w->next_rev, *comp)) {
      ++stats.compact_canceled;
      CancelWatcher(w, comp->compact_revision, kCompactedReason, rs);
      did = true;
      continue;
    }
    if (Full(*w, 0, 0)) continue;  // waits for its stream to drain
    std::vector<sm::HistoryEvent> hist;
    std::int64_t next = w->next_rev;
    if (!sm::ReadEvents(view, w->next_rev, synced_rev, limits::kWatchCatchUpEvents, &hist, &next)
             .ok()) {
      return false;
    }
    std::vector<std::optional<std::optional<sm::HistoryEvent>>> prev_cache(hist.size());
    std::vector<WatchEvent> out;
    std::size_t bytes = 0;
    if (!Select(view, *w, hist, *comp, 0, hist.size(), &prev_cache, &out, &bytes).ok()) {
      return false;
    }
    w->next_rev = next;
    EnqueueEvents(w, std::move(out), rs);
    if (w->next_rev == synced_rev + 1) Promote(w);
    did = true;
  }

  // ----- progress notifications (etcd's progress_notify) -----
  const std::int64_t now = NowMs();
  if (now >= next_progress_ms) {
    next_progress_ms = now + std::max<std::int64_t>(opts.progress_interval_ms / 2, 1);
    for (Watcher* w : synced) {
      if (!w->spec.progress_notify || now - w->last_queued_ms < opts.progress_interval_ms) continue;
      WatchMessage m;
      m.watch_id = w->id;
      m.revision = synced_rev;
      Enqueue(w->stream, std::move(m), w);
    }
  }

  std::vector<std::function<void()>> wakes;
  for (std::uint64_t id : to_wake) {
    auto it = streams.find(id);
    if (it != streams.end() && it->second->wake) wakes.push_back(it->second->wake);
  }
  to_wake.clear();
  lock.unlock();
  for (auto& f : compacted_done) f(Status::Ok());
  for (auto& f : wakes) f();
  return did || !compacted_done.empty();
}

WatchHub::WatchHub(const WatchHubOptions& options) : impl_(std::make_unique<Impl>()) {
  ASPEN_ASSERT(options.store != nullptr);
  impl_->opts = options;
  auto snap = options.store->GetSnapshot();
  Result<sm::AppliedState> st = sm::ReadAppliedState(*snap);
  impl_->synced_rev = st.ok() ? st->revision : 1;
  impl_->notified = impl_->synced_rev;
}

WatchHub::~WatchHub() {
  Stop();
}

void WatchHub::Start() {
  std::lock_guard lock(impl_->mu);
  if (impl_->started || impl_->stopping) return;
  impl_->started = true;
  impl_->thread = std::thread([this] {
    SetThreadName("aspen-watch");
    while (true) {
      const bool did = impl_->Step();
      std::unique_lock guard(impl_->mu);
      if (impl_->stopping) return;
      if (did) continue;
      const auto wait =
          impl_->unsynced.empty() ? std::chrono::milliseconds(500) : std::chrono::milliseconds(20);
      impl_->cv.wait_for(guard, wait, [&] {
        return impl_->stopping || impl_->kicked || impl_->notified > impl_->synced_rev;
      });
      impl_->kicked = false;
    }
  });
}

void WatchHub::Stop() {
  std::multimap<std::int64_t, std::function<void(Status)>> waiters;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    waiters.swap(impl_->compaction_waiters);
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
  for (auto& [rev, f] : waiters) f(Status::Unavailable("watch hub stopped"));
}

void WatchHub::Notify(std::int64_t revision) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->notified = std::max(impl_->notified, revision);
    // Nobody to feed: no wake-up per apply (the hub catches up when a
    // stream opens or a compaction waiter arrives, both of which kick it).
    if (impl_->streams.empty() && impl_->compaction_waiters.empty()) return;
    impl_->kicked = true;
  }
  impl_->cv.notify_one();
}

Result<std::unique_ptr<WatchStream>> WatchHub::OpenStream(std::function<void()> wake) {
  std::lock_guard lock(impl_->mu);
  const std::size_t max =
      impl_->opts.max_streams != 0 ? impl_->opts.max_streams : limits::kMaxWatchStreams;
  if (impl_->stopping) return Status::Unavailable("watch hub stopped");
  if (impl_->streams.size() >= max) {
    return Status::ResourceExhausted(
        "too many watch streams (limits::kMaxWatchStreams = " + std::to_string(max) + ")");
  }
  auto s = std::make_unique<Stream>();
  s->id = impl_->next_stream++;
  s->wake = std::move(wake);
  const std::uint64_t id = s->id;
  impl_->streams.emplace(id, std::move(s));
  return std::unique_ptr<WatchStream>(new WatchStream(this, id));
}

void WatchHub::WhenCompacted(std::int64_t revision, std::function<void(Status)> done) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->compaction_waiters.emplace(revision, std::move(done));
      impl_->kicked = true;
      done = nullptr;
    }
  }
  if (done) return done(Status::Unavailable("watch hub stopped"));
  impl_->cv.notify_one();
}

bool WatchHub::RunOnce() {
  return impl_->Step();
}

WatchHubStats WatchHub::Stats() const {
  std::lock_guard lock(impl_->mu);
  WatchHubStats s = impl_->stats;
  s.streams = impl_->streams.size();
  s.synced = impl_->synced.size();
  s.unsynced = impl_->unsynced.size();
  s.synced_revision = impl_->synced_rev;
  return s;
}

WatchStream::~WatchStream() {
  WatchHub::Impl& h = *hub_->impl_;
  std::lock_guard lock(h.mu);
  auto it = h.streams.find(id_);
  if (it == h.streams.end()) return;
  for (auto& [wid, w] : it->second->watchers) {
    h.RemoveFromGroups(w.get());
    --h.total_watchers;
  }
  h.streams.erase(it);
}

std::int64_t WatchStream::Create(const WatchSpec& spec, std::int64_t watch_id, bool pick_id) {
  WatchHub::Impl& h = *hub_->impl_;
  // The current revision, read before the lock: the watcher starts after it.
  auto snap = h.opts.store->GetSnapshot();
  Result<sm::AppliedState> st = sm::ReadAppliedState(*snap);
  std::int64_t current = st.ok() ? st->revision : 0;
  const std::int64_t compact = st.ok() ? st->compact_revision : 0;
  std::function<void()> wake;
  {
    std::lock_guard lock(h.mu);
    auto it = h.streams.find(id_);
    if (it == h.streams.end()) return -1;
    WatchHub::Stream* s = it->second.get();
    current = std::max(current, h.synced_rev);
    if (pick_id) {
      while (s->watchers.contains(s->next_pick)) ++s->next_pick;
      watch_id = s->next_pick++;
    }
    WatchMessage m;
    m.watch_id = watch_id;
    m.revision = current;
    m.created = true;
    const std::size_t per_stream = h.opts.max_watchers_per_stream != 0
                                       ? h.opts.max_watchers_per_stream
                                       : limits::kMaxWatchersPerStream;
    const std::size_t total = h.opts.max_watchers != 0 ? h.opts.max_watchers : limits::kMaxWatchers;
    std::string fault;
    if (s->watchers.contains(watch_id)) {
      fault = "mvcc: duplicate watch ID provided on the WatchStream";
    } else if (spec.key.size() > limits::kMaxKeyBytes ||
               spec.range_end.size() > limits::kMaxKeyBytes) {
      fault = "watch key or range_end is over limits::kMaxKeyBytes (" +
              std::to_string(limits::kMaxKeyBytes) + ")";
    } else if (s->watchers.size() >= per_stream) {
      fault = "too many watchers on this stream (limits::kMaxWatchersPerStream = " +
              std::to_string(per_stream) + ")";
    } else if (h.total_watchers >= total) {
      fault = "too many watchers (limits::kMaxWatchers = " + std::to_string(total) + ")";
    }
    if (!fault.empty()) {
      m.canceled = true;
      m.cancel_reason = std::move(fault);
      h.Enqueue(s, std::move(m), nullptr);
    } else {
      auto w = std::make_unique<WatchHub::Watcher>();
      w->id = watch_id;
      w->stream = s;
      w->spec = spec;
      w->range = sm::MakeKeyRange(spec.key, spec.range_end);
      w->next_rev = spec.start_revision > 0 ? spec.start_revision : current + 1;
      w->created_compact = compact;
      w->last_queued_ms = WatchHub::Impl::NowMs();
      h.Enqueue(s, std::move(m), nullptr);
      h.unsynced.push_back(w.get());
      s->watchers.emplace(watch_id, std::move(w));
      ++h.total_watchers;
      h.kicked = true;
    }
    h.to_wake.erase(id_);
    wake = s->wake;
  }
  h.cv.notify_one();
  if (wake) wake();
  return watch_id;
}

bool WatchStream::Cancel(std::int64_t watch_id) {
  WatchHub::Impl& h = *hub_->impl_;
  std::function<void()> wake;
  {
    std::lock_guard lock(h.mu);
    auto it = h.streams.find(id_);
    if (it == h.streams.end()) return false;
    auto w = it->second->watchers.find(watch_id);
    if (w == it->second->watchers.end()) return false;
    h.CancelWatcher(w->second.get(), 0, "", h.synced_rev);
    h.to_wake.erase(id_);
    wake = it->second->wake;
  }
  if (wake) wake();
  return true;
}

void WatchStream::RequestProgress() {
  WatchHub::Impl& h = *hub_->impl_;
  std::function<void()> wake;
  {
    std::lock_guard lock(h.mu);
    auto it = h.streams.find(id_);
    if (it == h.streams.end()) return;
    std::int64_t rev = h.synced_rev;
    for (const auto& [id, w] : it->second->watchers) rev = std::min(rev, w->next_rev - 1);
    WatchMessage m;
    m.watch_id = -1;
    m.revision = rev;
    h.Enqueue(it->second.get(), std::move(m), nullptr);
    h.to_wake.erase(id_);
    wake = it->second->wake;
  }
  if (wake) wake();
}

bool WatchStream::Next(WatchMessage* out) {
  WatchHub::Impl& h = *hub_->impl_;
  bool kick = false;
  {
    std::lock_guard lock(h.mu);
    auto it = h.streams.find(id_);
    if (it == h.streams.end() || it->second->queue.empty()) return false;
    WatchHub::Stream::Queued q = std::move(it->second->queue.front());
    it->second->queue.pop_front();
    auto w = it->second->watchers.find(q.msg.watch_id);
    if (w != it->second->watchers.end() && (q.events > 0 || q.bytes > 0)) {
      WatchHub::Watcher& watcher = *w->second;
      ASPEN_ASSERT(watcher.queued_events >= q.events && watcher.queued_bytes >= q.bytes);
      watcher.queued_events -= q.events;
      watcher.queued_bytes -= q.bytes;
      if (!watcher.synced) {
        h.kicked = true;
        kick = true;
      }
    }
    h.stats.events_sent += q.events;
    *out = std::move(q.msg);
  }
  if (kick) h.cv.notify_one();
  return true;
}

}  // namespace aspen::node
