#include "sim/linearizability.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <utility>
#include <vector>

#include "base/assert.h"

namespace aspen::sim {
namespace {

KeyState Written(const KeyState& prev, const std::string& value, std::int64_t lease) {
  return KeyState{true, value, prev.present ? prev.version + 1 : 1, lease};
}

KeyState StateOf(const ModelState& s, const std::string& key) {
  auto it = s.keys.find(key);
  return it == s.keys.end() ? KeyState{} : it->second;
}

void SetKey(ModelState* s, const std::string& key, KeyState k) {
  if (k.present) {
    s->keys[key] = std::move(k);
  } else {
    s->keys.erase(key);
  }
}

// One event of the doubly linked WGL list: an operation's call or return.
struct Node {
  int op = -1;  // index into the key's operations; -1 for the head sentinel
  bool is_call = false;
  int match = -1;  // call: its return node (-1 when the outcome is unknown)
  int prev = -1;
  int next = -1;
};

class KeySearch {
 public:
  KeySearch(std::vector<const Operation*> ops, std::size_t max_states)
      : ops_(std::move(ops)), max_states_(max_states) {
    BuildList();
  }

  LinVerdict Run();
  std::size_t states() const { return cache_.size(); }

 private:
  void BuildList();
  void Lift(int call) {
    Unlink(call);
    if (nodes_[call].match >= 0) Unlink(nodes_[call].match);
  }
  void Unlift(int call) {
    if (nodes_[call].match >= 0) Relink(nodes_[call].match);
    Relink(call);
  }
  void Unlink(int n) {
    nodes_[nodes_[n].prev].next = nodes_[n].next;
    if (nodes_[n].next >= 0) nodes_[nodes_[n].next].prev = nodes_[n].prev;
  }
  void Relink(int n) {
    nodes_[nodes_[n].prev].next = n;
    if (nodes_[n].next >= 0) nodes_[nodes_[n].next].prev = n;
  }
  bool Known(int call) const { return nodes_[call].match >= 0; }
  void Flip(std::size_t op) { linearized_[op / 64] ^= (std::uint64_t{1} << (op % 64)); }

  std::vector<const Operation*> ops_;
  std::size_t max_states_;
  std::vector<Node> nodes_;  // nodes_[0] is the head sentinel
  std::vector<std::uint64_t> linearized_;
  // Model states are interned: the cache holds (linearized set, state id).
  std::map<ModelState, int> state_ids_;
  std::set<std::pair<std::vector<std::uint64_t>, int>> cache_;
  int known_ = 0;
};

void KeySearch::BuildList() {
  // Events sorted by time; at equal times calls come first, so operations that
  // touch the same millisecond count as concurrent (never a false failure).
  std::vector<std::tuple<std::int64_t, int, int>> events;  // time, 0=call/1=return, op
  for (std::size_t i = 0; i < ops_.size(); ++i) {
    events.emplace_back(ops_[i]->invoke_ms, 0, static_cast<int>(i));
    const Operation& op = *ops_[i];
    // An operation that certainly took effect must be linearized before its
    // return (or before the time it was seen applied, answer unknown).
    const bool ok = op.outcome == Outcome::kOk;
    if (ok || op.applied_by_ms >= 0) {
      const std::int64_t end = ok ? op.return_ms : op.applied_by_ms;
      ASPEN_ASSERT(end >= op.invoke_ms);
      events.emplace_back(end, 1, static_cast<int>(i));
      ++known_;
    }
  }
  std::sort(events.begin(), events.end());
  nodes_.assign(events.size() + 1, Node{});
  std::vector<int> call_node(ops_.size(), -1);
  for (std::size_t k = 0; k < events.size(); ++k) {
    const auto& [t, kind, op] = events[k];
    Node& n = nodes_[k + 1];
    n.op = op;
    n.is_call = kind == 0;
    if (n.is_call) {
      call_node[op] = static_cast<int>(k + 1);
    } else {
      nodes_[call_node[op]].match = static_cast<int>(k + 1);
    }
  }
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    nodes_[k].prev = static_cast<int>(k) - 1;
    nodes_[k].next = k + 1 < nodes_.size() ? static_cast<int>(k + 1) : -1;
  }
  linearized_.assign((ops_.size() + 63) / 64, 0);
}

LinVerdict KeySearch::Run() {
  ModelState state;
  std::vector<std::pair<int, ModelState>> stack;
  int remaining = known_;
  int entry = nodes_[0].next;
  while (remaining > 0) {
    // A known return is still in the list, and the search never walks past one.
    ASPEN_ASSERT(entry >= 0);
    const Node& n = nodes_[entry];
    if (n.is_call) {
      const std::size_t op = static_cast<std::size_t>(n.op);
      std::optional<ModelState> next = ModelStep(state, *ops_[op]);
      bool fresh = false;
      if (next) {
        Flip(op);
        const int sid =
            state_ids_.emplace(*next, static_cast<int>(state_ids_.size())).first->second;
        fresh = cache_.emplace(linearized_, sid).second;
        if (!fresh) Flip(op);
      }
      if (fresh) {
        stack.emplace_back(entry, state);
        state = std::move(*next);
        Lift(entry);
        if (Known(entry)) --remaining;
        entry = nodes_[0].next;
        if (cache_.size() > max_states_) return LinVerdict::kBoundExceeded;
      } else {
        entry = n.next;
      }
    } else {
      // The operation returning here was not linearized before its return.
      if (stack.empty()) return LinVerdict::kNotLinearizable;
      auto [call, prior] = std::move(stack.back());
      stack.pop_back();
      state = std::move(prior);
      Flip(static_cast<std::size_t>(nodes_[call].op));
      Unlift(call);
      if (Known(call)) ++remaining;
      entry = nodes_[call].next;
    }
  }
  return LinVerdict::kLinearizable;
}

std::string DescribeKeyHistory(const std::vector<const Operation*>& ops) {
  std::string out;
  constexpr std::size_t kMaxLines = 60;
  for (std::size_t i = 0; i < ops.size() && i < kMaxLines; ++i) {
    out += "  " + DescribeOperation(*ops[i]) + "\n";
  }
  if (ops.size() > kMaxLines) {
    out += "  ... " + std::to_string(ops.size() - kMaxLines) + " more operations\n";
  }
  return out;
}

}  // namespace

