// Printing of KV responses, shared by put/get/del, txn and cas.
//
// Table form (-o table) follows `etcdctl -w simple`: put prints "OK", a range
// prints each key and value on their own lines, a delete prints the count; a
// txn prints SUCCESS or FAILURE, then each response after an empty line. JSON
// (-o json) objects mirror the protobuf field names; keys and values base64.
#pragma once

#include <nlohmann/json.hpp>

#include "etcdserverpb/kv.pb.h"

namespace aspen::cli {

nlohmann::json PutJson(const etcdserverpb::PutResponse& r);
nlohmann::json RangeJson(const etcdserverpb::RangeResponse& r);
nlohmann::json DeleteJson(const etcdserverpb::DeleteRangeResponse& r);
// {"header", "succeeded", "responses": [{"response_put"|"response_range"|
// "response_delete_range"|"response_txn": {...}}]}
nlohmann::json TxnJson(const etcdserverpb::TxnResponse& r);

void PrintPut(const etcdserverpb::PutResponse& r);
void PrintRange(const etcdserverpb::RangeResponse& r, bool keys_only, bool count_only);
void PrintDelete(const etcdserverpb::DeleteRangeResponse& r);
// request gives the keys-only/count-only choice of each range.
void PrintTxn(const etcdserverpb::TxnRequest& request, const etcdserverpb::TxnResponse& r);

}  // namespace aspen::cli
