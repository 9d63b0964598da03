#include "server/metrics.h"

#include "client/grpc_status.h"

#include <cstdio>

namespace aspen::server {

void RequestMetrics::Record(std::string_view method, grpc::StatusCode code,
                            std::chrono::nanoseconds latency) {
  const double s = std::chrono::duration<double>(latency).count();
  std::lock_guard lock(mu_);
  auto key = std::make_pair(std::string(method), static_cast<int>(code));
  ++counts_[key];
  auto it = latency_.find(method);
  if (it == latency_.end()) it = latency_.emplace(std::string(method), Histogram{}).first;
  Histogram& h = it->second;
  std::size_t b = 0;
  while (b < kLatencyBucketsS.size() && s > kLatencyBucketsS[b]) ++b;
  ++h.buckets[b];
  ++h.count;
  h.sum_s += s;
}

void RequestMetrics::ProposalDone(bool committed) {
  --proposals_pending_;
  if (committed) {
    ++proposals_committed_;
  } else {
    ++proposals_failed_;
  }
}

std::uint64_t RequestMetrics::Count(std::string_view method, grpc::StatusCode code) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find(std::make_pair(std::string(method), static_cast<int>(code)));
  return it == counts_.end() ? 0 : it->second;
}

namespace {

void Line(std::string* out, std::string_view name, std::string_view labels, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  out->append(name);
  if (!labels.empty()) out->append("{").append(labels).append("}");
  out->append(" ").append(buf).append("\n");
}

void Help(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n");
  out->append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

void RequestMetrics::Render(std::string* out) const {
  Help(out, "aspen_proposals_committed_total", "counter", "Proposals applied.");
  Line(out, "aspen_proposals_committed_total", "", static_cast<double>(proposals_committed_));
  Help(out, "aspen_proposals_failed_total", "counter",
       "Proposals refused, timed out or with an unknown outcome.");
  Line(out, "aspen_proposals_failed_total", "", static_cast<double>(proposals_failed_));
  Help(out, "aspen_proposals_pending", "gauge", "Proposals submitted and not yet answered.");
  Line(out, "aspen_proposals_pending", "", static_cast<double>(proposals_pending_));
  std::lock_guard lock(mu_);
  Help(out, "aspen_grpc_requests_total", "counter", "Client requests by method and code.");
  for (const auto& [key, n] : counts_) {
    const std::string labels =
        "method=\"" + key.first + "\",code=\"" +
        std::string(client::GrpcCodeName(static_cast<grpc::StatusCode>(key.second))) + "\"";
    Line(out, "aspen_grpc_requests_total", labels, static_cast<double>(n));
  }
  Help(out, "aspen_grpc_request_duration_seconds", "histogram", "Client request latency.");
  for (const auto& [method, h] : latency_) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < h.buckets.size(); ++b) {
      cumulative += h.buckets[b];
      char le[32];
      if (b < kLatencyBucketsS.size()) {
        std::snprintf(le, sizeof le, "%g", kLatencyBucketsS[b]);
      } else {
        std::snprintf(le, sizeof le, "+Inf");
      }
      Line(out, "aspen_grpc_request_duration_seconds_bucket",
           "method=\"" + method + "\",le=\"" + le + "\"", static_cast<double>(cumulative));
    }
    Line(out, "aspen_grpc_request_duration_seconds_sum", "method=\"" + method + "\"", h.sum_s);
    Line(out, "aspen_grpc_request_duration_seconds_count", "method=\"" + method + "\"",
         static_cast<double>(h.count));
  }
}

std::string RenderMetrics(const MetricsSources& src) {
  std::string out;
  if (const node::NodeStatus* s = src.status) {
    auto gauge = [&](std::string_view name, std::string_view help, double v) {
      Help(&out, name, "gauge", help);
      Line(&out, name, "", v);
    };
    gauge("aspen_server_has_leader", "1 when a leader is known.", s->leader != 0 ? 1 : 0);
    gauge("aspen_server_is_leader", "1 when this member leads.",
          s->role == node::Role::kLeader ? 1 : 0);
    gauge("aspen_server_leader_id", "The leader's member id (0: none).",
          static_cast<double>(s->leader));
    gauge("aspen_raft_term", "Current raft term.", static_cast<double>(s->term));
    gauge("aspen_raft_commit_index", "Highest committed log index.",
          static_cast<double>(s->commit_index));
    gauge("aspen_raft_applied_index", "Highest applied log index.",
          static_cast<double>(s->applied_index));
    gauge("aspen_raft_last_index", "Last log index.", static_cast<double>(s->last_index));
    gauge("aspen_mvcc_revision", "Current store revision.", static_cast<double>(s->revision));
    Help(&out, "aspen_raft_readies_total", "counter", "Raft Readies handled.");
    Line(&out, "aspen_raft_readies_total", "", static_cast<double>(s->readies));
    Help(&out, "aspen_disk_synced_writes_total", "counter", "Synced store writes (fsyncs).");
    Line(&out, "aspen_disk_synced_writes_total", "", static_cast<double>(s->synced_writes));
  }
  if (const PeerTransportStats* t = src.transport) {
    Help(&out, "aspen_peer_sent_messages_total", "counter", "Raft messages sent to peers.");
    Line(&out, "aspen_peer_sent_messages_total", "", static_cast<double>(t->sent_messages));
    Help(&out, "aspen_peer_dropped_messages_total", "counter",
         "Raft messages dropped (queue full, peer unreachable).");
    Line(&out, "aspen_peer_dropped_messages_total", "", static_cast<double>(t->dropped_messages));
    Help(&out, "aspen_peer_broken_streams_total", "counter", "Peer streams that failed.");
    Line(&out, "aspen_peer_broken_streams_total", "", static_cast<double>(t->broken_streams));
    Help(&out, "aspen_peer_coalesced_messages_total", "counter",
         "Raft messages folded into the one queued before them for the same peer.");
    Line(&out, "aspen_peer_coalesced_messages_total", "",
         static_cast<double>(t->coalesced_messages));
  }
  if (const PeerServiceStats* p = src.peer_service) {
    Help(&out, "aspen_peer_received_messages_total", "counter", "Raft messages received.");
    Line(&out, "aspen_peer_received_messages_total", "", static_cast<double>(p->received_messages));
    Help(&out, "aspen_peer_rejected_batches_total", "counter",
         "Peer batches rejected (wrong cluster or member, malformed).");
    Line(&out, "aspen_peer_rejected_batches_total", "", static_cast<double>(p->rejected_batches));
  }
  if (src.requests != nullptr) src.requests->Render(&out);
  return out;
}

}  // namespace aspen::server
