// Raft: the consensus algorithm as a deterministic state machine
// (etcd-io/raft raft.go). No threads, no I/O, no clock: time is Tick(), input
// is Step(), output is collected by RawNode into a Ready (ready.h).
//
// Applications use RawNode (raw_node.h), which adds the Ready/Advance protocol
// and validates messages from the network; Raft itself trusts its caller.
//
// Split of the code: raft.cc (state transitions, terms, votes, ticks),
// raft_leader.cc (replication, commit, heartbeats, reads, transfers),
// raft_follower.cc (follower and candidate steps, append/snapshot handling),
// raft_conf.cc (membership changes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "raft/config.h"
#include "raft/error.h"
#include "raft/log.h"
#include "raft/read_only.h"
#include "raft/tracker/tracker.h"
#include "raft/types.h"

namespace aspen::raft {

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
std::string_view RoleName(Role r);

// Volatile state the application may want to observe (not persisted).
struct SoftState {
  NodeId lead = kNone;
  Role role = Role::kFollower;

  bool operator==(const SoftState&) const = default;
};

// Vote requests with this context come from a leadership transfer: they bypass
// the vote lease (and the pre-vote round).
inline constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

class Raft {
 public:
  // Requires config.Validate().ok() and a readable, consistent storage (RawNode
  // checks both and reports errors).
  explicit Raft(const Config& config);

  Raft(const Raft&) = delete;
  Raft& operator=(const Raft&) = delete;

  // Feeds one message (local or from a peer). Errors: kProposalDropped,
  // kLimitExceeded, kNoLeader for requests that cannot be served now;
  // kInvalidArgument for a message that breaks Raft's rules (no state changed).
  Error Step(const pb::Message& m);
  // One logical clock tick.
  void Tick();

  // The application persisted the log up to (index, term): the leader may
  // now count itself toward the commit quorum for those entries.
  void OnPersisted(std::uint64_t index, std::uint64_t term);
  // Sole voter and leader: commits the whole log, including entries not yet
  // persisted, on the promise that the application persists them together
  // with their application in one atomic write (Config::
  // sole_voter_commits_in_ready). Answers whether the commit index moved.
  bool CommitUnpersistedAsSoleVoter();
  // The application applied committed entries carrying `payload_bytes` of
  // data (leader: they no longer count toward the uncommitted-size limit).
  void OnApplied(std::uint64_t payload_bytes);
  // Applies a committed conf change; answers the new configuration.
  // kInvalidArgument (configuration unchanged) when the change is invalid
  // against the current configuration, e.g. it would remove the last voter.
  Result<pb::ConfState> ApplyConfChange(const pb::ConfChange& cc);
  // Validates a conf change against the current configuration.
  Error CheckConfChange(const pb::ConfChange& cc) const;

  SoftState soft_state() const { return SoftState{lead_, role_}; }
  pb::HardState hard_state() const;
  // Moves out the outgoing messages / read states gathered so far.
  std::vector<pb::Message> TakeMessages();
  std::vector<ReadState> TakeReadStates();
  bool HasMessages() const { return !msgs_.empty(); }
  bool HasReadStates() const { return !read_states_.empty(); }

