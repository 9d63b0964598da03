// An independent reference model of etcd's semantics (plus Aspen's TTL) for
// the property tests: a std::map and a revision counter, no storage, no
// indexes, no overlay. It covers single-level Txn (the generator builds no
// nested txns; nesting is pinned by txn_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"

namespace aspen::sm::testing {

struct ModelKv {
  std::string value;
  std::int64_t create = 0, mod = 0, version = 0, lease = 0, expires_at = 0;
  bool LiveAt(std::int64_t now) const { return expires_at == 0 || expires_at > now; }
};

class Model {
 public:
  // The expected response; for errors only error.code is meaningful.
  v1::Response Apply(const v1::Command& c);
  v1::RangeResponse Range(const std::string& key, const std::string& end, std::int64_t limit,
                          std::int64_t now) const;

  std::int64_t revision = 1;
  std::int64_t compact_revision = 0;
  std::map<std::string, ModelKv> kv;            // stored rows, expired ones included
  std::map<std::int64_t, std::int64_t> leases;  // id -> granted ttl

 private:
  bool InRange(const std::string& k, const std::string& key, const std::string& end) const;
  const ModelKv* Live(const std::string& k, std::int64_t now) const;
  void Fill(const std::string& k, const ModelKv& m, v1::KeyValue* out) const;
  void Put(const v1::PutRequest& p, std::int64_t now, std::int64_t rev, v1::PutResponse* out);
  std::int64_t Delete(const v1::DeleteRangeRequest& d, std::int64_t now,
                      v1::DeleteRangeResponse* out);
  Status CheckPut(const v1::PutRequest& p, std::int64_t now, bool lease_first) const;
  bool Compare(const v1::Compare& c, std::int64_t now) const;
  v1::Response Txn(const v1::TxnRequest& t, std::int64_t now);
};

}  // namespace aspen::sm::testing
