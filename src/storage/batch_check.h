// Checks a WriteBatch before either engine applies it, so both engines reject
// the same batches the same way and nothing half-applies.
#pragma once

#include "base/status.h"
#include "storage/write_batch.h"

namespace aspen::storage {

// InvalidArgument (naming the op) for a DeleteRange whose end sorts before its
// begin. An empty range (begin == end) is allowed and deletes nothing.
Status CheckWriteBatch(const WriteBatch& batch);

}  // namespace aspen::storage
