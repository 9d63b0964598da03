#include "sm/history.h"

#include <limits>

#include "sm/reads.h"

namespace aspen::sm {
namespace {

constexpr std::uint8_t kTypePut = 0x00;
constexpr std::uint8_t kTypeDelete = 0x01;

void PutBe64(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutBe32(std::string* out, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t GetBe(std::string_view in, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[i]);
  return v;
}

void AppendEscaped(std::string* out, std::string_view key) {
  for (char c : key) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
}

std::string VersionKeyPrefix(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 3);
  out.push_back(kHistoryVersionPrefix);
  AppendEscaped(&out, key);
  out.push_back('\0');
  out.push_back('\x01');
  return out;
}

std::string VersionKeyEnd(std::string_view key) {
  std::string out = VersionKeyPrefix(key);
  out.back() = '\x02';
  return out;
}

Status GetEvent(const KvView& view, std::int64_t revision, std::uint32_t sub, HistoryEvent* out) {
  std::string bytes;
  Status s = view.Get(storage::Cf::kHistory, HistoryEventKey(revision, sub), &bytes);
  if (s.code() == Code::kNotFound) {
    return Status::Corruption("history version row at revision " + std::to_string(revision) +
                              " has no event row");
  }
  ASPEN_RETURN_IF_ERROR(s);
  ASPEN_RETURN_IF_ERROR(DecodeHistoryEvent(bytes, out));
  out->revision = revision;
  out->sub = sub;
  return Status::Ok();
}

// The first version row of `key` at or after `lower` (a version key of it).
Status FirstVersionFrom(const KvView& view, std::string_view key, const std::string& lower,
                        std::optional<HistoryEvent>* out) {
  out->reset();
  const std::string end = VersionKeyEnd(key);
  auto it = view.Scan(storage::Cf::kHistory, lower, end);
  if (!it->Valid()) return it->status();
  HistoryVersion v;
  ASPEN_RETURN_IF_ERROR(DecodeHistoryVersion(it->key(), it->value(), &v));
  if (v.key != key) return Status::Corruption("history version row outside its key's span");
  if (v.deleted) return Status::Ok();
  HistoryEvent e;
  ASPEN_RETURN_IF_ERROR(GetEvent(view, v.revision, v.sub, &e));
  if (e.deleted || e.key != key) {
    return Status::Corruption("history event row does not match its version row");
  }
  *out = std::move(e);
  return Status::Ok();
}

}  // namespace

std::string HistoryEventKey(std::int64_t revision, std::uint32_t sub) {
  std::string out;
  out.reserve(13);
  out.push_back(kHistoryEventPrefix);
  PutBe64(&out, static_cast<std::uint64_t>(revision));
  PutBe32(&out, sub);
  return out;
}

Status DecodeHistoryEventKey(std::string_view bytes, std::int64_t* revision, std::uint32_t* sub) {
  if (bytes.size() != 13 || bytes[0] != kHistoryEventPrefix) {
    return Status::Corruption("history event key: bad length or prefix");
  }
  const std::uint64_t rev = GetBe(bytes.substr(1), 8);
  if (rev > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Status::Corruption("history event key: revision out of range");
  }
  *revision = static_cast<std::int64_t>(rev);
  *sub = static_cast<std::uint32_t>(GetBe(bytes.substr(9), 4));
  return Status::Ok();
}

std::string EncodeHistoryEvent(bool deleted, std::string_view key, const KvMeta& meta,
                               std::string_view value) {
  std::string out;
  out.push_back(static_cast<char>(kHistoryEventTagV1));
  out.push_back(static_cast<char>(deleted ? kTypeDelete : kTypePut));
  PutVarint64(&out, key.size());
  out.append(key);
  if (!deleted) out.append(EncodeKvRecord(meta, value));
  return out;
}

Status DecodeHistoryEvent(std::string_view bytes, HistoryEvent* event) {
  if (bytes.size() < 2) return Status::Corruption("history event: truncated");
  if (static_cast<std::uint8_t>(bytes[0]) != kHistoryEventTagV1) {
    return Status::Corruption("history event has unknown tag " +
                              std::to_string(static_cast<std::uint8_t>(bytes[0])));
  }
  const auto type = static_cast<std::uint8_t>(bytes[1]);
  if (type != kTypePut && type != kTypeDelete) {
    return Status::Corruption("history event has unknown type " + std::to_string(type));
  }
  bytes.remove_prefix(2);
  std::uint64_t key_len = 0;
  if (!GetVarint64(&bytes, &key_len) || key_len > bytes.size()) {
    return Status::Corruption("history event: bad key length");
  }
  event->deleted = type == kTypeDelete;
  event->key = std::string(bytes.substr(0, key_len));
  bytes.remove_prefix(key_len);
  event->meta = KvMeta{};
  event->value.clear();
  if (event->deleted) {
    if (!bytes.empty()) return Status::Corruption("history event: bytes after a deletion");
    return Status::Ok();
  }
  std::string_view value;
  ASPEN_RETURN_IF_ERROR(DecodeKvRecord(bytes, &event->meta, &value));
  event->value = std::string(value);
  return Status::Ok();
}

std::string HistoryVersionKey(std::string_view key, std::int64_t revision, std::uint32_t sub) {
  std::string out = VersionKeyPrefix(key);
  PutBe64(&out, ~static_cast<std::uint64_t>(revision));
  PutBe32(&out, ~sub);
  return out;
}

std::string HistoryVersionPrefix(std::string_view key) {
  return VersionKeyPrefix(key);
}

std::pair<std::string, std::optional<std::string>> HistoryVersionSpan(
    std::string_view lo, const std::optional<std::string>& hi) {
  std::optional<std::string> end;
  if (hi.has_value()) {
    end = VersionKeyPrefix(*hi);
  } else {
    end = std::string(1, static_cast<char>(kHistoryVersionPrefix + 1));
  }
  return {VersionKeyPrefix(lo), std::move(end)};
}

Status DecodeHistoryVersion(std::string_view row_key, std::string_view row_value,
                            HistoryVersion* out) {
  if (row_key.size() < 1 + 2 + 12 || row_key[0] != kHistoryVersionPrefix) {
    return Status::Corruption("history version key: too short or bad prefix");
  }
  const std::size_t body_end = row_key.size() - 12;
  // row_key[1, body_end) is esc(key) followed by the terminator 0x00 0x01.
  if (row_key[body_end - 2] != '\0' || row_key[body_end - 1] != '\x01') {
    return Status::Corruption("history version key: no terminator");
  }
  std::string key;
  for (std::size_t i = 1; i < body_end - 2; ++i) {
    key.push_back(row_key[i]);
    if (row_key[i] != '\0') continue;
    if (i + 1 >= body_end - 2 || row_key[i + 1] != '\xff') {
      return Status::Corruption("history version key: bad escape");
    }
    ++i;
  }
  const std::uint64_t rev = ~GetBe(row_key.substr(body_end), 8);
  if (rev > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return Status::Corruption("history version key: revision out of range");
  }
  if (row_value.size() != 1 || static_cast<std::uint8_t>(row_value[0]) > kTypeDelete) {
    return Status::Corruption("history version row: bad type");
  }
  out->key = std::move(key);
  out->revision = static_cast<std::int64_t>(rev);
  out->sub = ~static_cast<std::uint32_t>(GetBe(row_key.substr(body_end + 8), 4));
  out->deleted = static_cast<std::uint8_t>(row_value[0]) == kTypeDelete;
  return Status::Ok();
}

void AddHistoryRows(Overlay* overlay, const HistoryEvent& e) {
  overlay->Put(storage::Cf::kHistory, HistoryEventKey(e.revision, e.sub),
               EncodeHistoryEvent(e.deleted, e.key, e.meta, e.value));
  overlay->Put(storage::Cf::kHistory, HistoryVersionKey(e.key, e.revision, e.sub),
               std::string(1, static_cast<char>(e.deleted ? kTypeDelete : kTypePut)));
}

Status ReadVersionAt(const KvView& view, std::string_view key, std::int64_t at,
                     std::optional<HistoryEvent>* out) {
  return FirstVersionFrom(
      view, key, HistoryVersionKey(key, at, std::numeric_limits<std::uint32_t>::max()), out);
}

Status ReadPrevVersion(const KvView& view, std::string_view key, std::int64_t revision,
                       std::uint32_t sub, std::optional<HistoryEvent>* out) {
  if (sub > 0) return FirstVersionFrom(view, key, HistoryVersionKey(key, revision, sub - 1), out);
  if (revision <= 1) {
    out->reset();
    return Status::Ok();
  }
  return ReadVersionAt(view, key, revision - 1, out);
}

Status ReadEvents(const KvView& view, std::int64_t from, std::int64_t to, std::size_t max_events,
                  std::vector<HistoryEvent>* out, std::int64_t* next) {
  *next = from;
  if (from > to) return Status::Ok();
  const std::string end =
      HistoryEventKey(to == std::numeric_limits<std::int64_t>::max() ? to : to + 1, 0);
  auto it = view.Scan(storage::Cf::kHistory, HistoryEventKey(from, 0), end);
  std::size_t n = 0;
  std::int64_t last_rev = from - 1;
  for (; it->Valid(); it->Next()) {
    HistoryEvent e;
    ASPEN_RETURN_IF_ERROR(DecodeHistoryEventKey(it->key(), &e.revision, &e.sub));
    if (n >= max_events && e.revision != last_rev) {
      *next = e.revision;
      return Status::Ok();
    }
    ASPEN_RETURN_IF_ERROR(DecodeHistoryEvent(it->value(), &e));
    last_rev = e.revision;
    out->push_back(std::move(e));
    ++n;
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  *next = to + 1;
  return Status::Ok();
}

Result<CompactionState> ReadCompactionState(const storage::Snapshot& snapshot) {
  CompactionState st;
  std::string bytes;
  Status s = snapshot.Get(storage::Cf::kMeta, kMetaCompactRevisionKey, &bytes);
  if (s.ok()) {
    std::uint64_t v = 0;
    ASPEN_RETURN_IF_ERROR(DecodeFixed64(bytes, &v));
    if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() - 1)) {
      return Status::Corruption("meta compact_revision out of range");
    }
    st.compact_revision = static_cast<std::int64_t>(v);
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  s = snapshot.Get(storage::Cf::kMeta, kMetaCompactCursorKey, &bytes);
  if (s.ok()) {
    if (bytes.size() != 12) return Status::Corruption("meta compact_cursor: bad length");
    const std::uint64_t rev = GetBe(bytes, 8);
    if (rev < 1 || rev > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Status::Corruption("meta compact_cursor: revision out of range");
    }
    st.cursor_revision = static_cast<std::int64_t>(rev);
    st.cursor_sub = static_cast<std::uint32_t>(GetBe(std::string_view(bytes).substr(8), 4));
  } else if (s.code() != Code::kNotFound) {
    return s;
  }
  return st;
}

Result<CompactStepResult> CompactStep(const storage::Snapshot& snapshot, std::size_t max_events) {
  Result<CompactionState> st = ReadCompactionState(snapshot);
  if (!st.ok()) return st.status();
  CompactStepResult out;
  out.state = *st;
  if (!st->pending() || max_events == 0) return out;
  SnapshotView view(&snapshot);
  const std::int64_t c = st->compact_revision;
  auto it = view.Scan(storage::Cf::kHistory, HistoryEventKey(st->cursor_revision, st->cursor_sub),
                      HistoryEventKey(c + 1, 0));
  std::size_t n = 0;
  bool finished = true;
  for (; it->Valid(); it->Next()) {
    std::int64_t rev = 0;
    std::uint32_t sub = 0;
    ASPEN_RETURN_IF_ERROR(DecodeHistoryEventKey(it->key(), &rev, &sub));
    if (n >= max_events) {
      out.state.cursor_revision = rev;
      out.state.cursor_sub = sub;
      finished = false;
      break;
    }
    ++n;
    HistoryEvent e;
    ASPEN_RETURN_IF_ERROR(DecodeHistoryEvent(it->value(), &e));
    // Every older version of the key is superseded by this change.
    const std::string lower = sub > 0 ? HistoryVersionKey(e.key, rev, sub - 1)
                                      : HistoryVersionKey(e.key, rev - 1, UINT32_MAX);
    auto old = view.Scan(storage::Cf::kHistory, lower, VersionKeyEnd(e.key));
    for (; old->Valid(); old->Next()) {
      HistoryVersion v;
      ASPEN_RETURN_IF_ERROR(DecodeHistoryVersion(old->key(), old->value(), &v));
      out.batch.Delete(storage::Cf::kHistory, old->key());
      out.batch.Delete(storage::Cf::kHistory, HistoryEventKey(v.revision, v.sub));
      out.rows_deleted += 2;
    }
    ASPEN_RETURN_IF_ERROR(old->status());
    if (e.deleted) {
      out.batch.Delete(storage::Cf::kHistory, it->key());
      out.batch.Delete(storage::Cf::kHistory, HistoryVersionKey(e.key, rev, sub));
      out.rows_deleted += 2;
    }
  }
  ASPEN_RETURN_IF_ERROR(it->status());
  if (finished) {
    out.state.cursor_revision = c + 1;
    out.state.cursor_sub = 0;
  }
  std::string cursor;
  PutBe64(&cursor, static_cast<std::uint64_t>(out.state.cursor_revision));
  PutBe32(&cursor, out.state.cursor_sub);
  out.batch.Put(storage::Cf::kMeta, kMetaCompactCursorKey, cursor);
  return out;
}

}  // namespace aspen::sm
