#include "cli/output.h"

#include <iostream>
#include <string>

#include "cli/common.h"

namespace aspen::cli {

namespace pb = etcdserverpb;
using Json = nlohmann::json;

Json PutJson(const pb::PutResponse& r) {
  Json j = {{"header", HeaderJson(r.header())}};
  if (r.has_prev_kv()) j["prev_kv"] = KvJson(r.prev_kv());
  return j;
}

Json RangeJson(const pb::RangeResponse& r) {
  Json kvs = Json::array();
  for (const mvccpb::KeyValue& kv : r.kvs()) kvs.push_back(KvJson(kv));
  Json j = {{"header", HeaderJson(r.header())}, {"kvs", kvs}, {"count", r.count()}};
  if (r.more()) j["more"] = true;
  return j;
}

Json DeleteJson(const pb::DeleteRangeResponse& r) {
  Json j = {{"header", HeaderJson(r.header())}, {"deleted", r.deleted()}};
  if (r.prev_kvs_size() > 0) {
    Json prev = Json::array();
    for (const mvccpb::KeyValue& kv : r.prev_kvs()) prev.push_back(KvJson(kv));
    j["prev_kvs"] = prev;
  }
  return j;
}

Json TxnJson(const pb::TxnResponse& r) {
  Json responses = Json::array();
  for (const pb::ResponseOp& op : r.responses()) {
    if (op.has_response_put()) {
      responses.push_back({{"response_put", PutJson(op.response_put())}});
    } else if (op.has_response_range()) {
      responses.push_back({{"response_range", RangeJson(op.response_range())}});
    } else if (op.has_response_delete_range()) {
      responses.push_back({{"response_delete_range", DeleteJson(op.response_delete_range())}});
    } else if (op.has_response_txn()) {
      responses.push_back({{"response_txn", TxnJson(op.response_txn())}});
    } else {
      responses.push_back(Json::object());
    }
  }
  return {
      {"header", HeaderJson(r.header())}, {"succeeded", r.succeeded()}, {"responses", responses}};
}

void PrintPut(const pb::PutResponse& r) {
  std::cout << "OK\n";
  if (r.has_prev_kv()) std::cout << r.prev_kv().key() << "\n" << r.prev_kv().value() << "\n";
}

void PrintRange(const pb::RangeResponse& r, bool keys_only, bool count_only) {
  if (count_only) {
    std::cout << r.count() << "\n";
    return;
  }
  // etcdctl prints the (empty) value line under --keys-only too.
  for (const mvccpb::KeyValue& kv : r.kvs()) {
    std::cout << kv.key() << "\n" << (keys_only ? std::string() : kv.value()) << "\n";
  }
}

void PrintDelete(const pb::DeleteRangeResponse& r) {
  std::cout << r.deleted() << "\n";
  for (const mvccpb::KeyValue& kv : r.prev_kvs()) {
    std::cout << kv.key() << "\n" << kv.value() << "\n";
  }
}

void PrintTxn(const pb::TxnRequest& request, const pb::TxnResponse& r) {
  std::cout << (r.succeeded() ? "SUCCESS" : "FAILURE") << "\n";
  const auto& ops = r.succeeded() ? request.success() : request.failure();
  for (int i = 0; i < r.responses_size(); ++i) {
    std::cout << "\n";
    const pb::ResponseOp& op = r.responses(i);
    if (op.has_response_put()) {
      PrintPut(op.response_put());
    } else if (op.has_response_range()) {
      const bool known = i < ops.size() && ops[i].has_request_range();
      PrintRange(op.response_range(), known && ops[i].request_range().keys_only(),
                 known && ops[i].request_range().count_only());
    } else if (op.has_response_delete_range()) {
      PrintDelete(op.response_delete_range());
    } else {
      std::cout << "(nested txn: use -o json)\n";
    }
  }
}

}  // namespace aspen::cli
