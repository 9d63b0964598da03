// The mapping between the simulator's client operations (history.h) and the
// state machine's commands and responses (proto/aspen/sm/v1/command.proto):
//   put(k, v)          -> Put{key, value, prev_kv = true}
//   delete(k)          -> DeleteRange{key}
//   cas(k, e -> v)     -> Txn{compare VALUE(k) == e; success: Put{k, v}}
//   get(k)             -> a RangeRequest{key} served after ReadIndex
//   put(k, v, lease L) -> Put{key, value, lease = L, prev_kv = true}
//   range(slot)        -> a RangeRequest over the slot's prefix, after ReadIndex
//   grant(L, ttl)      -> LeaseGrant{ID = L, TTL = ttl}
//   revoke(L)          -> LeaseRevoke{ID = L}
//   keepalive(L)       -> Node::KeepAlive(L) (not a command; node_replica.cc)
// Every client command also carries kClientMarkField (an unknown field that
// sm/ ignores), so the simulator tells a client's LeaseRevoke from one the
// leader proposed for an expired lease.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aspen/sm/v1/command.pb.h"
#include "base/status.h"
#include "sim/history.h"
#include "sim/network.h"

namespace aspen::sim {

// The field number of the client mark (unknown to command.proto; node/'s
// request tag uses 1000 and 1001).
inline constexpr int kClientMarkField = 1500;

// The serialized Command for a write (kPut, kDelete, kCas, kLeaseGrant,
// kLeaseRevoke); now_ms is the proposing leader's clock.
std::string EncodeWrite(const Operation& op, std::int64_t now_ms);
// Whether a parsed command carries the client mark.
bool IsClientCommand(const sm::v1::Command& cmd);

// kGet: the key. kRange: every key of the op's slot prefix.
sm::v1::RangeRequest GetRequest(const Operation& op);

// Fills reply->read / reply->flag from the state machine's answer to a write.
// Internal (an error response or a result of the wrong type): a command the
// simulator built was refused, which is a bug of the simulator or of sm/.
Status DecodeWriteResponse(const Operation& op, const sm::v1::Response& response,
                           ClientReply* reply);

// The value an applied entry wrote, for resolving unknown writes (history.h):
// a put's value, or a successful CAS's; nullopt for anything else (and for
// data that is not a Command).
std::optional<std::string> WrittenValue(std::string_view entry_data,
                                        const sm::v1::Response& response);

// Fills reply->read (kGet) or reply->range (kRange) from a Range answer.
Status DecodeGetResponse(const Operation& op, const sm::v1::RangeResponse& response,
                         ClientReply* reply);

}  // namespace aspen::sim
