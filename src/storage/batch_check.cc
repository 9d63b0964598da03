#include "storage/batch_check.h"

#include <string>

namespace aspen::storage {

Status CheckWriteBatch(const WriteBatch& batch) {
  const auto& ops = batch.ops();
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const WriteBatch::Op& op = ops[i];
    ASPEN_ASSERT(static_cast<std::size_t>(op.cf) < kNumCfs);
    if (op.type == WriteBatch::OpType::kDeleteRange && op.value < op.key) {
      return Status::InvalidArgument("write batch op " + std::to_string(i) + ": DeleteRange on " +
                                     std::string(CfName(op.cf)) +
                                     " has its end key before its begin key");
    }
  }
  return Status::Ok();
}

}  // namespace aspen::storage