  NodeId id() const { return id_; }
  NodeId lead() const { return lead_; }
  Role role() const { return role_; }
  std::uint64_t term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  std::uint64_t pending_conf_index() const { return pending_conf_index_; }
  // Called when the applied index advanced: starts the transfer campaign a
  // MsgTimeoutNow asked for once no committed conf change is left unapplied.
  void MaybeCampaignDeferredTransfer();
  bool transfer_campaign_deferred() const { return deferred_transfer_ticks_ > 0; }
  std::uint64_t uncommitted_size() const { return uncommitted_size_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  int election_elapsed() const { return election_elapsed_; }
  std::size_t pending_read_count() const {
    return read_only_.size() + pending_read_index_messages_.size();
  }
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  const ProgressTracker& tracker() const { return trk_; }
  // Voters may campaign; learners and removed nodes may not.
  bool Promotable() const { return trk_.IsVoter(id_); }

 private:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  // raft.cc
  void Send(pb::Message m);
  void Reset(std::uint64_t term);
  void BecomeFollower(std::uint64_t term, NodeId lead);
  void BecomePreCandidate();
  void BecomeCandidate();
  void BecomeLeader();
  void Hup(CampaignType t);
  void Campaign(CampaignType t);
  VoteResult Poll(NodeId from, bool granted);
  bool HasUnappliedConfChanges() const;
  Error StepInner(const pb::Message& m);
  Error StepByTerm(const pb::Message& m, bool* handled);
  void HandleVoteRequest(const pb::Message& m);
  void TickElection();
  void TickHeartbeat();
  void ResetRandomizedElectionTimeout();
  std::uint64_t NextRandom();
  void CheckInvariants() const;

  // raft_leader.cc
  Error StepLeader(const pb::Message& m);
  Error HandlePropose(const pb::Message& m);
  Error AppendEntries(EntryVec* ents);
  bool MaybeCommit();
  bool CommittedEntryInCurrentTerm() const;
  void BcastAppend();
  bool MaybeSendAppend(NodeId to, bool send_if_empty);
  bool SendSnapshot(NodeId to, Progress& pr);
  void BcastHeartbeat(const std::string& ctx);
  void SendHeartbeat(NodeId to, const std::string& ctx);
  void HandleAppendResponse(const pb::Message& m, Progress& pr);
  void HandleHeartbeatResponse(const pb::Message& m, Progress& pr);
  void HandleSnapStatus(const pb::Message& m, Progress& pr);
  Error HandleTransferLeader(const pb::Message& m);
  void AbortLeaderTransfer() { lead_transferee_ = kNone; }
  Error HandleReadIndexLeader(const pb::Message& m);
  Error SendReadIndex(const pb::Message& m);
  void RespondToReadIndex(const pb::Message& req, std::uint64_t index);
  void ReleasePendingReadIndexMessages();

  // raft_follower.cc
  Error StepFollower(const pb::Message& m);
  Error StepCandidate(const pb::Message& m);
  Error HandleAppendEntries(const pb::Message& m);
  Error HandleHeartbeat(const pb::Message& m);
  void HandleSnapshot(const pb::Message& m);
  bool Restore(const pb::Snapshot& s);

  const NodeId id_;
  // Invariant: term_ never decreases; vote_ is kNone or the node voted for in term_.
  std::uint64_t term_ = 0;
  NodeId vote_ = kNone;
  // Invariant: lead_ == id_ iff role_ == kLeader.
  NodeId lead_ = kNone;
  Role role_ = Role::kFollower;
  RaftLog log_;
  ProgressTracker trk_;
  std::vector<pb::Message> msgs_;
  std::vector<ReadState> read_states_;

  const std::uint64_t max_msg_size_;
  const std::uint64_t max_uncommitted_size_;
  // Leader only. Invariant: 0 on non-leaders. Payload bytes of entries
  // appended in this term and not yet applied.
  std::uint64_t uncommitted_size_ = 0;
  // Leader only: the member leadership is being transferred to (kNone: none).
  // Invariant: kNone unless role_ == kLeader.
  NodeId lead_transferee_ = kNone;
  // Leader only: index of the latest conf change entry appended. A new conf
  // change is refused while it is above the applied index.
  std::uint64_t pending_conf_index_ = 0;
  ReadOnly read_only_;
  const ReadOnlyOption read_only_option_;
  const std::size_t max_pending_reads_;
  // Leader only: reads that arrived before it committed an entry of its term.
  std::vector<pb::Message> pending_read_index_messages_;

  // Follower only (0 otherwise): a MsgTimeoutNow arrived while a committed
  // conf change was not applied yet, so the transfer campaign waits until it
  // is (MaybeCampaignDeferredTransfer), for at most this many more ticks.
  int deferred_transfer_ticks_ = 0;
  // Ticks since the last election timeout reset (followers: since hearing from
  // the leader; leaders: since the last check-quorum round).
  int election_elapsed_ = 0;
  // Leader only: ticks since the last heartbeat broadcast.
  int heartbeat_elapsed_ = 0;
  const bool check_quorum_;
  const bool pre_vote_;
  const bool disable_proposal_forwarding_;
  const int heartbeat_timeout_;
  const int election_timeout_;
  // Invariant: in [election_timeout_, 2 * election_timeout_).
  int randomized_election_timeout_ = 0;
  const TestingBug testing_bug_;
  // splitmix64 state, seeded from Config::rand_seed and the id.
  std::uint64_t rng_state_;
};

}  // namespace aspen::raft
