// Txn: compare, then the success or failure branch, as one write transaction
// (etcd's applyTxn). All compares on the chosen path, nested ones included,
// are evaluated against the state before the transaction; then every op on
// the path is checked (lease exists, key exists for ignore_*, range revision);
// only then is anything written, so a failing Txn changes nothing. The
// top-level header carries the revision after the Txn.
#include <vector>

#include "sm/ops.h"

namespace aspen::sm::internal {
namespace {

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

bool CompareKv(const v1::Compare& c, const KvMeta& meta, std::string_view value) {
  int r = 0;
  switch (c.target()) {
    case v1::Compare::VALUE: r = Cmp(value, std::string_view(c.value())); break;
    case v1::Compare::VERSION: r = Cmp(meta.version, c.version()); break;
    case v1::Compare::CREATE: r = Cmp(meta.create_revision, c.create_revision()); break;
    case v1::Compare::MOD: r = Cmp(meta.mod_revision, c.mod_revision()); break;
    case v1::Compare::LEASE: r = Cmp(meta.lease, c.lease()); break;
    default: ASPEN_ASSERT(false);  // Validate rejects unknown targets
  }
  switch (c.result()) {
    case v1::Compare::EQUAL: return r == 0;
    case v1::Compare::NOT_EQUAL: return r != 0;
    case v1::Compare::GREATER: return r > 0;
    case v1::Compare::LESS: return r < 0;
    default: ASPEN_ASSERT(false);  // Validate rejects unknown results
  }
  return false;
}

// etcd's applyCompare: every live key in the range must satisfy the compare;
// with no key, a value compare fails and the others compare against zero.
Status ApplyCompare(const KvView& view, std::int64_t now_ms, const v1::Compare& c, bool* ok) {
  bool any = false;
  bool all = true;
  ASPEN_RETURN_IF_ERROR(
      ForEachLiveKv(view, MakeKeyRange(c.key(), c.range_end()), now_ms,
                    [&](std::string_view, const KvMeta& meta, std::string_view value) {
                      any = true;
                      all = CompareKv(c, meta, value);
                      return all;
                    }));
  if (!any) {
    *ok = c.target() != v1::Compare::VALUE && CompareKv(c, KvMeta{}, {});
  } else {
    *ok = all;
  }
  return Status::Ok();
}

// Appends the outcome of this txn and of every nested txn on the chosen path,
// in pre-order (etcd's compareToPath).
Status EvalPath(const KvView& view, std::int64_t now_ms, const v1::TxnRequest& req,
                std::vector<bool>* path) {
  bool succeeded = true;
  for (const v1::Compare& c : req.compare()) {
    ASPEN_RETURN_IF_ERROR(ApplyCompare(view, now_ms, c, &succeeded));
    if (!succeeded) break;
  }
  path->push_back(succeeded);
  for (const v1::RequestOp& op : succeeded ? req.success() : req.failure()) {
    if (op.has_request_txn()) ASPEN_RETURN_IF_ERROR(EvalPath(view, now_ms, op.request_txn(), path));
  }
  return Status::Ok();
}

Status CheckPath(const KvView& view, std::int64_t now_ms, std::int64_t revision,
                 std::int64_t compact, const v1::TxnRequest& req, const std::vector<bool>& path,
                 std::size_t* pos) {
  ASPEN_ASSERT(*pos < path.size());
  const bool succeeded = path[(*pos)++];
  for (const v1::RequestOp& op : succeeded ? req.success() : req.failure()) {
    if (op.has_request_put()) {
      ASPEN_RETURN_IF_ERROR(CheckPut(view, now_ms, op.request_put(), PutCheckOrder::kKeyFirst));
    } else if (op.has_request_range()) {
      ASPEN_RETURN_IF_ERROR(CheckRangeRevision(op.request_range(), revision, compact));
    } else if (op.has_request_txn()) {
      ASPEN_RETURN_IF_ERROR(
          CheckPath(view, now_ms, revision, compact, op.request_txn(), path, pos));
    }
  }
  return Status::Ok();
}

Status ExecPath(WriteTxn& txn, const v1::TxnRequest& req, const std::vector<bool>& path,
                std::size_t* pos, v1::TxnResponse* resp) {
  ASPEN_ASSERT(*pos < path.size());
  const bool succeeded = path[(*pos)++];
  resp->set_succeeded(succeeded);
  // As in etcd, a nested txn's header is present but empty; each inner op's
  // header has the revision as of that op (put: the txn's write revision).
  resp->mutable_header();
  for (const v1::RequestOp& op : succeeded ? req.success() : req.failure()) {
    v1::ResponseOp* out = resp->add_responses();
    switch (op.request_case()) {
      case v1::RequestOp::kRequestRange: {
        // The revision was checked against the state before the txn; reads
        // at it or at 0 see the txn's own earlier writes, as in etcd; an older
        // revision is read from the history.
        v1::RangeRequest range = op.request_range();
        if (range.revision() >= txn.base_revision()) range.set_revision(0);
        ASPEN_RETURN_IF_ERROR(ExecRange(txn.view(), txn.revision(), txn.compact_revision(),
                                        txn.now_ms(), range, RangePlanOptions{},
                                        out->mutable_response_range()));
        break;
      }
      case v1::RequestOp::kRequestPut:
        ASPEN_RETURN_IF_ERROR(ExecPut(txn, op.request_put(), out->mutable_response_put()));
        break;
      case v1::RequestOp::kRequestDeleteRange:
        ASPEN_RETURN_IF_ERROR(
            ExecDeleteRange(txn, op.request_delete_range(), out->mutable_response_delete_range()));
        break;
      case v1::RequestOp::kRequestTxn:
        ASPEN_RETURN_IF_ERROR(
            ExecPath(txn, op.request_txn(), path, pos, out->mutable_response_txn()));
        break;
      case v1::RequestOp::REQUEST_NOT_SET: ASPEN_ASSERT(false);  // Validate rejects it
    }
  }
  return Status::Ok();
}

}  // namespace

Status ExecTxn(WriteTxn& txn, const v1::TxnRequest& req, v1::TxnResponse* resp) {
  ASPEN_ASSERT(!txn.changed());
  std::vector<bool> path;
  ASPEN_RETURN_IF_ERROR(EvalPath(txn.view(), txn.now_ms(), req, &path));
  std::size_t pos = 0;
  ASPEN_RETURN_IF_ERROR(CheckPath(txn.view(), txn.now_ms(), txn.base_revision(),
                                  txn.compact_revision(), req, path, &pos));
  ASPEN_ASSERT(pos == path.size());
  pos = 0;
  ASPEN_RETURN_IF_ERROR(ExecPath(txn, req, path, &pos, resp));
  ASPEN_ASSERT(pos == path.size());
  resp->mutable_header()->set_revision(txn.revision());
  return Status::Ok();
}

}  // namespace aspen::sm::internal
