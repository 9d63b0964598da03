// Physical compaction of the MVCC history (sm/history.h). The Compact command
// only records compact_revision through Raft; every node then deletes the
// rows below it on its own, one bounded batch per timer tick, on the loop
// thread (the only writer of the store). Each batch is unsynced: a crash
// loses at most some deletions, which the next step redoes.
#include "base/limits.h"
#include "node/node_impl.h"
#include "sm/history.h"

namespace aspen::node {

bool Node::Impl::RunCompactionStep() {
  if (sm->compact_revision() <= compact_done) return false;
  auto snap = store->GetSnapshot();
  Result<sm::CompactStepResult> step = sm::CompactStep(*snap, limits::kCompactionBatchEvents);
  if (!step.ok()) {
    Log("history compaction failed: " + step.status().ToString());
    return false;
  }
  if (step->batch.count() == 0) return false;
  if (Status s = store->Write(step->batch, /*sync=*/false); !s.ok()) {
    Fatal(s);
    return false;
  }
  compact_done = step->state.done_revision();
  if (opts.on_applied) opts.on_applied(sm->revision());
  return true;
}

}  // namespace aspen::node
