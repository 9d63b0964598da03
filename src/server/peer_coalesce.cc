#include "server/peer_coalesce.h"

#include <utility>

namespace aspen::server {

namespace {

namespace rpb = raft::pb;

// The fields every coalescable pair must share.
bool SameEnvelope(const rpb::Message& a, const rpb::Message& b) {
  return a.type() == b.type() && a.to() == b.to() && a.from() == b.from() && a.term() == b.term() &&
         !a.reject() && !b.reject() && a.reject_hint() == 0 && b.reject_hint() == 0 &&
         a.context().empty() && b.context().empty() && !a.has_snapshot() && !b.has_snapshot();
}

void MoveEntries(rpb::Message* from, rpb::Message* into) {
  into->mutable_entries()->Reserve(into->entries_size() + from->entries_size());
  for (rpb::Entry& e : *from->mutable_entries()) *into->add_entries() = std::move(e);
}

bool MergeAppend(rpb::Message* tail, rpb::Message* next) {
  if (tail->entries_size() == 0) {
    // An empty append (commit only) is superseded by a continuation at the
    // same position.
    if (next->index() != tail->index() || next->log_term() != tail->log_term()) return false;
  } else {
    const rpb::Entry& last = tail->entries(tail->entries_size() - 1);
    if (next->index() != last.index() || next->log_term() != last.term()) return false;
  }
  if (next->commit() < tail->commit()) return false;
  MoveEntries(next, tail);
  tail->set_commit(next->commit());
  return true;
}

bool MergeProposal(rpb::Message* tail, rpb::Message* next) {
  for (const rpb::Message* m : {tail, next}) {
    if (m->entries_size() == 0) return false;
    for (const rpb::Entry& e : m->entries()) {
      if (e.type() != rpb::ENTRY_NORMAL) return false;
    }
  }
  if (tail->index() != 0 || next->index() != 0 || tail->log_term() != 0 || next->log_term() != 0 ||
      tail->commit() != 0 || next->commit() != 0) {
    return false;
  }
  MoveEntries(next, tail);
  return true;
}

}  // namespace

bool CoalesceInto(rpb::Message* tail, std::size_t* tail_bytes, rpb::Message* next,
                  std::size_t next_bytes, std::size_t max_bytes) {
  if (!SameEnvelope(*tail, *next)) return false;
  switch (next->type()) {
    case rpb::MSG_APP:
      if (*tail_bytes + next_bytes > max_bytes || !MergeAppend(tail, next)) return false;
      *tail_bytes += next_bytes;
      return true;
    case rpb::MSG_PROP:
      if (*tail_bytes + next_bytes > max_bytes || !MergeProposal(tail, next)) return false;
      *tail_bytes += next_bytes;
      return true;
    case rpb::MSG_APP_RESP:
      if (next->index() < tail->index() || next->log_term() != tail->log_term() ||
          next->commit() != tail->commit() || tail->entries_size() != 0 ||
          next->entries_size() != 0) {
        return false;
      }
      *tail = std::move(*next);
      *tail_bytes = next_bytes;
      return true;
    default: return false;
  }
}

}  // namespace aspen::server
