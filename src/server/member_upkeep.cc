#include "server/member_upkeep.h"

#include <memory>
#include <utility>
#include <vector>

#include "base/thread_name.h"

namespace aspen::server {

using Clock = std::chrono::steady_clock;

void MemberUpkeep::Start() {
  thread_ = std::thread([this] {
    SetThreadName("member-upkeep");
    Run();
  });
}

void MemberUpkeep::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MemberUpkeep::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (!removed_.load()) {
      CheckRemoved();
      if (!removed_.load()) MaybePublish();
    }
    lock.lock();
    cv_.wait_for(lock, opts_.interval, [this] { return stopping_; });
  }
}

void MemberUpkeep::MaybePublish() {
  if (publishing_->load() || Clock::now() < next_publish_) return;
  const node::NodeStatus st = node_->GetStatus();
  if (st.leader == 0) return;
  for (const node::Member& m : node_->Members()) {
    if (m.id != opts_.self) continue;
    if (m.name == opts_.name && m.client_urls == opts_.client_urls) return;  // up to date
    publishing_->store(true);
    // Retry no sooner than an election timeout (another change may be pending).
    next_publish_ = Clock::now() + opts_.election_timeout;
    node_->PublishAttributes(opts_.name, opts_.client_urls,
                             [flag = publishing_, log = opts_.log](Status s) {
                               if (s.ok() && log)
                                 log("published this member's name and client URLs");
                               flag->store(false);
                             });
    return;
  }
}

void MemberUpkeep::MarkRemoved(std::string_view how) {
  if (removed_.exchange(true)) return;
  if (opts_.log) {
    opts_.log(std::string("the member has been permanently removed from the cluster (") +
              std::string(how) + "); stopping");
  }
}

void MemberUpkeep::CheckRemoved() {
  if (node_->Removed()) {
    MarkRemoved("applied its own removal");
    return;
  }
  const node::NodeStatus st = node_->GetStatus();
  const auto now = Clock::now();
  if (st.leader != 0) {
    had_leader_ = true;
    return;
  }
  if (had_leader_) {
    had_leader_ = false;
    leaderless_since_ = now;
    next_ask_ = now + 2 * opts_.election_timeout;
  }
  if (now < next_ask_) return;
  next_ask_ = now + opts_.election_timeout;
  if (AskPeersWhetherRemoved()) MarkRemoved("the other members no longer list it");
}

// True when a majority of the other members this member knows answer, and
// none of the answers lists this member.
bool MemberUpkeep::AskPeersWhetherRemoved() {
  std::vector<node::Member> others;
  for (const node::Member& m : node_->Members()) {
    if (m.id != opts_.self) others.push_back(m);
  }
  if (others.empty()) return false;
  std::size_t answered = 0;
  for (const node::Member& m : others) {
    const std::string target = UrlToTarget(m.peer_address);
    if (target.empty()) continue;
    peer::v1::ClusterInfo info;
    if (!FetchClusterInfo(target, opts_.election_timeout, &info).ok()) continue;
    if (info.cluster_id() != opts_.cluster_id) continue;
    for (const peer::v1::MemberInfo& listed : info.members()) {
      if (listed.id() == opts_.self) return false;
    }
    ++answered;
  }
  return answered > 0 && answered >= others.size() / 2 + 1;
}

}  // namespace aspen::server
