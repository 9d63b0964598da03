// Range with etcd's rules (etcd's applierV3backend.Range): filters on mod and
// create revision, sort, limit with `more`, count of every live key in the
// range, keys_only, count_only. Expired TTL keys are never returned.
//
// Plans: a scan of Cf::kKv over the range, or, when a revision filter spans
// few revisions (e.g. min_mod_revision near the current revision), a scan of
// the mod_revision or create_revision index over that span. Both give the
// same answer; count still comes from the kv range.
#include <algorithm>
#include <vector>

#include "sm/history.h"
#include "sm/index.h"
#include "sm/ops.h"

namespace aspen::sm::internal {
namespace {

// An index plan is used when its revision span is at most this wide.
constexpr std::int64_t kIndexPlanMaxSpan = 1024;

struct Item {
  std::string key;
  KvMeta meta;
  std::string value;
};

bool PassesFilters(const v1::RangeRequest& r, const KvMeta& m) {
  if (r.max_mod_revision() != 0 && m.mod_revision > r.max_mod_revision()) return false;
  if (r.min_mod_revision() != 0 && m.mod_revision < r.min_mod_revision()) return false;
  if (r.max_create_revision() != 0 && m.create_revision > r.max_create_revision()) return false;
  if (r.min_create_revision() != 0 && m.create_revision < r.min_create_revision()) return false;
  return true;
}

// keys_only drops values from the answer, but a sort by value still needs them.
bool KeepValue(const v1::RangeRequest& r) {
  return !r.keys_only() || r.sort_target() == v1::RangeRequest::VALUE;
}

bool HasFilters(const v1::RangeRequest& r) {
  return r.min_mod_revision() != 0 || r.max_mod_revision() != 0 || r.min_create_revision() != 0 ||
         r.max_create_revision() != 0;
}

// etcd: a non-key target sorts ascending by default; key-ascending is the
// natural order and needs no sort.
v1::RangeRequest::SortOrder EffectiveOrder(const v1::RangeRequest& r) {
  if (r.sort_target() != v1::RangeRequest::KEY && r.sort_order() == v1::RangeRequest::NONE) {
    return v1::RangeRequest::ASCEND;
  }
  if (r.sort_target() == v1::RangeRequest::KEY && r.sort_order() == v1::RangeRequest::ASCEND) {
    return v1::RangeRequest::NONE;
  }
  return r.sort_order();
}

// Ties keep key order (the input order), so results are deterministic.
void SortItems(const v1::RangeRequest& r, v1::RangeRequest::SortOrder order,
               std::vector<Item>* items) {
  auto less = [&](const Item& a, const Item& b) {
    switch (r.sort_target()) {
      case v1::RangeRequest::VERSION: return a.meta.version < b.meta.version;
      case v1::RangeRequest::CREATE: return a.meta.create_revision < b.meta.create_revision;
      case v1::RangeRequest::MOD: return a.meta.mod_revision < b.meta.mod_revision;
      case v1::RangeRequest::VALUE: return a.value < b.value;
      default: return a.key < b.key;
    }
  };
  if (order == v1::RangeRequest::ASCEND) {
    std::stable_sort(items->begin(), items->end(), less);
  } else {
    std::stable_sort(items->begin(), items->end(),
                     [&](const Item& a, const Item& b) { return less(b, a); });
  }
}

struct IndexPlan {
  IndexName name;
  std::int64_t lo;
  std::int64_t hi;
};

std::optional<IndexPlan> ChooseIndexPlan(const v1::RangeRequest& r, std::int64_t current) {
  std::optional<IndexPlan> best;
  auto consider = [&](IndexName name, std::int64_t min, std::int64_t max) {
    if (min <= 0) return;
    // An empty span (hi < min) is the cheapest plan of all; clamping it to
    // -1 keeps the subtraction free of overflow for any request values.
    const std::int64_t hi = std::max(max != 0 ? std::min(max, current) : current, min - 1);
    const std::int64_t span = hi - min;
    if (span > kIndexPlanMaxSpan) return;
    if (!best.has_value() || span < best->hi - best->lo) best = IndexPlan{name, min, hi};
  };
  consider(IndexName::kModRevision, r.min_mod_revision(), r.max_mod_revision());
  consider(IndexName::kCreateRevision, r.min_create_revision(), r.max_create_revision());
  return best;
}

Status CollectByIndex(const KvView& view, const KeyRange& range, std::int64_t now_ms,
                      const v1::RangeRequest& r, const IndexPlan& plan, std::vector<Item>* items) {
  if (plan.hi >= plan.lo) {
    const auto [begin, end] = IndexValueRange(plan.name, plan.lo, plan.hi);
    auto it = view.Scan(storage::Cf::kIndex, begin, end);
    for (; it->Valid(); it->Next()) {
      IndexEntry entry;
      ASPEN_RETURN_IF_ERROR(DecodeIndexKey(plan.name, it->key(), &entry));
      if (!range.Contains(entry.key)) continue;
      std::optional<StoredKv> kv;
      ASPEN_RETURN_IF_ERROR(ReadKv(view, entry.key, &kv));
      const std::int64_t indexed = !kv.has_value() ? -1
                                   : plan.name == IndexName::kModRevision
                                       ? kv->meta.mod_revision
                                       : kv->meta.create_revision;
      if (indexed != entry.value) return Status::Corruption("revision index row has no kv row");
      if (kv->meta.ExpiredAt(now_ms) || !PassesFilters(r, kv->meta)) continue;
      items->push_back(Item{std::move(entry.key), kv->meta,
                            !KeepValue(r) ? std::string() : std::move(kv->value)});
    }
    ASPEN_RETURN_IF_ERROR(it->status());
  }
  std::sort(items->begin(), items->end(),
            [](const Item& a, const Item& b) { return a.key < b.key; });
  return Status::Ok();
}

// Sort, limit (with `more`) and fill the answer.
void FinishRange(const v1::RangeRequest& req, v1::RangeRequest::SortOrder order,
                 std::vector<Item> items, v1::RangeResponse* resp) {
  if (order != v1::RangeRequest::NONE) SortItems(req, order, &items);
  if (req.limit() > 0 && items.size() > static_cast<std::size_t>(req.limit())) {
    items.resize(static_cast<std::size_t>(req.limit()));
    resp->set_more(true);
  }
  resp->mutable_kvs()->Reserve(static_cast<int>(items.size()));
  for (Item& item : items) {
    v1::KeyValue* kv = resp->add_kvs();
    FillKv({}, item.meta, {}, /*keys_only=*/true, kv);
    kv->set_key(std::move(item.key));
    if (!req.keys_only()) kv->set_value(std::move(item.value));
  }
}

}  // namespace

Status ForEachVersionAt(const KvView& view, const KeyRange& range, std::int64_t at,
                        std::int64_t now_ms, const KvVisitor& fn) {
  if (range.Empty()) return Status::Ok();
  if (range.single_key) {
    std::optional<HistoryEvent> e;
    ASPEN_RETURN_IF_ERROR(ReadVersionAt(view, range.begin, at, &e));
    if (e.has_value() && !e->meta.ExpiredAt(now_ms)) fn(range.begin, e->meta, e->value);
    return Status::Ok();
  }
  const auto [begin, end] = HistoryVersionSpan(range.begin, range.end);
  std::optional<std::string_view> upper;
  if (end.has_value()) upper = *end;
  auto it = view.Scan(storage::Cf::kHistory, begin, upper);
  std::string decided;  // the key whose version at `at` was found
  bool have_decided = false;
  for (; it->Valid(); it->Next()) {
    HistoryVersion v;
    ASPEN_RETURN_IF_ERROR(DecodeHistoryVersion(it->key(), it->value(), &v));
    if (have_decided && v.key == decided) continue;
    if (v.revision > at) continue;
    decided = v.key;
    have_decided = true;
    if (v.deleted) continue;
    std::string bytes;
    Status s = view.Get(storage::Cf::kHistory, HistoryEventKey(v.revision, v.sub), &bytes);
    if (s.code() == Code::kNotFound) return Status::Corruption("history version without event");
    ASPEN_RETURN_IF_ERROR(s);
    HistoryEvent e;
    ASPEN_RETURN_IF_ERROR(DecodeHistoryEvent(bytes, &e));
    if (e.deleted || e.key != v.key) return Status::Corruption("history event/version mismatch");
    if (e.meta.ExpiredAt(now_ms)) continue;
    if (!fn(v.key, e.meta, e.value)) break;
  }
  return it->status();
}

Status CheckRangeRevision(const v1::RangeRequest& req, std::int64_t current_revision,
                          std::int64_t compact_revision) {
  if (req.revision() > current_revision) {
    return Status::OutOfRange("mvcc: required revision is a future revision");
  }
  if (req.revision() > 0 && req.revision() < compact_revision) {
    return Status::OutOfRange("mvcc: required revision has been compacted (requested " +
                              std::to_string(req.revision()) + ", compacted at " +
                              std::to_string(compact_revision) + ")");
  }
  return Status::Ok();
}

Status ExecRange(const KvView& view, std::int64_t current_revision, std::int64_t compact_revision,
                 std::int64_t now_ms, const v1::RangeRequest& req, const RangePlanOptions& options,
                 v1::RangeResponse* resp) {
  ASPEN_RETURN_IF_ERROR(CheckRangeRevision(req, current_revision, compact_revision));
  resp->mutable_header()->set_revision(current_revision);
  const KeyRange range = MakeKeyRange(req.key(), req.range_end());
  const v1::RangeRequest::SortOrder order = EffectiveOrder(req);
  if (req.revision() > 0 && req.revision() < current_revision) {
    std::vector<Item> items;
    std::int64_t count = 0;
    ASPEN_RETURN_IF_ERROR(ForEachVersionAt(
        view, range, req.revision(), now_ms,
        [&](std::string_view key, const KvMeta& meta, std::string_view value) {
          ++count;
          if (!req.count_only() && PassesFilters(req, meta)) {
            items.push_back(
                Item{std::string(key), meta, !KeepValue(req) ? std::string() : std::string(value)});
          }
          return true;
        }));
    resp->set_count(count);
    if (req.count_only()) return Status::Ok();
    FinishRange(req, order, std::move(items), resp);
    return Status::Ok();
  }
  const std::optional<IndexPlan> plan = options.allow_index && !req.count_only()
                                            ? ChooseIndexPlan(req, current_revision)
                                            : std::nullopt;
  // Without sort or filters, only limit+1 items are needed (the +1 sets more).
  const bool early_stop = order == v1::RangeRequest::NONE && !HasFilters(req) && req.limit() > 0;
  const std::size_t want = early_stop ? static_cast<std::size_t>(req.limit()) + 1 : SIZE_MAX;
  std::vector<Item> items;
  std::int64_t count = 0;
  ASPEN_RETURN_IF_ERROR(ForEachLiveKv(
      view, range, now_ms, [&](std::string_view key, const KvMeta& meta, std::string_view value) {
        ++count;
        if (req.count_only() || plan.has_value() || items.size() >= want) return true;
        if (PassesFilters(req, meta)) {
          items.push_back(
              Item{std::string(key), meta, !KeepValue(req) ? std::string() : std::string(value)});
        }
        return true;
      }));
  resp->set_count(count);
  if (req.count_only()) return Status::Ok();
  if (plan.has_value())
    ASPEN_RETURN_IF_ERROR(CollectByIndex(view, range, now_ms, req, *plan, &items));
  FinishRange(req, order, std::move(items), resp);
  return Status::Ok();
}

}  // namespace aspen::sm::internal
