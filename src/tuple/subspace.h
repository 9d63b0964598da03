// Key ranges over packed tuples: Strinc and Subspace (FoundationDB's
// fdb.Subspace and strinc, same semantics and bytes).
//
// A Subspace is a raw byte prefix; keys inside it are prefix + Tuple::Pack().
// Subspace is an immutable value type: copy freely, safe to share across
// threads.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "tuple/result.h"
#include "tuple/tuple.h"

namespace aspen::tuple {

// The first key after every key that starts with `prefix`: the prefix with
// trailing 0xff bytes removed and its last byte incremented. So k starts with
// prefix  <=>  prefix <= k < Strinc(prefix). Errors with kInvalidArgument if
// `prefix` is empty or all 0xff (no such key exists).
Result<std::string> Strinc(std::string_view prefix);

class Subspace {
 public:
  // The subspace of keys starting with `raw_prefix` (empty: every key).
  explicit Subspace(std::string raw_prefix = {}) : prefix_(std::move(raw_prefix)) {}
  // The subspace of keys starting with raw_prefix + t.Pack().
  explicit Subspace(const Tuple& t, std::string_view raw_prefix = {});

  // The nested subspace key() + t.Pack().
  Subspace Sub(const Tuple& t) const;
  const std::string& key() const { return prefix_; }

  // key() + t.Pack().
  std::string Pack(const Tuple& t) const;
  // The tuple after the prefix. Errors with kNotInSubspace if `key` does not
  // start with key(), or with any Tuple::Unpack error for the rest.
  Result<Tuple> Unpack(std::string_view key) const;
  // Whether `key` starts with key() (key() itself included).
  bool Contains(std::string_view key) const;
  // [key() + t.Pack() + 0x00, key() + t.Pack() + 0xff): the keys of tuples in
  // this subspace that extend t by at least one element. With the empty t:
  // every packed non-empty tuple in the subspace (the bare prefix excluded),
  // as FoundationDB's Subspace.range().
  std::pair<std::string, std::string> Range(const Tuple& t = Tuple()) const;

 private:
  std::string prefix_;
};

}  // namespace aspen::tuple
