// Helpers for the sm tests: command builders and a harness that applies
// commands one entry at a time to a StateMachine on an in-memory store.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sm/reads.h"
#include "sm/state_machine.h"
#include "storage/mem_store.h"

namespace aspen::sm::testing {

inline v1::Command PutCmd(std::string key, std::string value, std::int64_t lease = 0,
                          std::int64_t ttl_ms = 0) {
  v1::Command c;
  c.mutable_put()->set_key(std::move(key));
  c.mutable_put()->set_value(std::move(value));
  c.mutable_put()->set_lease(lease);
  c.mutable_put()->set_ttl_ms(ttl_ms);
  return c;
}

inline v1::Command DelCmd(std::string key, std::string range_end = "", bool prev_kv = false) {
  v1::Command c;
  c.mutable_delete_range()->set_key(std::move(key));
  c.mutable_delete_range()->set_range_end(std::move(range_end));
  c.mutable_delete_range()->set_prev_kv(prev_kv);
  return c;
}

inline v1::Command GrantCmd(std::int64_t id, std::int64_t ttl_s) {
  v1::Command c;
  c.mutable_lease_grant()->set_id(id);
  c.mutable_lease_grant()->set_ttl(ttl_s);
  return c;
}

inline v1::Command RevokeCmd(std::int64_t id) {
  v1::Command c;
  c.mutable_lease_revoke()->set_id(id);
  return c;
}

inline v1::RequestOp PutOp(std::string key, std::string value) {
  v1::RequestOp op;
  op.mutable_request_put()->set_key(std::move(key));
  op.mutable_request_put()->set_value(std::move(value));
  return op;
}

inline v1::RequestOp DelOp(std::string key, std::string range_end = "") {
  v1::RequestOp op;
  op.mutable_request_delete_range()->set_key(std::move(key));
  op.mutable_request_delete_range()->set_range_end(std::move(range_end));
  return op;
}

inline v1::RequestOp RangeOp(std::string key, std::string range_end = "") {
  v1::RequestOp op;
  op.mutable_request_range()->set_key(std::move(key));
  op.mutable_request_range()->set_range_end(std::move(range_end));
  return op;
}

inline v1::Compare Cmp(std::string key, v1::Compare::CompareTarget target,
                       v1::Compare::CompareResult result, std::int64_t number,
                       std::string value = "") {
  v1::Compare c;
  c.set_key(std::move(key));
  c.set_target(target);
  c.set_result(result);
  switch (target) {
    case v1::Compare::VERSION: c.set_version(number); break;
    case v1::Compare::CREATE: c.set_create_revision(number); break;
    case v1::Compare::MOD: c.set_mod_revision(number); break;
    case v1::Compare::LEASE: c.set_lease(number); break;
    default: c.set_value(std::move(value)); break;
  }
  return c;
}

inline std::string Serialize(const v1::Command& c) {
  std::string s;
  EXPECT_TRUE(c.SerializeToString(&s));
  return s;
}

class Harness {
 public:
  Harness() { Reopen(); }

  void Reopen() {
    auto sm = StateMachine::Open(&store_);
    ASSERT_TRUE(sm.ok()) << sm.status().ToString();
    sm_ = std::move(*sm);
  }

  // Applies one command as one entry; now_ms defaults to the harness clock.
  v1::Response Apply(v1::Command c) {
    if (c.now_ms() == 0) c.set_now_ms(now_ms);
    std::string data = Serialize(c);
    return ApplyRaw(data);
  }

  v1::Response ApplyRaw(std::string_view data) {
    const Entry e{sm_->applied_index() + 1, data};
    auto r = sm_->ApplyAndWrite(std::span<const Entry>(&e, 1));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)[0] : v1::Response();
  }

  v1::RangeResponse Range(v1::RangeRequest req, RangeOptions options = {}) {
    auto snap = store_.GetSnapshot();
    auto r = sm::Range(*snap, req, now_ms, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : v1::RangeResponse();
  }

  v1::RangeResponse Get(std::string key, std::string range_end = "") {
    v1::RangeRequest req;
    req.set_key(std::move(key));
    req.set_range_end(std::move(range_end));
    return Range(req);
  }

  // The single live key, or a KeyValue with an empty key when absent.
  v1::KeyValue GetOne(const std::string& key) {
    v1::RangeResponse r = Get(key);
    return r.kvs_size() == 1 ? r.kvs(0) : v1::KeyValue();
  }

  StateMachine& sm() { return *sm_; }
  storage::MemStore& store() { return store_; }

  std::int64_t now_ms = 1'000'000;

 private:
  storage::MemStore store_;
  std::unique_ptr<StateMachine> sm_;
};

inline Code ErrorCode(const v1::Response& r) {
  return static_cast<Code>(r.error().code());
}

}  // namespace aspen::sm::testing