std::optional<ModelState> ModelStep(const ModelState& state, const Operation& op) {
  const bool known = op.outcome == Outcome::kOk;
  switch (op.kind) {
    case OpKind::kGet:
      if (known && op.read != StateOf(state, op.key)) return std::nullopt;
      return state;
    case OpKind::kPut: {
      const KeyState prev = StateOf(state, op.key);
      if (op.lease != 0 && state.alive.count(op.lease) == 0) {
        if (known && !op.flag) return std::nullopt;
        return state;
      }
      if (known && (op.flag || op.read != prev)) return std::nullopt;
      ModelState next = state;
      SetKey(&next, op.key, Written(prev, op.value, op.lease));
      return next;
    }
    case OpKind::kDelete: {
      if (known && op.flag != StateOf(state, op.key).present) return std::nullopt;
      ModelState next = state;
      next.keys.erase(op.key);
      return next;
    }
    case OpKind::kCas: {
      const KeyState prev = StateOf(state, op.key);
      const bool success = prev.present && prev.value == op.expected;
      if (known && op.flag != success) return std::nullopt;
      if (!success) return state;
      ModelState next = state;
      SetKey(&next, op.key, Written(prev, op.value, 0));
      return next;
    }
    case OpKind::kRange: {
      if (!known) return state;
      if (op.range.size() != state.keys.size()) return std::nullopt;
      auto it = state.keys.begin();
      for (const auto& [key, seen] : op.range) {
        if (it->first != key || it->second != seen) return std::nullopt;
        ++it;
      }
      return state;
    }
    case OpKind::kLeaseGrant: {
      const bool exists = state.alive.count(op.lease) != 0;
      if (known && op.flag != exists) return std::nullopt;
      if (exists) return state;
      ModelState next = state;
      next.alive.insert(op.lease);
      next.granted.insert(op.lease);
      return next;
    }
    case OpKind::kLeaseRevoke:
    case OpKind::kLeaseExpire: {
      const bool alive = state.alive.count(op.lease) != 0;
      if (known && op.flag != alive) return std::nullopt;
      if (!alive) return state;
      ModelState next = state;
      next.alive.erase(op.lease);
      for (auto it = next.keys.begin(); it != next.keys.end();) {
        it = it->second.lease == op.lease ? next.keys.erase(it) : std::next(it);
      }
      return next;
    }
    case OpKind::kKeepAlive:
      if (known && op.flag && state.granted.count(op.lease) == 0) return std::nullopt;
      if (known && !op.flag && state.alive.count(op.lease) != 0) return std::nullopt;
      return state;
  }
  ASPEN_ASSERT(false);
  return std::nullopt;
}

LinearizabilityResult CheckLinearizable(const History& history,
                                        const LinearizabilityOptions& options) {
  std::map<std::string, std::vector<const Operation*>> by_key;
  for (const Operation& op : history) {
    const bool read_only =
        op.kind == OpKind::kGet || op.kind == OpKind::kRange || op.kind == OpKind::kKeepAlive;
    if (read_only && op.outcome == Outcome::kUnknown) continue;
    by_key[PartitionOf(op.key)].push_back(&op);
  }
  LinearizabilityResult result;
  for (auto& [key, ops] : by_key) {
    std::stable_sort(ops.begin(), ops.end(), [](const Operation* a, const Operation* b) {
      return a->invoke_ms < b->invoke_ms;
    });
    KeySearch search(ops, options.max_states_per_key);
    const LinVerdict v = search.Run();
    result.states += search.states();
    if (v == LinVerdict::kLinearizable) continue;
    result.verdict = v;
    result.key = key;
    if (v == LinVerdict::kBoundExceeded) {
      result.message = "linearizability search of key '" + key + "' (" +
                       std::to_string(ops.size()) + " operations) exceeded the bound of " +
                       std::to_string(options.max_states_per_key) +
                       " memoized states: the history was NOT verified; shorten the run "
                       "(--steps) or raise --lin-states";
    } else {
      const bool slot = !key.empty() && key.back() == '/';
      result.message = std::string(slot ? "history of lease slot '" : "history of key '") + key +
                       "' is not linearizable; its " + std::to_string(ops.size()) +
                       " operations by invocation time:\n" + DescribeKeyHistory(ops);
    }
    return result;
  }
  return result;
}

}  // namespace aspen::sim
